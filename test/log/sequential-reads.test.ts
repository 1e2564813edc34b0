import { afterEach, describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/protocol/buffer-pool.js';
import { READ_AHEAD_BYTES_MIN, READ_AHEAD_HELD_BYTES_MAX, READ_AHEAD_STALE_MS, READ_AHEADS_MAX, readAheadsHeld, SequentialReads } from '../../src/log/sequential-reads.js';

const MiB = 1024 * 1024;

/**
 * The event loop's end of turn, run when the test says, and a file whose byte at each position
 * is derived from it; reads can be made to fail or come back short.
 */
class FakeReads {
  readonly deferred: (() => void)[] = [];
  readonly reads: [position: number, length: number][] = [];
  failWith: 'error' | 'short' | undefined;

  readonly defer = (run: () => void): void => {
    this.deferred.push(run);
  };

  readonly readAt = (target: Uint8Array, position: number, length: number): number => {
    this.reads.push([position, length]);
    if (this.failWith === 'error') throw new Error('EIO: injected');
    target.fill(position % 251, 0, length);
    return this.failWith === 'short' ? length - 1 : length;
  };

  /** Runs the oldest deferred read ahead. */
  complete(): void {
    this.deferred.shift()!();
  }
}

const all: SequentialReads[] = [];
let clockMs = 0;
function sequentialReads(fake: FakeReads, pool = new BufferPool()): SequentialReads {
  const reads = new SequentialReads(fake.readAt, pool, fake.defer, () => clockMs);
  all.push(reads);
  return reads;
}
afterEach(() => {
  for (const reads of all.splice(0)) reads.reset();
});

/** One segment's reads over a fake file, with their own pool. */
function setup(): { fake: FakeReads; pool: BufferPool; reads: SequentialReads } {
  const fake = new FakeReads();
  const pool = new BufferPool();
  return { fake, pool, reads: sequentialReads(fake, pool) };
}

/** Two full reads in a row of `range` bytes from position 0: the second reads the third range ahead. */
function sequence(reads: SequentialReads, range = READ_AHEAD_BYTES_MIN): void {
  reads.read(0, range, 10, range, 10 * range);
  reads.read(range, 2 * range, 20, range, 10 * range);
}

describe('SequentialReads', () => {
  it('remembers where the batch after the last read starts, for that offset only', () => {
    const reads = sequentialReads(new FakeReads());
    expect(reads.positionOf(0)).toBeUndefined();
    reads.read(0, 4000, 100, 4096, 10_000);
    expect(reads.positionOf(100)).toBe(4000);
    expect(reads.positionOf(99)).toBeUndefined();
    expect(reads.positionOf(101)).toBeUndefined();
    reads.reset();
    expect(reads.positionOf(100)).toBeUndefined();
  });

  it('reads ahead only after a full read that continued the one before: the whole next range, at the end of the turn, handed over once', () => {
    const { fake, pool, reads } = setup();
    const range = READ_AHEAD_BYTES_MIN;
    reads.read(0, range, 10, range, 10 * range);
    expect(fake.deferred).toHaveLength(0); // one read is not a sequence
    reads.read(range, 2 * range, 20, range, 10 * range);
    expect(fake.deferred).toHaveLength(1);
    expect(fake.reads).toEqual([]); // nothing is read before the turn ends
    expect(readAheadsHeld()).toEqual({ ranges: 1, bytes: range });
    expect(reads.take(2 * range, range)).toBeUndefined(); // not read yet: not served, and dropped
    expect(readAheadsHeld().ranges).toBe(0);
    fake.complete();
    expect(fake.reads).toEqual([]); // a dropped read ahead never reads, nor takes a buffer
    expect(pool.freeBuffers).toBe(0);

    reads.read(2 * range, 3 * range, 30, range, 10 * range);
    fake.complete();
    expect(fake.reads).toEqual([[3 * range, range]]);
    const bytes = reads.take(3 * range, range)!;
    expect(bytes.byteLength).toBe(range);
    expect(bytes.every((byte) => byte === (3 * range) % 251)).toBe(true);
    expect(reads.take(3 * range, range)).toBeUndefined();
    expect(readAheadsHeld().ranges).toBe(0);
  });

  it('a reader that reads in a loop without yielding gets no reads ahead but the last, and takes no buffers for them', () => {
    const { fake, pool, reads } = setup();
    const range = READ_AHEAD_BYTES_MIN;
    for (let i = 0; i < 20; i++) {
      expect(reads.take(i * range, range)).toBeUndefined();
      reads.read(i * range, (i + 1) * range, (i + 1) * 10, range, 100 * range);
    }
    expect(readAheadsHeld().ranges).toBe(1);
    while (fake.deferred.length > 0) fake.complete();
    expect(fake.reads).toEqual([[20 * range, range]]);
    expect(reads.take(20 * range, range)).toBeDefined();
    expect(pool.freeBuffers).toBe(0);
  });

  it('hands over exactly the range asked for from a larger pooled buffer', () => {
    const fake = new FakeReads();
    const reads = sequentialReads(fake);
    const range = 100_000; // pooled in a 128 KiB buffer
    sequence(reads, range);
    fake.complete();
    expect(reads.take(2 * range, range)!.byteLength).toBe(range);
  });

  it('does not read ahead after a short read, a small range, a non-sequential read, or when the next range is not all in the file', () => {
    const fake = new FakeReads();
    const reads = sequentialReads(fake);
    const range = READ_AHEAD_BYTES_MIN;
    reads.read(0, range, 10, range, 100 * range);
    reads.read(range, 2 * range - 100, 20, range, 2 * range - 100); // short: the file ended there
    reads.read(2 * range - 100, 3 * range, 30, range - 1, 100 * range); // below the minimum
    reads.read(5 * range, 6 * range, 60, range, 100 * range); // a jump
    reads.read(6 * range, 7 * range, 70, range, 8 * range - 1); // the next range is not all written
    expect(fake.deferred).toHaveLength(0);
    reads.read(7 * range, 8 * range, 80, range, 9 * range);
    expect(fake.deferred).toHaveLength(1);
  });

  it('serves a range only at the same position and length; a mismatch gives its buffer back', () => {
    const { fake, pool, reads } = setup();
    const range = 128 * 1024;
    sequence(reads, range);
    fake.complete();
    expect(reads.take(2 * range, range - 1)).toBeUndefined();
    expect(pool.freeBuffers).toBe(1);
    reads.read(2 * range, 3 * range, 30, range, 10 * range);
    fake.complete();
    expect(reads.take(3 * range + 1, range)).toBeUndefined();
    expect(pool.freeBuffers).toBe(1);
    expect(readAheadsHeld().ranges).toBe(0);
  });

  it('a failed or short read ahead is never served and gives its buffer back', () => {
    const { fake, pool, reads } = setup();
    const range = READ_AHEAD_BYTES_MIN;
    reads.read(0, range, 10, range, 10 * range);
    fake.failWith = 'error';
    reads.read(range, 2 * range, 20, range, 10 * range);
    fake.complete();
    expect(readAheadsHeld().ranges).toBe(0);
    expect(reads.take(2 * range, range)).toBeUndefined();
    expect(pool.freeBuffers).toBe(1);
    fake.failWith = 'short';
    reads.read(2 * range, 3 * range, 30, range, 10 * range);
    fake.complete();
    expect(reads.take(3 * range, range)).toBeUndefined();
    expect(readAheadsHeld().ranges).toBe(0);
    expect(pool.freeBuffers).toBe(1);
  });

  it('reset forgets the position and drops the range held, before or after its read ran', () => {
    const { fake, pool, reads } = setup();
    const range = READ_AHEAD_BYTES_MIN;
    sequence(reads, range);
    reads.reset();
    expect(reads.positionOf(20)).toBeUndefined();
    expect(readAheadsHeld().ranges).toBe(0);
    fake.complete();
    expect(fake.reads).toEqual([]); // the file may be gone: no read after a reset
    expect(pool.freeBuffers).toBe(0);
    sequence(reads, range);
    fake.complete();
    reads.reset();
    expect(readAheadsHeld().ranges).toBe(0);
    expect(pool.freeBuffers).toBe(1);
    expect(reads.take(2 * range, range)).toBeUndefined();
  });

  it('holds at most READ_AHEADS_MAX ranges and READ_AHEAD_HELD_BYTES_MAX bytes per thread; a new one pushes out only stale ones', () => {
    const fake = new FakeReads();
    const range = READ_AHEAD_BYTES_MIN;
    clockMs = 0;
    const segments = Array.from({ length: READ_AHEADS_MAX + 3 }, () => sequentialReads(fake));
    for (const reads of segments) sequence(reads);
    // A consumer of more partitions than the bound: the first ones keep their ranges, the rest read in place.
    expect(readAheadsHeld()).toEqual({ ranges: READ_AHEADS_MAX, bytes: READ_AHEADS_MAX * range });
    while (fake.deferred.length > 0) fake.complete();
    expect(fake.reads).toHaveLength(READ_AHEADS_MAX);
    expect(segments.at(-1)!.take(2 * range, range)).toBeUndefined();
    expect(segments[0]!.take(2 * range, range)).toBeDefined();
    expect(readAheadsHeld().ranges).toBe(READ_AHEADS_MAX - 1);

    // Ranges nobody took for READ_AHEAD_STALE_MS make room, oldest first.
    const late = sequentialReads(fake);
    sequence(late);
    expect(readAheadsHeld().ranges).toBe(READ_AHEADS_MAX);
    const later = sequentialReads(fake);
    sequence(later);
    expect(fake.deferred).toHaveLength(1); // refused: every range held is young
    clockMs += READ_AHEAD_STALE_MS;
    sequence(later);
    expect(fake.deferred).toHaveLength(2);
    while (fake.deferred.length > 0) fake.complete();
    expect(segments[1]!.take(2 * range, range)).toBeUndefined(); // the oldest was pushed out
    expect(later.take(2 * range, range)).toBeDefined();

    // Bytes: ranges of 6 MiB fit twice in the 16 MiB; one larger than the bound is never read ahead.
    clockMs += READ_AHEAD_STALE_MS;
    const large = Array.from({ length: 3 }, () => sequentialReads(fake));
    for (const reads of large) sequence(reads, 6 * MiB);
    expect(readAheadsHeld().bytes).toBeLessThanOrEqual(READ_AHEAD_HELD_BYTES_MAX);
    expect(readAheadsHeld().bytes).toBeGreaterThanOrEqual(12 * MiB); // the first two, the stale small ones pushed out
    while (fake.deferred.length > 0) fake.complete();
    expect(large[0]!.take(2 * 6 * MiB, 6 * MiB)).toBeDefined();
    expect(large[2]!.take(2 * 6 * MiB, 6 * MiB)).toBeUndefined(); // no room: the two before it are young
    const tooLarge = sequentialReads(fake);
    const before = fake.deferred.length;
    clockMs += READ_AHEAD_STALE_MS;
    sequence(tooLarge, READ_AHEAD_HELD_BYTES_MAX + 1);
    expect(fake.deferred.length).toBe(before);
  });
});
