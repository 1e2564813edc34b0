/**
 * Write-behind for one segment file: starts writeback as the file grows, and, under a page-cache
 * budget shared by the broker thread's logs, drops its oldest written ranges from the cache.
 *
 *   file:  [ evicted (on disk only) | written back, cached (queued in the budget) | writeback pending < stepBytes ]
 *          0                       evictedTo                                      startedTo                 size
 *
 * - Every `stepBytes` appended, writeback of the new bytes starts (sync_file_range, no wait) and
 *   the range enters the budget's queue (page-cache-budget.ts); the budget calls evict() for the
 *   oldest ranges of all its logs once it holds more than its limit.
 * - A read entirely below `evictedTo` (a consumer far behind, a rolled segment) drops what it
 *   read again and reads the next `readAheadBytes` ahead (posix_fadvise WILLNEED, no wait), so
 *   catching up streams through a few pages instead of pushing the newest data out, and the disk
 *   reads the next range while this one is sent.
 *
 * Why (docs/log.md, "Page cache"): taking fresh pages is what costs a writer on a VM that hands
 * free memory back to its host, and it keeps dirty data small, so the kernel never throttles the
 * writer.
 *
 * Preallocation: a new segment written fast (4 MiB within a second of its first append) gets
 * the rest of its first `preallocateBytes` of disk blocks at once (fallocate KEEP_SIZE, on the
 * thread pool), and from then on is kept `preallocateBytes` ahead of its end (topped up each time
 * half of that is written, up to `fileBytesMax`), so writeback converts blocks in order instead
 * of allocating each step. Without it, on ext4:
 * - the extent tree of a young file kept growing past the inode and folding back into it, and
 *   each fold freed a tree block; with the `discard` mount option the kernel's I/O-completion
 *   worker then waited for a discard behind the queued writeback, holding the inode's block-map
 *   lock, and the broker's next append (pwrite) waited with it: 0.1-1 s without an answer, in the
 *   first seconds of every segment;
 * - past the preallocated blocks, every append to a new page takes the same lock (delayed
 *   allocation), which writeback holds while it allocates: a third of the time a broker thread
 *   sat in pwrite, blocked, at 300 MB/s per partition (docs/log.md, "Page cache").
 * Slow partitions never preallocate, and what lies past the end when the file closes is given
 * back (ftruncate to its size).
 *
 * Durability is unchanged: only fsync makes data durable. The kernel reports a writeback error
 * once per open file, so an error seen here is kept and thrown by the next flush instead.
 * Where the addon (or sync_file_range: Linux) is missing this does nothing; without a budget it
 * only starts writeback and the kernel decides what stays cached, as in Kafka.
 */
import type { LogFileSystem } from './log-file-system.js';
import type { PageCacheBudget, PageCacheOwner } from './page-cache-budget.js';

export interface WriteBehindOptions {
  /** The broker thread's page-cache budget; undefined: nothing is evicted (the kernel decides). */
  readonly budget: PageCacheBudget | undefined;
  /** Bytes appended between two writeback starts (and the eviction granularity). */
  readonly stepBytes: number;
  /** Bytes read ahead of a read below the window. */
  readonly readAheadBytes: number;
  /** Bytes from the start of a new file fast writing preallocates, and then keeps allocated ahead of its end (0: none). */
  readonly preallocateBytes: number;
  /** The most the file grows to (its segment's size): nothing is preallocated past it. */
  readonly fileBytesMax: number;
  /**
   * A new file found fast waits for its owner instead of preallocating in place: the owner moves
   * it onto a spare (segment-spares.ts) or calls preallocateInPlace().
   */
  readonly askOwnerWhenFast?: boolean;
  /** Milliseconds of a monotonic clock (default performance.now), for the rate of a new file. */
  readonly now?: () => number;
}

type PageCacheCall = (fd: number, position: number, length: number, done: (error: Error | null) => void) => void;

/**
 * Page-cache calls in flight on this thread (module state is per worker thread). They share the
 * libuv pool with fsync, so a disk slower than the appends must not queue an unbounded number
 * ahead of a flush: at the bound a writeback start waits for the next step and an eviction for
 * the next admission.
 */
export const PAGE_CACHE_CALLS_IN_FLIGHT_MAX = 16;
/** A new file that reaches this size within FAST_START_MS of its first append is preallocated. */
const FAST_START_BYTES = 4 * 1024 * 1024;
const FAST_START_MS = 1000;
const monotonicNow = (): number => performance.now();
/** The page size of x86-64 and of most arm64 kernels. */
const PAGE_BYTES = 4096;
let inFlight = 0;

/** Page-cache calls this thread has in flight (tests). */
export function pageCacheCallsInFlight(): number {
  return inFlight;
}

export class WriteBehind implements PageCacheOwner {
  private startedTo: number;
  /** The file's size after the last append (or truncation). */
  private size: number;
  private evictedTo: number;
  private readonly enabled: boolean;
  private readonly evicting: boolean;
  /** Set when the file closes: ranges still queued in the budget are then skipped (the fd may be reused). */
  private closed = false;
  /** This file's calls in flight on the thread pool, and the flush's fsync (holdingFd). */
  private pending = 0;
  /** Read below evictedTo and not yet dropped again (empty: from > to). */
  private dropFrom = Number.POSITIVE_INFINITY;
  private dropTo = 0;
  /** Closes the fd, when close() came while calls were in flight. */
  private closeFd: (() => void) | undefined;
  /** The first writeback error, for the next flush to throw. */
  private error: Error | undefined;
  /** End of the blocks preallocated (0: none). */
  private preallocatedTo = 0;
  /** A file that opened empty, until it reaches FAST_START_BYTES: is it written fast? */
  private watchingRate: boolean;
  /** When the first append of a watched file came (undefined: none yet). */
  private firstAppendAt: number | undefined;
  /** Found fast with askOwnerWhenFast: the owner's turn (moveToSpare or preallocateInPlace). */
  foundFast = false;

  constructor(
    private readonly fs: LogFileSystem,
    private readonly fd: number,
    size: number,
    private readonly options: WriteBehindOptions,
    /** Bytes from position 0 whose blocks are already allocated (a spare: segment-spares.ts). */
    allocatedBytes = 0,
  ) {
    // What is already in the file when it opens is left to the kernel.
    this.startedTo = size;
    this.evictedTo = size;
    this.size = size;
    this.enabled = fs.startWriteback !== undefined && fs.evictWritten !== undefined && fs.readAhead !== undefined;
    this.evicting = this.enabled && options.budget !== undefined;
    this.watchingRate = size === 0 && allocatedBytes === 0 && options.preallocateBytes > 0 && fs.preallocate !== undefined;
    this.preallocatedTo = allocatedBytes;
  }

  /** After an append that made the file `size` bytes long. */
  appended(size: number): void {
    this.size = size;
    if (this.watchingRate) this.preallocateIfFast();
    else if (this.preallocatedTo > 0) this.preallocateAhead();
    this.startWriteback();
  }

  /**
   * A new file written fast (FAST_START_BYTES within FAST_START_MS of its first append: a
   * segment of a busy partition) gets the rest of its first preallocateBytes allocated then. A
   * failure (a file system without fallocate, a full disk) is no error: the appends then
   * allocate as they go, as without it.
   */
  private preallocateIfFast(): void {
    const now = (this.options.now ?? monotonicNow)();
    this.firstAppendAt ??= now;
    if (this.size < FAST_START_BYTES) return;
    this.watchingRate = false;
    if (now - this.firstAppendAt > FAST_START_MS) return;
    if (this.options.askOwnerWhenFast) this.foundFast = true;
    else this.preallocateInPlace();
  }

  /** Allocates the rest of the first preallocateBytes of this file, and keeps it that far ahead from then on. */
  preallocateInPlace(): void {
    this.foundFast = false;
    this.preallocate(Math.ceil(this.size / this.options.stepBytes) * this.options.stepBytes, this.options.preallocateBytes);
  }

  /**
   * A file found fast keeps preallocateBytes allocated ahead of its end: once half of that is
   * written, the next preallocateBytes are allocated (one call per half window; refused at the
   * in-flight bound, it is asked again at the next append).
   */
  private preallocateAhead(): void {
    const window = this.options.preallocateBytes;
    if (this.preallocatedTo - this.size > window / 2) return;
    this.preallocate(this.preallocatedTo, this.preallocatedTo + window);
  }

  /** Queues the allocation of [from, to), cut at fileBytesMax; preallocatedTo moves once it is queued. */
  private preallocate(from: number, to: number): void {
    const end = Math.min(to, this.options.fileBytesMax);
    if (end <= from || this.closed) return;
    if (this.call(this.fs.preallocate!, from, end - from, false)) this.preallocatedTo = end;
  }

  /** Starts writeback of what was appended since the last start, once that is a step (or more: after the in-flight bound). */
  private startWriteback(): void {
    const from = this.startedTo;
    // Whole pages only: the page the next append writes to is left alone (its writeback would
    // hold its lock while the next append waits for it: docs/log.md, "Page cache").
    const size = this.size - (this.size % PAGE_BYTES);
    if (!this.enabled || this.error || this.closed || size - from < this.options.stepBytes) return;
    // State first: `done` may run before call() returns (and start the next range).
    this.startedTo = size;
    if (!this.call(this.fs.startWriteback!, from, size - from)) {
      this.startedTo = from;
      return;
    }
    // In steps, so that a long range (after the in-flight bound) is evicted a step at a time, oldest first.
    if (this.evicting) for (let at = from; at < size; at += this.options.stepBytes) this.options.budget!.admit(this, at, Math.min(size, at + this.options.stepBytes));
  }

  /**
   * The budget drops [from, to): waits for its writeback (started long ago, normally) and evicts
   * it. False when too many page-cache calls are in flight: the budget retries later.
   */
  evict(from: number, to: number): boolean {
    if (this.closed || this.error) return true;
    const evictedTo = this.evictedTo;
    this.evictedTo = Math.max(evictedTo, Math.min(to, this.startedTo));
    if (this.call(this.fs.evictWritten!, from, to - from)) return true;
    this.evictedTo = evictedTo;
    return false;
  }

  /** After a read of [position, position + length): drops it again and reads ahead if it lies in the evicted part. */
  read(position: number, length: number): void {
    if (!this.evicting || this.error || length === 0 || position + length > this.evictedTo) return;
    this.dropFrom = Math.min(this.dropFrom, position);
    this.dropTo = Math.max(this.dropTo, position + length);
    this.dropRead();
    this.call(this.fs.readAhead!, position + length, this.options.readAheadBytes);
  }

  /** Drops what cold reads brought in (merged into one range while the in-flight bound holds it back). */
  private dropRead(): void {
    if (this.dropTo <= this.dropFrom || this.closed || this.error) return;
    const from = this.dropFrom;
    const to = this.dropTo;
    this.dropFrom = Number.POSITIVE_INFINITY;
    this.dropTo = 0;
    if (this.call(this.fs.evictWritten!, from, to - from)) return;
    this.dropFrom = from;
    this.dropTo = to;
  }

  /**
   * The file is closing (or is being deleted: `trim` false): queued ranges are skipped from now on, and `closeFd`
   * runs once the calls in flight on this fd have finished (so none can reach a reused fd number).
   */
  close(closeFd: () => void, trim = true): void {
    this.closed = true;
    const close = (): void => {
      // A file about to be deleted is not trimmed first: the unlink frees every block anyway.
      if (trim) this.trimPreallocation();
      closeFd();
    };
    if (this.pending === 0) close();
    else this.closeFd = close;
  }

  /** Blocks are allocated past the file's end (preallocated, or a spare's). */
  get holdsAllocation(): boolean {
    return this.preallocatedTo > this.size;
  }

  /**
   * Gives back the blocks allocated past the file's end, on the thread pool (ftruncate to the
   * size; nothing may append until `released` runs). A cut of the file meanwhile (truncated())
   * is done again afterwards, as the pool's ftruncate may have undone it; this runs before the fd
   * of a file closed meanwhile is closed. False (nothing queued) at the in-flight bound: ask
   * again later. A failure is ignored: the blocks stay allocated until the file goes.
   */
  releaseAllocation(released: () => void): boolean {
    if (!this.holdsAllocation || this.closed || this.fs.releaseAllocation === undefined) return true;
    const size = this.size;
    const after = (): void => {
      released();
      if (this.size >= size) return;
      try {
        this.fs.truncate(this.fd, this.size);
      } catch (error) {
        this.error ??= error as Error;
      }
    };
    if (!this.call(this.fs.releaseAllocation, size, 0, false, after)) return false;
    this.preallocatedTo = 0;
    return true;
  }

  /** Gives back the preallocated blocks past the file's end (ftruncate to the size frees them). */
  private trimPreallocation(): void {
    if (this.preallocatedTo <= this.size) return;
    this.preallocatedTo = 0;
    try {
      this.fs.truncate(this.fd, this.size);
    } catch {
      // Only space past the end stays allocated (until the file is deleted or cut).
    }
  }

  /**
   * Queues one page-cache call on the thread pool; false (nothing queued) at the in-flight bound.
   * With `keepError` false, a failure of the call is ignored (preallocation).
   */
  private call(op: PageCacheCall, position: number, length: number, keepError = true, after?: () => void): boolean {
    if (inFlight >= PAGE_CACHE_CALLS_IN_FLIGHT_MAX) return false;
    inFlight++;
    this.pending++;
    let finished = false;
    try {
      op(this.fd, position, length, (error) => {
        finished = true;
        after?.();
        this.done(keepError ? error : null);
      });
    } catch (error) {
      // Bad arguments or a full pool: nothing was queued (and `done` did not run).
      if (!finished) {
        inFlight--;
        this.pending--;
      }
      if (keepError) this.error ??= error as Error;
      return false;
    }
    return true;
  }

  /**
   * Runs `op` (the flush's fsync) on this file's fd, which is then not closed before `op`
   * settles: a close meanwhile waits for it, as for the page-cache calls, so the fsync can never
   * reach a closed or reused fd number. Only for an open file (the caller checks isClosed).
   */
  async holdingFd<T>(op: () => Promise<T>): Promise<T> {
    this.pending++;
    try {
      return await op();
    } finally {
      this.pending--;
      this.closeIfIdle();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private closeIfIdle(): void {
    if (this.pending === 0 && this.closeFd) {
      const closeFd = this.closeFd;
      this.closeFd = undefined;
      closeFd();
    }
  }

  private done(error: Error | null): void {
    inFlight--;
    this.pending--;
    if (error && !this.closed) this.error ??= error;
    this.closeIfIdle();
    // A slot is free: what the bound held back can go now.
    this.startWriteback();
    this.dropRead();
    this.options.budget?.evictOverLimit();
  }

  /** After the file was cut to `size` bytes. */
  truncated(size: number): void {
    this.startedTo = Math.min(this.startedTo, size);
    this.evictedTo = Math.min(this.evictedTo, size);
    this.size = size;
  }

  /** Throws the writeback error seen since the file opened, if any (the log then goes offline). */
  throwIfFailed(): void {
    if (this.error) throw this.error;
  }
}
