/**
 * Sequential reads of one segment file. A consumer that is behind fetches range after range,
 * each starting where the last one stopped; this remembers where that is, and reads the next
 * range ahead on the thread pool while the last one is on its way to the consumer.
 *
 *   fetch n:    [index lookup] [pread range n] [write response n .............]
 *   fetch n+1:                                       [range n+1 read ahead]    [write response n+1 ...]
 *
 * Without it, each fetch of a consumer catching up pays an index lookup (two small preads) and
 * the pread of its range (~60 us per MiB here) on the broker's event loop, between the request
 * arriving and the response leaving: time in every round trip of a consumer that keeps one
 * fetch in flight per broker, as Kafka's consumers do.
 *
 * - The next position is only a shortcut for the offset the last read stopped before: the batch
 *   that holds it starts right after the last batch returned.
 * - A range is read ahead only after a read that continued the one before (two in a row: not a
 *   one-off fetch, nor two consumers taking turns) and that was full (maxBytes), and only when
 *   the whole next range of the same size is already in the file. The file's bytes below its
 *   size never change while it is open except by a cut, which resets this.
 * - A read takes the range only if it starts at the same position with the same length and the
 *   read finished; anything else drops it (a buffer still being filled goes back to the pool when
 *   the pool's read completes).
 * - Bounds: one range per segment, and at most READ_AHEADS_MAX ranges and
 *   READ_AHEAD_HELD_BYTES_MAX bytes held per thread (the oldest are dropped for a new one).
 */
import type { BufferPool } from '../protocol/buffer-pool.js';

/** Ranges smaller than this are not read ahead: the pool round trip would cost more than the pread. */
export const READ_AHEAD_BYTES_MIN = 64 * 1024;
/** Ranges held (read ahead or being read) per thread, over all segments... */
export const READ_AHEADS_MAX = 16;
/** ...and their bytes (a range larger than this is never read ahead). */
export const READ_AHEAD_HELD_BYTES_MAX = 16 * 1024 * 1024;

/** Reads into `target` off this thread; done(bytes read) or done(-1) on an error. False: nothing was queued. */
export type ReadInto = (target: Uint8Array, position: number, length: number, done: (bytesRead: number) => void) => boolean;

const READING = 0;
const READY = 1;
const DROPPED = 2;

interface Ahead {
  readonly owner: SequentialReads;
  readonly position: number;
  readonly length: number;
  readonly bytes: Uint8Array;
  state: typeof READING | typeof READY | typeof DROPPED;
}

/** This thread's held ranges, oldest first (module state is per worker thread). */
const held: Ahead[] = [];
let heldBytes = 0;

/** Ranges this thread holds now, and their bytes (tests). */
export function readAheadsHeld(): { ranges: number; bytes: number } {
  return { ranges: held.length, bytes: heldBytes };
}

export class SequentialReads {
  /** The offset the last read stopped before, and the position of the batch that holds it (-1: none). */
  private nextOffset = -1;
  private nextPosition = -1;
  private ahead: Ahead | undefined;

  constructor(
    private readonly readInto: ReadInto | undefined,
    private readonly pool: BufferPool,
  ) {}

  /** The position of the batch holding `offset` when the last read stopped right before it. */
  positionOf(offset: number): number | undefined {
    return offset === this.nextOffset ? this.nextPosition : undefined;
  }

  /**
   * The `length` bytes at `position` if they were read ahead and are there; the caller owns them
   * (a buffer of the pool). Any range held that is not this one is dropped.
   */
  take(position: number, length: number): Uint8Array | undefined {
    const ahead = this.ahead;
    if (!ahead) return undefined;
    if (ahead.state !== READY || ahead.position !== position || ahead.length !== length) {
      this.drop();
      return undefined;
    }
    this.detach(ahead);
    // A pooled buffer may be larger than the range.
    return ahead.bytes.subarray(0, length);
  }

  /**
   * After a read of [position, end) of a file of `fileBytes` bytes that stopped before
   * `nextOffset`, asked for `maxBytes`: remembers where the next one starts, and reads that range
   * ahead when this read continued the last one and was full.
   */
  read(position: number, end: number, nextOffset: number, maxBytes: number, full: boolean, fileBytes: number): void {
    const sequential = position === this.nextPosition;
    this.nextOffset = nextOffset;
    this.nextPosition = end;
    if (!sequential || !full || !this.readInto || this.ahead) return;
    if (maxBytes < READ_AHEAD_BYTES_MIN || maxBytes > READ_AHEAD_HELD_BYTES_MAX || end + maxBytes > fileBytes) return;
    while (held.length >= READ_AHEADS_MAX || heldBytes + maxBytes > READ_AHEAD_HELD_BYTES_MAX) held[0]!.owner.drop();
    const ahead: Ahead = { owner: this, position: end, length: maxBytes, bytes: this.pool.acquire(maxBytes), state: READING };
    this.ahead = ahead;
    held.push(ahead);
    heldBytes += ahead.length;
    const queued = this.readInto(ahead.bytes, end, maxBytes, (bytesRead) => {
      if (ahead.state === READING && bytesRead === maxBytes) {
        ahead.state = READY;
        return;
      }
      // Dropped while it was read, or failed or short (nothing to serve): the buffer goes back.
      if (ahead.state === READING) this.drop();
      this.pool.release(ahead.bytes);
    });
    if (queued) return;
    this.drop();
    this.pool.release(ahead.bytes);
  }

  /** The file was cut or is closing: forgets the position and drops the range held. */
  reset(): void {
    this.nextOffset = -1;
    this.nextPosition = -1;
    this.drop();
  }

  /** Drops the range held: its buffer goes back to the pool now, or when the read filling it completes. */
  private drop(): void {
    const ahead = this.ahead;
    if (!ahead) return;
    this.detach(ahead);
    if (ahead.state === READY) this.pool.release(ahead.bytes);
    ahead.state = DROPPED;
  }

  private detach(ahead: Ahead): void {
    this.ahead = undefined;
    held.splice(held.indexOf(ahead), 1);
    heldBytes -= ahead.length;
  }
}
