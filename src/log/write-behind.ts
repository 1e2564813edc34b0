/**
 * Write-behind for one segment file: keeps the log's page-cache footprint to a window behind its
 * end instead of letting every appended byte take a new page until memory is full.
 *
 *   file:  [ evicted (on disk only) | written back, cached: windowBytes | writeback pending < stepBytes ]
 *          0                       evictedTo                          startedTo                 size
 *
 * - Every `stepBytes` appended, writeback of the new bytes starts (sync_file_range, no wait).
 * - Bytes more than `windowBytes` behind the end are waited for (long since written, normally)
 *   and dropped from the page cache (posix_fadvise DONTNEED), in steps.
 * - A read entirely below `evictedTo` (a consumer far behind, a rolled segment) drops what it
 *   read again and reads the next `readAheadBytes` ahead (posix_fadvise WILLNEED, no wait), so
 *   catching up streams through a few pages instead of filling memory, and the disk reads the
 *   next range while this one is sent.
 *
 * Why (docs/log.md, "Page cache"): consumers read mostly the last few MB; the rest of the cache
 * is rarely read again, but taking fresh pages is what costs. On VMs that hand free memory back
 * to the host (free page reporting, balloons: this 2-vCPU VM), a fresh page costs a fault into
 * the host, and appends cost ~2 ms/MB of the writer's CPU once the first GBs are used, against
 * ~0.25 ms/MB when the log reuses its own recently dropped pages. It also keeps dirty data small,
 * so the kernel never throttles the writer.
 *
 * Durability is unchanged: only fsync makes data durable. The kernel reports a writeback error
 * once per open file, so an error seen here is kept and thrown by the next flush instead.
 * Where the addon (or sync_file_range: Linux) is missing, or windowBytes is 0, this does
 * nothing and the page cache behaves as in Kafka.
 */
import type { LogFileSystem } from './log-file-system.js';

export interface WriteBehindOptions {
  /** Page-cache bytes kept behind the end of the file; 0: nothing is evicted (the kernel decides). */
  readonly windowBytes: number;
  /** Bytes appended between two writeback starts (and the eviction granularity). */
  readonly stepBytes: number;
  /** Bytes read ahead of a read below the window. */
  readonly readAheadBytes: number;
}

export class WriteBehind {
  private startedTo: number;
  private evictedTo: number;
  private readonly enabled: boolean;
  private readonly evicting: boolean;
  /** The first writeback error, for the next flush to throw. */
  private error: Error | undefined;

  constructor(
    private readonly fs: LogFileSystem,
    private readonly fd: number,
    size: number,
    private readonly options: WriteBehindOptions,
  ) {
    // What is already in the file when it opens is left to the kernel.
    this.startedTo = size;
    this.evictedTo = size;
    this.enabled = fs.startWriteback !== undefined && fs.evictWritten !== undefined && fs.readAhead !== undefined;
    this.evicting = this.enabled && options.windowBytes > 0;
  }

  /** After an append that made the file `size` bytes long. */
  appended(size: number): void {
    if (!this.enabled || this.error || size - this.startedTo < this.options.stepBytes) return;
    try {
      this.fs.startWriteback!(this.fd, this.startedTo, size - this.startedTo);
      this.startedTo = size;
      const keepFrom = size - this.options.windowBytes;
      if (this.evicting && keepFrom - this.evictedTo >= this.options.stepBytes) {
        this.fs.evictWritten!(this.fd, this.evictedTo, keepFrom - this.evictedTo);
        this.evictedTo = keepFrom;
      }
    } catch (error) {
      this.error = error as Error;
    }
  }

  /** After a read of [position, position + length): drops it again and reads ahead if it lies below the window. */
  read(position: number, length: number): void {
    if (!this.evicting || this.error || length === 0 || position + length > this.evictedTo) return;
    try {
      this.fs.evictWritten!(this.fd, position, length);
      this.fs.readAhead!(this.fd, position + length, this.options.readAheadBytes);
    } catch (error) {
      this.error = error as Error;
    }
  }

  /** After the file was cut to `size` bytes. */
  truncated(size: number): void {
    this.startedTo = Math.min(this.startedTo, size);
    this.evictedTo = Math.min(this.evictedTo, size);
  }

  /** Throws the writeback error seen since the file opened, if any (the log then goes offline). */
  throwIfFailed(): void {
    if (this.error) throw this.error;
  }
}
