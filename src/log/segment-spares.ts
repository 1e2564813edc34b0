/**
 * A spare segment file for one log directory: a file whose disk blocks are all allocated before
 * any partition appends to it, which a segment found fast (write-behind.ts) moves onto
 * (segment.ts, moveToSpare).
 *
 * Why (docs/log.md, "Spare segments"): allocating blocks on ext4 may read a block bitmap from
 * disk, and on a busy disk that read can take most of a second. Allocated in place (fallocate
 * of the active file ahead of its end, or writeback allocating delayed blocks), the allocation
 * holds the file's inode or block-map lock while it waits, and the broker's next append to that
 * file waits with it. A spare is allocated while nothing appends to it, so whatever the
 * allocation waits for, no append does.
 *
 *   idle --want()--> preparing (fallocate steps of stepBytes on the thread pool, one at a time)
 *        --all bytes allocated--> ready --take()--> idle, and preparing the next at once
 *
 * A segment that took a spare holds its blocks past its end until it rolls, and so would an idle
 * one for good: every `releaseCheckMs` each holder idle for `idleReleaseMs` is sealed (its log
 * rolls before its next append) and gives them back (segment.ts, releaseIfIdle).
 *
 * One spare at most (bounded disk: `bytes` more than the segments hold), and only after a fast
 * segment asked for one: a broker whose partitions are all slow never allocates any. The file is
 * `<root>/.samsa-segment-spare.<n>` (a new n for each, so the next is prepared while the one taken
 * still has its name); one left by a crash is removed at open (its contents are
 * whatever a move had copied before the crash; the segment it was for is intact). A failed
 * allocation (a file system without fallocate, a full disk) removes the file and stops asking
 * for `retryAfterMs`.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { closeGoingAway, unlinkGoingAway, type LogFileSystem } from './log-file-system.js';

/** Not `<name>-<digits>`: never taken for a partition directory (log-directory.ts). */
export const SPARE_FILE_PREFIX = '.samsa-segment-spare.';

/** Removes the spares a crash (or a stop with spares switched off since) left in `root`. */
export function removeLeftoverSpares(fs: LogFileSystem, root: string): void {
  for (const name of fs.readdir(root)) {
    if (name.startsWith(SPARE_FILE_PREFIX)) fs.unlink(path.join(root, name));
  }
}

/** A segment that moved onto a spare (segment.ts). */
export interface SpareHolder {
  /** True once it holds no blocks past its end (released, rolled full, or closed). */
  releaseIfIdle(nowMs: number, idleMs: number): boolean;
}

export interface SpareFile {
  readonly fd: number;
  readonly path: string;
  /** Bytes allocated from position 0 (the file's size is 0). */
  readonly bytes: number;
}

export interface SegmentSparesOptions {
  readonly root: string;
  readonly fs: LogFileSystem;
  /** Size of a spare: the broker's log.segment.bytes. */
  readonly bytes: number;
  /** Bytes allocated per fallocate call. */
  readonly stepBytes: number;
  /** After a failed allocation, no new spare is prepared for this long. */
  readonly retryAfterMs: number;
  /** A holder without an append for this long gives its unused blocks back. */
  readonly idleReleaseMs: number;
  /** How often holders are checked. */
  readonly releaseCheckMs: number;
  /** Milliseconds of the log's clock (default Date.now). */
  readonly now?: () => number;
  readonly log?: Logger;
}

type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'opening'; readonly path: string }
  | { readonly kind: 'preparing'; readonly fd: number; readonly path: string; allocatedTo: number }
  | { readonly kind: 'ready'; readonly fd: number; readonly path: string }
  | { readonly kind: 'closed' };

export class SegmentSpares {
  private state: State = { kind: 'idle' };
  private filesMade = 0;
  private failedAt: number | undefined;
  /** A step in flight (the fd is closed only once it has finished). */
  private stepInFlight = false;
  private closeWhenIdle: number | undefined;
  private readonly holders = new Set<SpareHolder>();
  private releaseTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SegmentSparesOptions) {
    removeLeftoverSpares(options.fs, options.root);
  }

  /** Bytes a spare has allocated. */
  get bytes(): number {
    return this.options.bytes;
  }

  /** Where the addon (fallocate) is missing, spares are never prepared. */
  get supported(): boolean {
    return this.options.fs.preallocate !== undefined;
  }

  /**
   * The ready spare, which the caller now owns (it renames it away and closes the fd), or
   * undefined when none is ready; either way the next one is being prepared.
   */
  take(): SpareFile | undefined {
    const state = this.state;
    if (state.kind === 'ready') {
      this.state = { kind: 'idle' };
      this.want();
      return { fd: state.fd, path: state.path, bytes: this.options.bytes };
    }
    this.want();
    return undefined;
  }

  /** Starts preparing a spare unless one is ready or being prepared. */
  want(): void {
    if (this.state.kind !== 'idle' || !this.supported) return;
    const now = this.clock();
    if (this.failedAt !== undefined && now - this.failedAt < this.options.retryAfterMs) return;
    const file = path.join(this.options.root, `${SPARE_FILE_PREFIX}${this.filesMade++}`);
    const fileSystem = this.options.fs;
    if (!fileSystem.createInBackground) {
      let fd: number;
      try {
        fd = this.options.fs.open(file, 'w+');
      } catch (error) {
        this.openFailed(file, error as Error);
        return;
      }
      this.opened(file, fd);
      return;
    }
    const opening: State = { kind: 'opening', path: file };
    this.state = opening;
    fileSystem.createInBackground(file, (error, fd) => {
      if (this.state !== opening) {
        // Closed meanwhile.
        if (!error) this.closeQuietly(fd);
        this.unlinkQuietly(file);
      } else if (error) this.openFailed(file, error);
      else this.opened(file, fd);
    });
  }

  private opened(file: string, fd: number): void {
    this.state = { kind: 'preparing', fd, path: file, allocatedTo: 0 };
    this.step();
  }

  private openFailed(file: string, error: Error): void {
    this.state = { kind: 'idle' };
    this.failedAt = this.clock();
    this.options.log?.warn({ err: error, file, retryAfterMs: this.options.retryAfterMs }, 'could not create a spare segment file');
  }

  /** A segment now on a spare: checked every releaseCheckMs until it holds nothing past its end. */
  hold(holder: SpareHolder): void {
    if (this.state.kind === 'closed') return;
    this.holders.add(holder);
    if (this.releaseTimer) return;
    this.releaseTimer = setInterval(() => this.releaseIdle(), this.options.releaseCheckMs);
    this.releaseTimer.unref();
  }

  /** One check of the holders (the timer's; tests call it directly). */
  releaseIdle(): void {
    const now = this.clock();
    for (const holder of this.holders) if (holder.releaseIfIdle(now, this.options.idleReleaseMs)) this.holders.delete(holder);
    if (this.holders.size === 0) this.stopReleaseTimer();
  }

  /** Segments holding a spare's blocks (tests). */
  get holderCount(): number {
    return this.holders.size;
  }

  /** A write failed (a full disk, say): a ready spare is removed so that its blocks serve appends, and none is prepared for retryAfterMs. */
  giveBackReady(): void {
    const state = this.state;
    if (state.kind !== 'ready') return;
    this.state = { kind: 'idle' };
    this.failedAt = this.clock();
    this.closeQuietly(state.fd);
    this.unlinkQuietly(state.path);
  }

  /** A taken spare its taker could not use (a failed copy or rename): closed and removed. */
  discard(spare: SpareFile): void {
    this.closeQuietly(spare.fd);
    this.unlinkQuietly(spare.path);
  }

  /** What the spare is doing (tests, metrics); opening counts as preparing. */
  get status(): 'idle' | 'preparing' | 'ready' | 'closed' {
    return this.state.kind === 'opening' ? 'preparing' : this.state.kind;
  }

  /** Removes the spare (a directory closing); a step in flight finishes first, then the fd closes. */
  close(): void {
    const state = this.state;
    this.state = { kind: 'closed' };
    this.stopReleaseTimer();
    this.holders.clear();
    if (state.kind === 'preparing' || state.kind === 'ready') {
      this.unlinkQuietly(state.path);
      if (this.stepInFlight) this.closeWhenIdle = state.fd;
      else this.closeQuietly(state.fd);
    }
  }

  private stopReleaseTimer(): void {
    clearInterval(this.releaseTimer);
    this.releaseTimer = undefined;
  }

  private clock(): number {
    return (this.options.now ?? Date.now)();
  }

  private step(): void {
    const state = this.state;
    if (state.kind !== 'preparing') return;
    const length = Math.min(this.options.stepBytes, this.options.bytes - state.allocatedTo);
    this.stepInFlight = true;
    try {
      this.options.fs.preallocate!(state.fd, state.allocatedTo, length, (error) => this.stepDone(state, length, error));
    } catch (error) {
      this.stepInFlight = false;
      this.fail(state, error as Error);
    }
  }

  private stepDone(state: State & { kind: 'preparing' }, length: number, error: Error | null): void {
    this.stepInFlight = false;
    if (this.closeWhenIdle !== undefined) {
      this.closeQuietly(this.closeWhenIdle);
      this.closeWhenIdle = undefined;
      return;
    }
    if (this.state !== state) return;
    if (error) {
      this.fail(state, error);
      return;
    }
    state.allocatedTo += length;
    if (state.allocatedTo >= this.options.bytes) this.state = { kind: 'ready', fd: state.fd, path: state.path };
    else this.step();
  }

  private fail(state: State & { kind: 'preparing' }, error: Error): void {
    this.options.log?.warn({ err: error, file: state.path, retryAfterMs: this.options.retryAfterMs }, 'could not allocate a spare segment file; new segments allocate as they grow');
    this.state = { kind: 'idle' };
    this.failedAt = this.clock();
    this.closeQuietly(state.fd);
    this.unlinkQuietly(state.path);
  }

  /** On the thread pool where it can: the last close of a removed spare frees its blocks. */
  private closeQuietly(fd: number): void {
    try {
      closeGoingAway(this.options.fs, fd);
    } catch {
      // Nothing to do: the fd is gone either way.
    }
  }

  /** On the thread pool where it can: unlinking a spare frees its blocks (a discard, with that mount option). */
  private unlinkQuietly(file: string): void {
    try {
      unlinkGoingAway(this.options.fs, file);
    } catch {
      // Removed at the next open.
    }
  }
}
