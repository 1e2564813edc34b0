/**
 * One log directory (`--data-dir`) and the partition logs in it, with Kafka's bookkeeping files:
 *
 *   .samsa-clean-shutdown             written last by a clean close, removed at open: its
 *                                     absence at open means the last stop was unclean
 *   recovery-point-offset-checkpoint  per partition, the offset below which all is fsynced
 *   log-start-offset-checkpoint       per partition, the log start offset (DeleteRecords)
 *   <topic>-<p>.<random>-delete       a deleted partition directory not yet removed (deleteAll)
 *   .samsa-segment-spare.<n>          a spare segment file, all its blocks allocated, that the
 *                                     next segment found fast moves onto (segment-spares.ts)
 *
 * Checkpoint files use Kafka's text format: a version line (0), a count line, then one
 * "topic partition offset" line per partition. They are written atomically (temp, fsync, rename).
 *
 * After an unclean stop, each log scans only the segments at or past its recovery point, so
 * recovery time grows with the unflushed tail, not with the size of the log.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './log-config.js';
import { nodeFileSystem, type LogFileSystem } from './log-file-system.js';
import type { PageCacheBudget } from './page-cache-budget.js';
import { DELETED_DIRECTORY_SUFFIX, PartitionLog, partitionDirectory } from './partition-log.js';
import { removeLeftoverSpares, SegmentSpares } from './segment-spares.js';

export const CLEAN_SHUTDOWN_FILE = '.samsa-clean-shutdown';
export const RECOVERY_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_CHECKPOINT_FILE = 'log-start-offset-checkpoint';

const PARTITION_DIRECTORY = /^(.+)-(\d+)$/;

export interface LogDirectoryOptions {
  readonly root: string;
  readonly fs?: LogFileSystem;
  readonly now?: () => number;
  readonly log?: Logger;
  /** Config of a partition when it is opened (its topic's settings); default Kafka's. */
  readonly configFor?: (topic: string, partition: number) => LogConfig;
  /** Shared by every log of the directory (page-cache-budget.ts); none: the kernel decides what stays cached. */
  readonly pageCacheBudget?: PageCacheBudget;
  /**
   * Size of the spare segment file fast segments move onto (segment-spares.ts): the broker's
   * log.segment.bytes; 0 or absent: no spare, fast segments preallocate in place.
   */
  readonly segmentSpareBytes?: number;
}

/** A spare is allocated in steps of this, one at a time on the thread pool. */
const SPARE_STEP_BYTES = 64 * 1024 * 1024;
/** After a spare could not be allocated, the next try waits this long. */
const SPARE_RETRY_AFTER_MS = 60_000;
/** A segment on a spare idle this long gives back the blocks past its end (and rolls at its next append). */
const SPARE_IDLE_RELEASE_MS = 10_000;
const SPARE_RELEASE_CHECK_MS = 2_000;

export class LogDirectory {
  readonly root: string;
  /** True when the previous stop was unclean (no marker found). */
  readonly recoveredFromUncleanStop: boolean;
  private readonly fs: LogFileSystem;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly configFor: (topic: string, partition: number) => LogConfig;
  private readonly pageCacheBudget: PageCacheBudget | undefined;
  private readonly logs = new Map<string, PartitionLog>();
  private readonly spares: SegmentSpares | undefined;
  /** The background checkpoint writes, one after another (checkpointInBackground). */
  private checkpointWrites: Promise<void> = Promise.resolve();
  /** A background checkpoint queued and not started yet, which a new call joins. */
  private checkpointQueued: Promise<void> | undefined;

  constructor(options: LogDirectoryOptions) {
    this.root = options.root;
    this.fs = options.fs ?? nodeFileSystem;
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.configFor = options.configFor ?? (() => DEFAULT_LOG_CONFIG);
    this.pageCacheBudget = options.pageCacheBudget;
    this.fs.mkdir(this.root);
    // Partition directories whose deletion a crash cut short (PartitionLog.deleteAll).
    for (const name of this.fs.readdir(this.root)) {
      if (name.endsWith(DELETED_DIRECTORY_SUFFIX)) this.fs.rmdir(path.join(this.root, name));
    }
    const spareBytes = options.segmentSpareBytes ?? 0;
    // SegmentSpares removes leftovers itself; with spares off since, they are removed here.
    if (spareBytes <= 0) removeLeftoverSpares(this.fs, this.root);
    this.spares = spareBytes > 0 ? new SegmentSpares({ root: this.root, fs: this.fs, bytes: spareBytes, stepBytes: SPARE_STEP_BYTES, retryAfterMs: SPARE_RETRY_AFTER_MS, idleReleaseMs: SPARE_IDLE_RELEASE_MS, releaseCheckMs: SPARE_RELEASE_CHECK_MS, now: this.now, log: this.log }) : undefined;
    const marker = path.join(this.root, CLEAN_SHUTDOWN_FILE);
    const clean = this.fs.exists(marker);
    const hasData = this.fs.readdir(this.root).some((name) => PARTITION_DIRECTORY.test(name));
    this.recoveredFromUncleanStop = !clean && hasData;
    if (clean) {
      this.fs.unlink(marker);
      this.fs.fsyncDirectory(this.root);
    }
    const recoveryPoints = this.readCheckpoint(RECOVERY_CHECKPOINT_FILE);
    const logStarts = this.readCheckpoint(LOG_START_CHECKPOINT_FILE);
    for (const name of this.fs.readdir(this.root)) {
      const match = PARTITION_DIRECTORY.exec(name);
      if (!match) continue;
      const [, topic, partitionText] = match;
      const partition = Number(partitionText);
      const key = `${topic} ${partition}`;
      this.logs.set(name, new PartitionLog({
        directory: path.join(this.root, name),
        config: this.configFor(topic!, partition),
        fs: this.fs,
        now: this.now,
        log: this.log,
        pageCacheBudget: this.pageCacheBudget,
        spares: this.spares,
        recoveryPoint: recoveryPoints.get(key) ?? 0,
        logStartOffset: logStarts.get(key) ?? 0,
        recover: !clean,
      }));
    }
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(`${topic}-${partition}`);
  }

  getOrCreate(topic: string, partition: number, config?: LogConfig): PartitionLog {
    const name = `${topic}-${partition}`;
    let log = this.logs.get(name);
    if (!log) {
      log = new PartitionLog({ directory: partitionDirectory(this.root, topic, partition), config: config ?? this.configFor(topic, partition), fs: this.fs, now: this.now, log: this.log, pageCacheBudget: this.pageCacheBudget, spares: this.spares, created: true });
      this.logs.set(name, log);
    }
    return log;
  }

  delete(topic: string, partition: number): void {
    const name = `${topic}-${partition}`;
    const log = this.logs.get(name);
    // Out of the map whatever the deletion does: a log without segments must not be used again.
    this.logs.delete(name);
    log?.deleteAll();
  }

  entries(): [string, PartitionLog][] {
    return [...this.logs.entries()];
  }

  /**
   * Writes both checkpoint files from the logs' current recovery points and start offsets, on
   * this thread (a clean stop, after the background writes: close()).
   */
  checkpoint(): void {
    const { recovery, starts } = this.checkpointTexts();
    this.fs.writeFileAtomic(path.join(this.root, RECOVERY_CHECKPOINT_FILE), recovery);
    this.fs.writeFileAtomic(path.join(this.root, LOG_START_CHECKPOINT_FILE), starts);
  }

  /**
   * The same on the thread pool (the periodic checkpoint, DeleteRecords): each file's fsync and
   * its directory's wait for the device, 0.1-0.6 s under load here, which the broker's event loop
   * must not (docs/log.md, "Spare segments"). Writes are serialized, one after another, each
   * taking the offsets when it starts; a call while one is queued joins it. Resolves once the
   * files are durable.
   */
  checkpointInBackground(): Promise<void> {
    const write = this.fs.writeFileAtomicInBackground?.bind(this.fs);
    if (!write) {
      this.checkpoint();
      return Promise.resolve();
    }
    if (this.checkpointQueued) return this.checkpointQueued;
    const queued = this.checkpointWrites.then(async () => {
      if (this.checkpointQueued === queued) this.checkpointQueued = undefined;
      const { recovery, starts } = this.checkpointTexts();
      await write(path.join(this.root, RECOVERY_CHECKPOINT_FILE), recovery);
      await write(path.join(this.root, LOG_START_CHECKPOINT_FILE), starts);
    });
    this.checkpointQueued = queued;
    this.checkpointWrites = queued.catch(() => undefined);
    return queued;
  }

  private checkpointTexts(): { recovery: Uint8Array; starts: Uint8Array } {
    const recovery: string[] = [];
    const starts: string[] = [];
    for (const [name, log] of this.logs) {
      const match = PARTITION_DIRECTORY.exec(name)!;
      recovery.push(`${match[1]} ${match[2]} ${log.recoveryPoint}`);
      starts.push(`${match[1]} ${match[2]} ${log.logStartOffset}`);
    }
    const text = (lines: string[]): Uint8Array => new TextEncoder().encode(['0', String(lines.length), ...lines, ''].join('\n'));
    return { recovery: text(recovery), starts: text(starts) };
  }

  /**
   * Flushes every log, writes the checkpoints, closes the logs, then the clean-shutdown marker,
   * unless a log could not be flushed (e.g. offline after a failed fsync): then the next start
   * must recover, as Kafka writes no clean-shutdown file for an offline log directory.
   */
  async close(): Promise<void> {
    const flushed = await Promise.all([...this.logs.values()].map((log) => log.flush().then(() => true, () => false)));
    await this.checkpointWrites; // a background write finishing after this one would undo it
    this.checkpoint();
    for (const log of this.logs.values()) log.close();
    this.spares?.close();
    if (flushed.every(Boolean)) this.fs.writeFileAtomic(path.join(this.root, CLEAN_SHUTDOWN_FILE), new Uint8Array(0));
  }

  private readCheckpoint(file: string): Map<string, number> {
    const entries = new Map<string, number>();
    const full = path.join(this.root, file);
    if (!this.fs.exists(full)) return entries;
    const lines = Buffer.from(this.fs.readFile(full)).toString('utf8').split('\n');
    const count = Number(lines[1]);
    if (lines[0] !== '0' || !Number.isInteger(count)) {
      this.log?.warn({ file: full }, 'unreadable checkpoint file ignored; full recovery');
      return entries;
    }
    for (const line of lines.slice(2, 2 + count)) {
      const parts = line.split(' ');
      const offset = Number(parts.pop());
      const partition = parts.pop();
      if (Number.isSafeInteger(offset) && partition !== undefined) entries.set(`${parts.join(' ')} ${partition}`, offset);
    }
    return entries;
  }

}
