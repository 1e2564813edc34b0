import { afterEach, describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/protocol/buffer-pool.js';
import { READ_AHEAD_BYTES_MIN, READ_AHEAD_HELD_BYTES_MAX, READ_AHEADS_MAX, readAheadsHeld, SequentialReads } from '../../src/log/sequential-reads.js';

const MiB = 1024 * 1024;

/** A thread pool stand-in: reads queue up and complete when the test says, filled with a byte derived from the position. */
class FakeReads {
  readonly queued: { target: Uint8Array; position: number; length: number; done: (bytesRead: number) => void }[] = [];
  refuse = false;

  readonly readInto = (target: Uint8Array, position: number, length: number, done: (bytesRead: number) => void): boolean => {
    if (this.refuse) return false;
    this.queued.push({ target, position, length, done });
    return true;
  };

  /** Completes the oldest queued read with `bytesRead` (default: all of it). */
  complete(bytesRead?: number): void {
    const read = this.queued.shift()!;
    read.target.fill(read.position % 251, 0, read.length);
    read.done(bytesRead ?? read.length);
  }
}

const all: SequentialReads[] = [];
function sequentialReads(fake: FakeReads, pool = new BufferPool()): SequentialReads {
  const reads = new SequentialReads(fake.readInto, pool);
  all.push(reads);
  return reads;
}
afterEach(() => {
  for (const reads of all.splice(0)) reads.reset();
});

describe('SequentialReads', () => {
  it('remembers where the batch after the last read starts, for that offset only', () => {
    const reads = sequentialReads(new FakeReads());
    expect(reads.positionOf(0)).toBeUndefined();
    reads.read(0, 4000, 100, 4096, true, 10_000);
    expect(reads.positionOf(100)).toBe(4000);
    expect(reads.positionOf(99)).toBeUndefined();
    expect(reads.positionOf(101)).toBeUndefined();
    reads.reset();
    expect(reads.positionOf(100)).toBeUndefined();
  });

  it('reads ahead only after the second full read in a row, the whole next range, and hands it over once', () => {
    const fake = new FakeReads();
    const pool = new BufferPool();
    const reads = sequentialReads(fake, pool);
    const range = READ_AHEAD_BYTES_MIN;
    reads.read(0, range, 10, range, true, 10 * range);
    expect(fake.queued).toHaveLength(0); // one read is not a sequence
    reads.read(range, 2 * range, 20, range, true, 10 * range);
    expect(fake.queued.map(({ position, length }) => [position, length])).toEqual([[2 * range, range]]);
    expect(readAheadsHeld()).toEqual({ ranges: 1, bytes: range });
    expect(reads.take(2 * range, range)).toBeUndefined(); // still being read: not served, and dropped
    expect(readAheadsHeld().ranges).toBe(0);
    fake.complete();
    expect(pool.freeBuffers).toBe(1); // the dropped range's buffer came back when its read completed

    reads.read(2 * range, 3 * range, 30, range, true, 10 * range);
    fake.complete();
    const bytes = reads.take(3 * range, range)!;
    expect(bytes.byteLength).toBe(range);
    expect(bytes.every((byte) => byte === (3 * range) % 251)).toBe(true);
    expect(reads.take(3 * range, range)).toBeUndefined();
    expect(readAheadsHeld().ranges).toBe(0);
  });

  it('does not read ahead after a short read, a small range, a non-sequential read, or when the next range is not all in the file', () => {
    const fake = new FakeReads();
    const reads = sequentialReads(fake);
    const range = READ_AHEAD_BYTES_MIN;
    reads.read(0, range, 10, range, true, 100 * range);
    reads.read(range, 2 * range - 100, 20, range, false, 100 * range); // not full
    reads.read(2 * range - 100, 3 * range, 30, range - 1, true, 100 * range); // below the minimum
    reads.read(5 * range, 6 * range, 60, range, true, 100 * range); // a jump
    reads.read(6 * range, 7 * range, 70, range, true, 8 * range - 1); // the next range is not all written
    expect(fake.queued).toHaveLength(0);
    reads.read(7 * range, 8 * range, 80, range, true, 9 * range);
    expect(fake.queued).toHaveLength(1);
  });

  it('serves a range only at the same position and length; a mismatch gives its buffer back', () => {
    const fake = new FakeReads();
    const pool = new BufferPool();
    const reads = sequentialReads(fake, pool);
    const range = 128 * 1024;
    reads.read(0, range, 10, range, true, 10 * range);
    reads.read(range, 2 * range, 20, range, true, 10 * range);
    fake.complete();
    expect(reads.take(2 * range, range - 1)).toBeUndefined();
    expect(pool.freeBuffers).toBe(1);
    reads.read(2 * range, 3 * range, 30, range, true, 10 * range);
    fake.complete();
    expect(reads.take(3 * range + 1, range)).toBeUndefined();
    expect(pool.freeBuffers).toBe(1);
    expect(readAheadsHeld().ranges).toBe(0);
  });

  it('a failed or short read ahead is never served, and a refused one holds nothing', () => {
    const fake = new FakeReads();
    const pool = new BufferPool();
    const reads = sequentialReads(fake, pool);
    const range = READ_AHEAD_BYTES_MIN;
    reads.read(0, range, 10, range, true, 10 * range);
    reads.read(range, 2 * range, 20, range, true, 10 * range);
    fake.complete(-1);
    expect(reads.take(2 * range, range)).toBeUndefined();
    reads.read(2 * range, 3 * range, 30, range, true, 10 * range);
    fake.complete(range - 1);
    expect(reads.take(3 * range, range)).toBeUndefined();
    expect(readAheadsHeld().ranges).toBe(0);
    fake.refuse = true;
    reads.read(3 * range, 4 * range, 40, range, true, 10 * range);
    expect(readAheadsHeld().ranges).toBe(0);
    expect(pool.freeBuffers).toBe(1);
  });

  it('reset drops the range held; a read still in flight gives its buffer back when it completes', () => {
    const fake = new FakeReads();
    const pool = new BufferPool();
    const reads = sequentialReads(fake, pool);
    const range = READ_AHEAD_BYTES_MIN;
    reads.read(0, range, 10, range, true, 10 * range);
    reads.read(range, 2 * range, 20, range, true, 10 * range);
    reads.reset();
    expect(readAheadsHeld().ranges).toBe(0);
    expect(pool.freeBuffers).toBe(0);
    fake.complete();
    expect(pool.freeBuffers).toBe(1);
    expect(reads.take(2 * range, range)).toBeUndefined();
  });

  it('holds at most READ_AHEADS_MAX ranges and READ_AHEAD_HELD_BYTES_MAX bytes per thread, dropping the oldest', () => {
    const fake = new FakeReads();
    const range = READ_AHEAD_BYTES_MIN;
    const segments = Array.from({ length: READ_AHEADS_MAX + 3 }, () => sequentialReads(fake));
    for (const reads of segments) {
      reads.read(0, range, 10, range, true, 10 * range);
      reads.read(range, 2 * range, 20, range, true, 10 * range);
    }
    expect(readAheadsHeld()).toEqual({ ranges: READ_AHEADS_MAX, bytes: READ_AHEADS_MAX * range });
    while (fake.queued.length > 0) fake.complete();
    expect(segments[0]!.take(2 * range, range)).toBeUndefined(); // the oldest were dropped
    expect(segments.at(-1)!.take(2 * range, range)).toBeDefined();

    const large = 6 * MiB;
    const big = Array.from({ length: 3 }, () => sequentialReads(fake));
    for (const reads of big) {
      reads.read(0, large, 10, large, true, 10 * large);
      reads.read(large, 2 * large, 20, large, true, 10 * large);
    }
    expect(readAheadsHeld().bytes).toBeLessThanOrEqual(READ_AHEAD_HELD_BYTES_MAX);
    const tooLarge = sequentialReads(fake);
    const queuedBefore = fake.queued.length;
    tooLarge.read(0, READ_AHEAD_HELD_BYTES_MAX + 1, 10, READ_AHEAD_HELD_BYTES_MAX + 1, true, 100 * MiB);
    tooLarge.read(READ_AHEAD_HELD_BYTES_MAX + 1, 2 * (READ_AHEAD_HELD_BYTES_MAX + 1), 20, READ_AHEAD_HELD_BYTES_MAX + 1, true, 100 * MiB);
    expect(fake.queued.length).toBe(queuedBefore);
  });
});
