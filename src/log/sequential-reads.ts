/**
 * Sequential reads of one segment file. A consumer that is behind fetches range after range,
 * each starting where the last one stopped; this remembers where that is, and reads the next
 * range ahead once the response with the last one has been written, while it is on its way to
 * the consumer and the consumer's next fetch is on its way back.
 *
 *   broker thread:  [fetch n: pread range n, write response n] [read range n+1 ahead]   ...idle...  [fetch n+1: write response n+1]
 *   consumer:                                    [receive response n ...........] [send fetch n+1]
 *
 * Without it, each fetch of a consumer catching up pays an index lookup (two small preads) and
 * the pread of its range (~60 us per MiB here) on the broker's event loop, between the request
 * arriving and the response leaving: time in every round trip of a consumer that keeps one
 * fetch in flight per broker, as Kafka's consumers do. The read ahead is a pread on the event
 * loop too, deferred to the end of the turn (`defer`, setImmediate): on the thread pool its
 * hand-off (waking a pool thread) cost the event loop twice what the pread does on this VM.
 *
 * - The next position is only a shortcut for the offset the last read stopped before: the batch
 *   that holds it starts right after the last batch returned.
 * - A range is read ahead only after a read that was full (maxBytes) and started where the one
 *   before it stopped (not a one-off fetch, nor two consumers taking turns), and only when the
 *   whole next range of the same size is already in the file. The file's bytes below its
 *   size never change while it is open except by a cut, which resets this.
 * - A read takes the range only if it starts at the same position with the same length and the
 *   read ahead has run; anything else drops it (one not run yet then never runs, and never takes
 *   a buffer: a reader that reads in a loop without yielding costs nothing but the bookkeeping).
 * - Bounds: one range per segment, and at most READ_AHEADS_MAX ranges and
 *   READ_AHEAD_HELD_BYTES_MAX bytes held per thread; when they are reached, a new range pushes
 *   out only ranges older than READ_AHEAD_STALE_MS, or is not read ahead.
 */
import type { BufferPool } from '../protocol/buffer-pool.js';

/** Ranges smaller than this are not read ahead: a small pread costs little more than the bookkeeping. */
export const READ_AHEAD_BYTES_MIN = 64 * 1024;
/** Ranges held (read ahead, or due to be at the end of the turn) per thread, over all segments... */
export const READ_AHEADS_MAX = 16;
/** ...and their bytes (a range larger than this is never read ahead). */
export const READ_AHEAD_HELD_BYTES_MAX = 16 * 1024 * 1024;
/**
 * A range not taken this long after it was read ahead is given up when another needs its room:
 * a consumer catching up fetches again within a round trip, so its consumer has gone or moved.
 * Younger ones are never pushed out: a consumer of more partitions than the bound gets reads
 * ahead for some of them and reads in place for the rest, rather than every range read twice.
 */
export const READ_AHEAD_STALE_MS = 1000;

/** Reads `length` bytes at `position` of the file into `target`; returns the bytes read (fewer at its end); may throw. */
export type ReadAt = (target: Uint8Array, position: number, length: number) => number;

interface Ahead {
  readonly owner: SequentialReads;
  readonly position: number;
  readonly length: number;
  /** The range, in a buffer of the pool, once the read ran (one dropped before that never takes one). */
  bytes: Uint8Array | undefined;
  readonly createdAt: number;
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
    private readonly readAt: ReadAt,
    private readonly pool: BufferPool,
    private readonly defer: (run: () => void) => void = setImmediate,
    private readonly now: () => number = () => performance.now(),
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
    if (!ahead.bytes || ahead.position !== position || ahead.length !== length) {
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
   * ahead when this read continued the last one and the file holds all of it (then this read
   * was full too: `end` is past `position`).
   */
  read(position: number, end: number, nextOffset: number, maxBytes: number, fileBytes: number): void {
    const sequential = position === this.nextPosition;
    this.nextOffset = nextOffset;
    this.nextPosition = end;
    if (!sequential || this.ahead) return;
    if (maxBytes < READ_AHEAD_BYTES_MIN || maxBytes > READ_AHEAD_HELD_BYTES_MAX || end + maxBytes > fileBytes) return;
    const now = this.now();
    while (held.length >= READ_AHEADS_MAX || heldBytes + maxBytes > READ_AHEAD_HELD_BYTES_MAX) {
      if (now - held[0]!.createdAt < READ_AHEAD_STALE_MS) return;
      held[0]!.owner.drop();
    }
    const ahead: Ahead = { owner: this, position: end, length: maxBytes, bytes: undefined, createdAt: now };
    this.ahead = ahead;
    held.push(ahead);
    heldBytes += ahead.length;
    this.defer(() => {
      // Dropped before it ran (a cut, a close, a read elsewhere): nothing to do, the file may be gone.
      if (this.ahead !== ahead) return;
      const bytes = this.pool.acquire(ahead.length);
      let bytesRead = -1;
      try {
        bytesRead = this.readAt(bytes, ahead.position, ahead.length);
      } catch {
        // A failing disk: the next read in place reports it.
      }
      if (bytesRead === ahead.length) {
        ahead.bytes = bytes;
        return;
      }
      this.drop();
      this.pool.release(bytes);
    });
  }

  /** The file was cut or is closing: forgets the position and drops the range held. */
  reset(): void {
    this.nextOffset = -1;
    this.nextPosition = -1;
    this.drop();
  }

  /** Drops the range held, giving its buffer back if its read ran. */
  private drop(): void {
    const ahead = this.ahead;
    if (!ahead) return;
    this.detach(ahead);
    if (ahead.bytes) this.pool.release(ahead.bytes);
  }

  private detach(ahead: Ahead): void {
    this.ahead = undefined;
    held.splice(held.indexOf(ahead), 1);
    heldBytes -= ahead.length;
  }
}
