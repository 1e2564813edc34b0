/**
 * The page-cache bytes one broker thread's logs may hold, across all its partitions: every range
 * a segment writes back enters a queue in write order, and once the queue holds more than the
 * limit the oldest ranges are dropped from the page cache (they are on disk by then: the
 * eviction waits for their writeback, which started long before).
 *
 * Why (docs/log.md, "Page cache"): a log writes new bytes all the time, and a page the kernel
 * takes fresh costs far more than one it recycles. On a VM that hands free memory back to the
 * host (free page reporting, balloons), a fresh page is a fault into the host: ~2-2.5 ms of the
 * writer's CPU per MB, against ~0.25 ms/MB for pages the log itself dropped a moment ago. With a
 * budget the cache stops growing at the limit and every later write reuses pages the log just
 * dropped, while the newest `limitBytes` (what consumers read) stay cached.
 *
 * Pure bookkeeping: the eviction itself is the owner's (WriteBehind.evict). Bounded: the queue
 * holds limitBytes / stepBytes + 1 ranges (every range but a segment's last is >= one step), plus
 * what waits while page-cache calls are at their in-flight bound (write-behind.ts): writes then
 * wait for writeback starts too, so that backlog stops growing with them.
 */

/**
 * What owns a queued range: drops [from, to) of its file from the page cache (nothing once it
 * has closed). False: it cannot now (too many calls in flight); the range stays queued.
 */
export interface PageCacheOwner {
  evict(from: number, to: number): boolean;
}

interface CachedRange {
  readonly owner: PageCacheOwner;
  readonly from: number;
  readonly to: number;
}

/** Queue entries dropped before the array is compacted. */
const COMPACT_AFTER = 1024;

export class PageCacheBudget {
  private queue: CachedRange[] = [];
  private head = 0;
  private cached = 0;
  private evicting = false;

  /** limitBytes > 0: the most bytes kept cached; the newest ranges are kept. */
  constructor(readonly limitBytes: number) {
    if (!(Number.isSafeInteger(limitBytes) && limitBytes > 0)) throw new RangeError(`page-cache budget must be a positive integer, got ${limitBytes}`);
  }

  /** Bytes of the queued ranges (what the logs hold in the page cache, to within a step per segment). */
  get cachedBytes(): number {
    return this.cached;
  }

  /** [from, to) of the owner's file was just written (and its writeback started); drops the oldest ranges past the limit. */
  admit(owner: PageCacheOwner, from: number, to: number): void {
    if (to <= from) return;
    this.queue.push({ owner, from, to });
    this.cached += to - from;
    this.evictOverLimit();
  }

  /**
   * Evicts the oldest ranges while the queue holds more than the limit and their owners can;
   * also called when a page-cache call finishes, so a backlog drains without further writes.
   */
  evictOverLimit(): void {
    // An owner's evict can complete at once and call back in here: the outer loop goes on.
    if (this.evicting) return;
    this.evicting = true;
    try {
      while (this.cached > this.limitBytes && this.head < this.queue.length) {
        const oldest = this.queue[this.head]!;
        if (!oldest.owner.evict(oldest.from, oldest.to)) break;
        this.head++;
        this.cached -= oldest.to - oldest.from;
      }
    } finally {
      this.evicting = false;
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
