/**
 * The commit log of one partition replica: an ordered set of segments in `<topic>-<partition>/`,
 * the last of which (the active segment) takes appends.
 *
 *   logStartOffset        first offset a reader may ask for (advanced by retention/DeleteRecords)
 *   recoveryPoint         offsets below it are fsynced; recovery scans only from its segment on
 *   highWatermark         set from outside (replication); reads can be capped at it
 *   logEndOffset          offset the next appended record gets
 *
 *   segments:  [0 .. 99] [100 .. 250] [251 .. (active)]
 *                 ^logStartOffset=40        ^recoveryPoint=180     ^highWatermark ^logEndOffset
 *
 * Append path: parse each batch's 61-byte header, check its CRC-32C and size, rewrite its base
 * offset in place (and, for LogAppendTime, its max timestamp and CRC), and write the bytes as
 * they came: records are never decoded here. Compaction is the one path that decodes records.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { KafkaError } from '../protocol/kafka-error.js';
import type { LogConfig } from './log-config.js';
import { nodeFileSystem, type LogFileSystem } from './log-file-system.js';
import type { PageCacheBudget } from './page-cache-budget.js';
import { assignOffsets, batchSizeAt, checkBatches, readBatchHeader, stampLogAppendTime, type BatchHeader } from './record-batch.js';
import type { CpuPool } from '../runtime/cpu-pool.js';
import type { SegmentSpares } from './segment-spares.js';
import { Segment, type ReadSlice, type SegmentOptions } from './segment.js';
import { completeInterruptedSwaps, listSegmentBaseOffsets } from './segment-files.js';

export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The append time stamped on the batches under LogAppendTime, else -1. */
  readonly logAppendTimeMs: number;
  readonly logStartOffset: number;
}

export interface ReadResult extends ReadSlice {
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
}

export interface CompactionResult {
  readonly segmentsCleaned: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Why nothing was done, when nothing was. */
  readonly skipped?: 'not-compacted' | 'nothing-cleanable' | 'below-dirty-ratio';
}

/** Appended bytes between two writeback starts of the active segment (write-behind.ts). */
export const WRITE_BEHIND_STEP_BYTES = 4 * 1024 * 1024;
/** Bytes read ahead of a read of evicted data (write-behind.ts). */
const READ_AHEAD_BYTES = 4 * 1024 * 1024;
/** Disk blocks kept allocated ahead of the end of a segment written fast (write-behind.ts, "Preallocation"). */
const PREALLOCATE_BYTES = 64 * 1024 * 1024;
/** A segment on a spare that filled at this rate or faster (4 MiB/s, what finds a new segment fast) rolls onto the next spare. */
const SPARE_ROLL_BYTES_PER_MS = (4 * 1024 * 1024) / 1000;
/** A deleted partition directory until the thread pool has removed it (deleteAll). */
export const DELETED_DIRECTORY_SUFFIX = '-delete';
/** Bytes of closed segments one compaction pass reads at most (oldest first). */
export const COMPACTION_PASS_BYTES_MAX = 256 * 1024 * 1024;

export interface PartitionLogOptions {
  readonly directory: string;
  readonly config: LogConfig;
  readonly fs?: LogFileSystem;
  readonly now?: () => number;
  readonly log?: Logger;
  /** The broker thread's page-cache budget (page-cache-budget.ts); none: the kernel decides. */
  readonly pageCacheBudget?: PageCacheBudget;
  /** The log directory's spare segment file (segment-spares.ts); none: fast segments preallocate in place. */
  readonly spares?: SegmentSpares;
  /** From the recovery checkpoint; 0 when unknown. */
  readonly recoveryPoint?: number;
  /** From the log-start-offset checkpoint. */
  readonly logStartOffset?: number;
  /** After an unclean stop: check every segment at or past the recovery point. */
  readonly recover?: boolean;
  /**
   * The partition is new (LogDirectory.getOrCreate): its directory entry and first segment file
   * are made durable by its first flush, not by fsyncs on the caller's thread now (an fsync
   * waits for the device queue: 0.3-1 s under load).
   */
  readonly created?: boolean;
}

export class PartitionLog {
  readonly directory: string;
  config: LogConfig;
  logStartOffset = 0;
  highWatermark = 0;
  recoveryPoint = 0;
  /** Set by close(): a flush afterwards does nothing (the segments' fds are closing or closed). */
  private closed = false;
  /** Bytes cut off by recovery when this log was opened. */
  readonly recoveredTruncatedBytes: number;
  private readonly fs: LogFileSystem;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly pageCacheBudget: PageCacheBudget | undefined;
  private readonly spares: SegmentSpares | undefined;
  /** A segment's file was replaced (a move onto a spare): the next flush fsyncs the directory. */
  private readonly markDirectoryUnsynced = (): void => {
    this.directoryUnsynced = true;
  };
  private segments: Segment[] = [];
  private lastFlushMs: number;
  /** Offsets below this were cleaned by the last compaction pass (the rest is "dirty"). */
  private cleanedUpTo = 0;
  private flushInFlight: Promise<void> | undefined;
  /** A roll created a segment file since the last flush: the next flush fsyncs the directory. */
  private directoryUnsynced = false;
  /** This log's directory is new: the next flush also fsyncs the directory holding it. */
  private parentUnsynced: boolean;
  /** Set when the disk failed in a way that leaves this log's state unknown (e.g. fsync EIO). */
  private failure: KafkaError | undefined;

  constructor(options: PartitionLogOptions) {
    this.directory = options.directory;
    this.config = options.config;
    this.fs = options.fs ?? nodeFileSystem;
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.pageCacheBudget = options.pageCacheBudget;
    this.spares = options.spares?.supported ? options.spares : undefined;
    this.lastFlushMs = this.now();
    this.parentUnsynced = options.created ?? false;
    this.directoryUnsynced = this.parentUnsynced;
    this.fs.mkdir(this.directory);
    completeInterruptedSwaps(this.fs, this.directory);
    const recoveryPoint = options.recoveryPoint ?? 0;
    let truncated = 0;
    const bases = listSegmentBaseOffsets(this.fs, this.directory);
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const nextBase = bases[i + 1] ?? Number.MAX_SAFE_INTEGER;
      const mustRecover = (options.recover ?? false) && nextBase > recoveryPoint;
      const opened = Segment.open(this.directory, base, this.fs, this.segmentOptions(), mustRecover);
      this.segments.push(opened.segment);
      truncated += opened.truncatedBytes;
      if (opened.truncatedBytes > 0) {
        // Anything after a corrupt batch is unreachable: drop the later segments.
        for (const later of bases.slice(i + 1)) {
          Segment.open(this.directory, later, this.fs, this.segmentOptions(), false).segment.delete();
        }
        break;
      }
    }
    this.recoveredTruncatedBytes = truncated;
    if (this.segments.length === 0) this.segments.push(Segment.create(this.directory, options.logStartOffset ?? 0, this.fs, this.segmentOptions()));
    this.logStartOffset = Math.min(Math.max(options.logStartOffset ?? 0, this.segments[0]!.baseOffset), this.logEndOffset);
    this.recoveryPoint = Math.min(recoveryPoint, this.logEndOffset);
    this.highWatermark = this.logEndOffset;
    if (truncated > 0) this.log?.warn({ directory: this.directory, truncatedBytes: truncated }, 'recovery cut a torn or corrupt tail');
  }

  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  get sizeBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  private get activeSegment(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /**
   * Appends the batches in `bytes` (a produce request's records for this partition). Rejects the
   * whole set, writing nothing, if any batch is corrupt or too large. Resolves once the flush
   * policy is satisfied (after fsync when flush.messages is reached).
   *
   * Not an async function: the usual append (no fsync due) returns an already-settled promise
   * without the async machinery, which counts when the whole append costs about a microsecond.
   */
  append(bytes: Uint8Array): Promise<AppendResult> {
    let result: AppendResult;
    try {
      result = this.appendToActiveSegment(bytes);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.logEndOffset - this.recoveryPoint >= this.config.flushMessages) return this.flush().then(() => result);
    return Promise.resolve(result);
  }

  /**
   * The synchronous part of append: check, assign offsets, write to the page cache. It allocates
   * nothing but its result: at ~1 µs per 16 KiB batch besides the write, header objects and
   * their copies were a measurable share (docs/log.md, "Append cost").
   */
  private appendToActiveSegment(bytes: Uint8Array): AppendResult {
    this.checkHealthy();
    // Every batch is checked before any byte changes: a refused set leaves `bytes` as it was.
    if (checkBatches(bytes, this.config.maxMessageBytes) === 0) throw new KafkaError('CORRUPT_MESSAGE', 'no record batch in the request');
    const length = bytes.length;
    if (length > this.config.segmentBytes) {
      throw new KafkaError('RECORD_LIST_TOO_LARGE', `${length} bytes exceed segment.bytes ${this.config.segmentBytes}`);
    }
    const nowMs = this.now();
    const baseOffset = this.logEndOffset;
    const nextOffset = assignOffsets(bytes, baseOffset);
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime';
    if (logAppendTime) {
      for (let position = 0; position < length; position += batchSizeAt(bytes, position)) stampLogAppendTime(bytes, readBatchHeader(bytes, position)!, nowMs);
    }
    this.maybeRoll(length, nowMs);
    this.activeSegment.append(bytes, nowMs);
    return { baseOffset, lastOffset: nextOffset - 1, logAppendTimeMs: logAppendTime ? nowMs : -1, logStartOffset: this.logStartOffset };
  }

  /**
   * Reads whole batches from the one holding `offset`, up to `maxBytes` (at least one batch),
   * stopping below `maxOffset` (default: the high watermark). Empty at the end of the log.
   */
  read(offset: number, maxBytes: number, maxOffset = this.highWatermark): ReadResult {
    this.checkHealthy();
    if (offset < this.logStartOffset || offset > this.logEndOffset) {
      throw new KafkaError('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside [${this.logStartOffset}, ${this.logEndOffset}]`);
    }
    const empty: ReadResult = { bytes: new Uint8Array(0), firstOffset: offset, nextOffset: offset, highWatermark: this.highWatermark, logStartOffset: this.logStartOffset, logEndOffset: this.logEndOffset };
    if (offset >= maxOffset) return empty;
    for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const position = segment.positionOf(offset);
      if (position === undefined) continue;
      const slice = segment.read(position, maxBytes, maxOffset);
      if (!slice) return empty;
      return { ...slice, highWatermark: this.highWatermark, logStartOffset: this.logStartOffset, logEndOffset: this.logEndOffset };
    }
    return empty;
  }

  /** ListOffsets by timestamp: the first batch whose max timestamp is >= `timestamp`. */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | undefined {
    this.checkHealthy();
    for (const segment of this.segments) {
      // Batches wholly below the log start offset may still be in the first segment: skip them.
      const found = segment.findByTimestamp(timestamp, this.logStartOffset);
      if (found === undefined) continue;
      const offset = Math.max(found, this.logStartOffset);
      return { offset, timestamp: segment.findBatch(offset)?.maxTimestamp ?? timestamp };
    }
    return undefined;
  }

  /**
   * ListOffsets MAX_TIMESTAMP: the first batch holding the largest timestamp of the log (at or past
   * the log start offset), read whole, or undefined for an empty log. Segments are looked into
   * by their running maximum, largest first (earliest first among equal ones), until none left
   * can hold a larger timestamp than the batch found: usually the first one looked into.
   */
  batchWithMaxTimestamp(): { header: BatchHeader; bytes: Uint8Array } | undefined {
    this.checkHealthy();
    let best: { header: BatchHeader; segment: Segment } | undefined;
    const candidates = [...this.segments].sort((a, b) => b.maxTimestamp - a.maxTimestamp || a.baseOffset - b.baseOffset);
    for (const segment of candidates) {
      if (best !== undefined && segment.maxTimestamp <= best.header.maxTimestamp) break;
      const header = segment.findMaxTimestamp(this.logStartOffset);
      if (header && (best === undefined || header.maxTimestamp > best.header.maxTimestamp)) best = { header, segment };
    }
    if (!best) return undefined;
    const bytes = best.segment.readAt(best.header.position, best.header.sizeBytes);
    if (bytes.byteLength !== best.header.sizeBytes) throw new KafkaError('KAFKA_STORAGE_ERROR', `batch at offset ${best.header.baseOffset} of ${this.directory} is cut short`);
    return { header: best.header, bytes };
  }

  setHighWatermark(offset: number): void {
    this.highWatermark = Math.max(this.logStartOffset, Math.min(offset, this.logEndOffset));
  }

  /** DeleteRecords: moves the log start offset up (never down), deleting whole segments below it. */
  deleteRecordsBefore(offset: number): number {
    this.checkHealthy();
    if (offset > this.highWatermark) {
      throw new KafkaError('OFFSET_OUT_OF_RANGE', `cannot delete records before ${offset}: the high watermark is ${this.highWatermark}`);
    }
    if (offset > this.logStartOffset) this.logStartOffset = offset;
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= this.logStartOffset) this.segments.shift()!.delete();
    return this.logStartOffset;
  }

  /**
   * Cuts the log so that `offset` becomes the log end offset (a follower after a leader change).
   * `offset` must be a batch boundary (or in a gap left by compaction); a cut inside a batch is
   * refused.
   */
  truncateTo(offset: number): void {
    this.checkHealthy();
    if (offset >= this.logEndOffset) return;
    if (offset < this.logStartOffset) throw new KafkaError('OFFSET_OUT_OF_RANGE', `cannot truncate below the log start offset ${this.logStartOffset}`);
    const index = this.segmentIndexFor(offset);
    const segment = this.segments[index]!;
    segment.truncateTo(offset);
    for (const later of this.segments.splice(index + 1)) later.delete();
    if (segment.nextOffset < offset) {
      // Compaction had removed the records just below `offset`, so the segment now ends before
      // it. The log end offset must still become `offset` (as in Kafka), or the next append would
      // reuse removed offsets and the high watermark could pass the log end: start an empty
      // active segment at `offset` (its file keeps that across restarts).
      this.segments.push(Segment.create(this.directory, offset, this.fs, this.segmentOptions()));
      this.fs.fsyncDirectory(this.directory);
    }
    this.recoveryPoint = Math.min(this.recoveryPoint, offset);
    this.highWatermark = Math.min(this.highWatermark, offset);
    // Records appended from here on are dirty, whatever an earlier pass covered (Kafka's
    // maybeTruncateCheckpoint).
    this.cleanedUpTo = Math.min(this.cleanedUpTo, offset);
  }

  /**
   * Starts a new active segment at the log end offset (if the active one is not empty).
   *
   * Nothing here waits for the disk, as in Kafka, whose roll leaves the flush of the old segment
   * to a background task: the old segment's index files are written by the next flush or the
   * close (after a crash before either, opening the log rebuilds them, as it does for every
   * segment past the recovery point), and the new file's directory entry is made durable by the
   * next flush too. The fsyncs here ran on the broker's event loop and waited behind the
   * device's queue of writeback (the cache flush they end with): 0.3-1.5 s without answering
   * any request, every log.segment.bytes under load (docs/log.md, "Page cache").
   */
  roll(spareWanted = false): void {
    if (this.activeSegment.isEmpty()) return;
    // A partition still written fast rolls onto the ready spare (segment-spares.ts): nothing to create or copy.
    const spare = spareWanted && this.spares?.bytes === this.config.segmentBytes ? this.spares.take() : undefined;
    try {
      this.segments.push(Segment.create(this.directory, this.logEndOffset, this.fs, this.segmentOptions(), spare));
      this.directoryUnsynced = true;
    } catch (error) {
      // Nothing written is lost, and the log stays usable: the next append tries the roll again.
      throw new KafkaError('KAFKA_STORAGE_ERROR', `rolling a new segment in ${this.directory} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * fsyncs everything up to the current log end offset. Callers arriving while an fsync runs wait
   * for the next one, which covers all of them (group commit).
   */
  async flush(): Promise<void> {
    const target = this.logEndOffset;
    while (this.recoveryPoint < target) {
      // A closed log's segments are not fsynced any more (segment.ts, flush): nothing to wait for, and the recovery point stays.
      if (this.closed) return;
      this.checkHealthy();
      if (!this.flushInFlight) {
        // Start the fsync one event-loop turn later: appenders just acknowledged by the previous
        // fsync append again meanwhile and ride on this one, instead of waiting for the next.
        this.flushInFlight = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushOnce()).finally(() => {
          this.flushInFlight = undefined;
        });
      }
      await this.flushInFlight;
    }
  }

  /** flush.ms: flushes when the last flush is older than the setting. */
  async maybeFlushOnTime(): Promise<void> {
    if (this.recoveryPoint < this.logEndOffset && this.now() - this.lastFlushMs >= this.config.flushMs) await this.flush();
  }

  /**
   * Retention: deletes whole segments (never the active one) older than retention.ms or beyond
   * retention.bytes, advancing the log start offset. Returns how many segments went.
   */
  applyRetention(): number {
    if (!this.config.cleanupPolicy.includes('delete')) return 0;
    const nowMs = this.now();
    let deleted = 0;
    let total = this.sizeBytes;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      // As in Kafka, only segments wholly below the high watermark: retention must not delete
      // records that are not yet replicated (nor move the high watermark over them).
      if (this.segments[1]!.baseOffset > this.highWatermark) break;
      const expired = this.config.retentionMs >= 0 && oldest.maxTimestamp >= 0 && nowMs - oldest.maxTimestamp > this.config.retentionMs;
      const oversize = this.config.retentionBytes >= 0 && total - oldest.sizeBytes >= this.config.retentionBytes;
      if (!expired && !oversize) break;
      total -= oldest.sizeBytes;
      this.segments.shift()!.delete();
      this.logStartOffset = Math.max(this.logStartOffset, this.segments[0]!.baseOffset);
      deleted++;
    }
    if (this.highWatermark < this.logStartOffset) this.highWatermark = this.logStartOffset;
    return deleted;
  }

  /** Segments that compaction may rewrite: every one but the active segment. */
  cleanableSegments(): readonly Segment[] {
    return this.segments.slice(0, -1);
  }

  /**
   * cleanup.policy=compact: keeps the latest record per key in the closed segments (the active
   * one is never touched), removing tombstones older than delete.retention.ms. Runs when the
   * dirty share of the closed segments reaches min.cleanable.dirty.ratio. The decoding and
   * rewriting run on the CPU pool (piscina), off this thread; each cleaned segment is then
   * swapped in crash-safely (replaceSegment). Offsets never change.
   */
  async compact(pool: CpuPool): Promise<CompactionResult> {
    this.checkHealthy();
    const nothing = (skipped: CompactionResult['skipped']): CompactionResult => ({ segmentsCleaned: 0, bytesBefore: 0, bytesAfter: 0, skipped });
    if (!this.config.cleanupPolicy.includes('compact')) return nothing('not-compacted');
    const candidates: Segment[] = [];
    let total = 0;
    for (const segment of this.cleanableSegments()) {
      if (candidates.length > 0 && total + segment.sizeBytes > COMPACTION_PASS_BYTES_MAX) break;
      candidates.push(segment);
      total += segment.sizeBytes;
    }
    if (candidates.length === 0 || total === 0) return nothing('nothing-cleanable');
    const dirty = candidates.filter((segment) => segment.nextOffset > this.cleanedUpTo).reduce((sum, segment) => sum + segment.sizeBytes, 0);
    if (dirty / total < this.config.minCleanableDirtyRatio) return nothing('below-dirty-ratio');
    const inputs = candidates.map((segment) => segment.readAt(0, segment.sizeBytes));
    const cleaned = await pool.compact(inputs, { nowMs: this.now(), deleteRetentionMs: this.config.deleteRetentionMs, cleanTombstones: true });
    let segmentsCleaned = 0;
    let bytesAfter = 0;
    for (let i = 0; i < candidates.length; i++) {
      const segment = candidates[i]!;
      const output = cleaned[i]!;
      bytesAfter += output.byteLength;
      if (output.byteLength === segment.sizeBytes) continue; // nothing removed: unchanged batches are copied byte for byte
      if (await this.replaceSegment(segment.baseOffset, output)) segmentsCleaned++;
    }
    this.cleanedUpTo = Math.max(this.cleanedUpTo, candidates[candidates.length - 1]!.nextOffset);
    return { segmentsCleaned, bytesBefore: total, bytesAfter };
  }

  /**
   * Swaps a cleaned copy in for a segment, crash-safely: the cleaned bytes are written and
   * fsynced as `.cleaned`, renamed to `.swap` (from then on a restart completes the swap), the old
   * index files removed, and `.swap` renamed over `.log`; the indexes are rebuilt from it.
   */
  async replaceSegment(baseOffset: number, cleaned: Uint8Array): Promise<boolean> {
    const index = this.segments.findIndex((segment) => segment.baseOffset === baseOffset);
    // Gone meanwhile (retention, truncation) or now the active segment: nothing to swap.
    if (index < 0 || index === this.segments.length - 1) return false;
    const old = this.segments[index]!;
    const cleanedPath = `${old.logPath}.cleaned`;
    const swapPath = `${old.logPath}.swap`;
    const fd = this.fs.open(cleanedPath, 'w+');
    try {
      this.fs.write(fd, cleaned, 0);
      await this.fs.fsync(fd);
    } finally {
      this.fs.close(fd);
    }
    // Appends and reads may have run during the fsync; the segment list is re-read after it.
    const current = this.segments.findIndex((segment) => segment === old);
    if (current < 0 || current === this.segments.length - 1) {
      this.fs.unlink(cleanedPath);
      return false;
    }
    this.fs.rename(cleanedPath, swapPath);
    old.close(false); // replaced below: nothing to trim
    this.fs.unlink(old.indexPath);
    this.fs.unlink(old.timeIndexPath);
    this.fs.rename(swapPath, old.logPath);
    this.fs.fsyncDirectory(this.directory);
    this.segments[current] = Segment.open(this.directory, baseOffset, this.fs, this.segmentOptions(), true).segment;
    return true;
  }

  close(): void {
    this.closed = true;
    for (const segment of this.segments) {
      try {
        segment.persistIndexes();
      } finally {
        segment.close();
      }
    }
  }

  /**
   * Deletes the whole partition directory (DeleteTopics). As for a segment (segment.ts, delete),
   * it is renamed to `<directory>.<random>-delete` here, which no partition directory matches,
   * and removed on the thread pool; one a crash left is removed when the log directory opens.
   */
  deleteAll(): void {
    for (const segment of this.segments) segment.close(false);
    // Emptied in place: storing a new (empty, small-integer) array would change what V8 knows of
    // this field and throw away the optimized append code of every other log.
    this.segments.length = 0;
    if (!this.fs.rmdirInBackground) {
      this.fs.rmdir(this.directory);
      return;
    }
    const doomed = `${this.directory}.${randomBytes(6).toString('hex')}${DELETED_DIRECTORY_SUFFIX}`;
    try {
      this.fs.rename(this.directory, doomed);
    } catch {
      this.fs.rmdir(this.directory);
      return;
    }
    this.fs.rmdirInBackground(doomed);
  }

  // ---- internals ----------------------------------------------------------------------------

  private async flushOnce(): Promise<void> {
    if (this.closed) return;
    const target = this.logEndOffset;
    const pending = this.segments.filter((segment) => segment.nextOffset > this.recoveryPoint || segment === this.activeSegment);
    const directoryUnsynced = this.directoryUnsynced;
    const parentUnsynced = this.parentUnsynced;
    this.directoryUnsynced = false;
    this.parentUnsynced = false;
    try {
      await Promise.all(pending.map((segment) => segment.flush()));
      // After the files' data: the journal commit this forces has little left to write.
      if (directoryUnsynced) this.fs.fsyncDirectory(this.directory);
      if (parentUnsynced) this.fs.fsyncDirectory(path.dirname(this.directory));
    } catch (error) {
      this.directoryUnsynced ||= directoryUnsynced;
      this.parentUnsynced ||= parentUnsynced;
      // After a failed fsync the page cache state is unknown (Kafka takes the directory offline).
      this.failure = new KafkaError('KAFKA_STORAGE_ERROR', `fsync in ${this.directory} failed: ${(error as Error).message}`, { cause: error });
      this.log?.error({ directory: this.directory, err: error }, 'fsync failed; partition log offline');
      throw this.failure;
    }
    this.recoveryPoint = Math.max(this.recoveryPoint, target);
    this.lastFlushMs = this.now();
  }

  private maybeRoll(incomingBytes: number, nowMs: number): void {
    const active = this.activeSegment;
    if (active.sealed) {
      this.rollSealed();
      return;
    }
    if (active.isEmpty()) return;
    const full = active.sizeBytes + incomingBytes > this.config.segmentBytes;
    const old = active.firstAppendMs !== undefined && nowMs - active.firstAppendMs >= this.config.segmentMs;
    if (!full && !old) return;
    // Onto a spare only if the segment on one filled up at a fast rate still (a partition that
    // slowed down has its next segment watched again, as any new one).
    const fast = full && active.onSpare && active.firstAppendMs !== undefined && active.sizeBytes >= (nowMs - active.firstAppendMs) * SPARE_ROLL_BYTES_PER_MS;
    this.roll(fast);
  }

  /**
   * The active segment is giving back blocks past its end on the thread pool (segment.ts,
   * releaseIfIdle), so nothing may append to it: roll, or, if a cut emptied it, replace its file
   * with a new one at the same base (the pool's ftruncate then reaches only the deleted file).
   */
  private rollSealed(): void {
    const active = this.activeSegment;
    if (!active.isEmpty()) {
      this.roll();
      return;
    }
    active.delete();
    this.segments[this.segments.length - 1] = Segment.create(this.directory, active.baseOffset, this.fs, this.segmentOptions());
    this.directoryUnsynced = true;
  }

  /** Index of the last segment whose base offset is <= offset. */
  private segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.segments[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  private segmentOptions(): SegmentOptions {
    return { indexIntervalBytes: this.config.indexIntervalBytes, writeBehind: { budget: this.pageCacheBudget, stepBytes: WRITE_BEHIND_STEP_BYTES, readAheadBytes: READ_AHEAD_BYTES, preallocateBytes: Math.min(PREALLOCATE_BYTES, this.config.segmentBytes), fileBytesMax: this.config.segmentBytes, askOwnerWhenFast: this.spares !== undefined }, spares: this.spares, onFileReplaced: this.markDirectoryUnsynced };
  }

  private checkHealthy(): void {
    if (this.failure) throw this.failure;
  }
}

export function partitionDirectory(root: string, topic: string, partition: number): string {
  return path.join(root, `${topic}-${partition}`);
}
