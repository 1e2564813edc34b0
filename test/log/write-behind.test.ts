import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem, type LogFileSystem } from '../../src/log/log-file-system.js';
import { nativeAddon } from '../../src/log/native-addon.js';
import { PageCacheBudget } from '../../src/log/page-cache-budget.js';
import { PartitionLog, WRITE_BEHIND_STEP_BYTES } from '../../src/log/partition-log.js';
import { DEFAULT_LOG_CONFIG } from '../../src/log/log-config.js';
import { PAGE_CACHE_CALLS_IN_FLIGHT_MAX, pageCacheCallsInFlight, WriteBehind } from '../../src/log/write-behind.js';
import { buildBatch } from './batch-builder.js';
import { TemporaryDirectories } from './temporary-directory.js';

const MiB = 1024 * 1024;
const directories = new TemporaryDirectories();
afterEach(() => directories.removeAll());

type Call = [string, number, number];
type Done = (error: Error | null) => void;

/**
 * A file system that records the write-behind calls. Calls complete at once, or, with `hold`,
 * only when the test runs `release()`.
 */
function recordingFileSystem(hold = false): { fs: LogFileSystem; calls: Call[]; release: (error?: Error) => number } {
  const calls: Call[] = [];
  const held: Done[] = [];
  const call = (kind: string) => (_fd: number, position: number, length: number, done: Done): void => {
    calls.push([kind, position, length]);
    if (hold) held.push(done);
    else done(null);
  };
  return {
    calls,
    fs: { ...nodeFileSystem, startWriteback: call('writeback'), evictWritten: call('evict'), readAhead: call('readAhead') },
    release: (error) => {
      const count = held.length;
      for (const done of held.splice(0)) done(error ?? null);
      return count;
    },
  };
}

const options = (budget: PageCacheBudget | undefined, readAheadBytes = 2 * MiB, preallocateBytes = 0, fileBytesMax = 1024 * MiB) => ({ budget, stepBytes: MiB, readAheadBytes, preallocateBytes, fileBytesMax });

/** Waits until this thread's page-cache calls (real ones, on the thread pool) have finished. */
async function settled(): Promise<void> {
  for (let i = 0; i < 500 && pageCacheCallsInFlight() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(pageCacheCallsInFlight()).toBe(0);
}

describe('WriteBehind: which ranges it writes back, evicts and reads ahead', () => {
  it('starts writeback every step, and the shared budget evicts the oldest ranges of all its files', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const budget = new PageCacheBudget(4 * MiB);
    const a = new WriteBehind(recording, 98, 0, options(budget));
    const b = new WriteBehind(recording, 99, 0, options(budget));
    let size = 0;
    for (let i = 0; i < 20; i++) {
      size += 256 * 1024;
      a.appended(size); // 5 MiB in 256 KiB appends
      if (i % 4 === 3) b.appended(size); // 5 MiB in 1 MiB appends
    }
    expect(calls.filter(([kind]) => kind === 'writeback')).toEqual(Array.from({ length: 10 }, (_, i) => ['writeback', Math.floor(i / 2) * MiB, MiB]));
    // 10 MiB admitted, 4 MiB kept: the 6 oldest MiB went, alternating between the files as written.
    expect(calls.filter(([kind]) => kind === 'evict')).toEqual(Array.from({ length: 6 }, (_, i) => ['evict', Math.floor(i / 2) * MiB, MiB]));
    expect(budget.cachedBytes).toBe(4 * MiB);
  });

  it('without a budget starts writeback but never evicts', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const writeBehind = new WriteBehind(recording, 99, 0, options(undefined));
    for (let size = MiB; size <= 20 * MiB; size += MiB) writeBehind.appended(size);
    writeBehind.read(0, MiB);
    expect(calls.filter(([kind]) => kind === 'writeback')).toHaveLength(20);
    expect(calls.filter(([kind]) => kind !== 'writeback')).toEqual([]);
  });

  it('evicts a read of evicted data again and reads the next range ahead; reads of cached data are left alone', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const writeBehind = new WriteBehind(recording, 99, 0, options(new PageCacheBudget(2 * MiB), 3 * MiB));
    for (let size = MiB; size <= 8 * MiB; size += MiB) writeBehind.appended(size); // evicted below 6 MiB
    calls.length = 0;
    writeBehind.read(MiB, 500_000);
    expect(calls).toEqual([['evict', MiB, 500_000], ['readAhead', MiB + 500_000, 3 * MiB]]);
    calls.length = 0;
    writeBehind.read(6 * MiB - 10, 20); // crosses into the cached part
    writeBehind.read(7 * MiB, 1000);
    writeBehind.read(0, 0);
    expect(calls).toEqual([]);
  });

  it('leaves what the file held when it opened to the kernel, and follows truncation', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const writeBehind = new WriteBehind(recording, 99, 10 * MiB, options(new PageCacheBudget(MiB)));
    writeBehind.appended(10 * MiB + 100);
    expect(calls).toEqual([]);
    writeBehind.appended(11 * MiB);
    expect(calls).toEqual([['writeback', 10 * MiB, MiB]]);
    writeBehind.truncated(2 * MiB);
    calls.length = 0;
    writeBehind.appended(3 * MiB);
    expect(calls).toEqual([['writeback', 2 * MiB, MiB], ['evict', 10 * MiB, MiB]]);
  });

  it('does nothing on a file system without the calls (no addon, not Linux)', () => {
    const { startWriteback: _w, evictWritten: _e, readAhead: _r, ...plain } = nodeFileSystem;
    const writeBehind = new WriteBehind(plain, 99, 0, options(new PageCacheBudget(MiB)));
    for (let size = MiB; size <= 5 * MiB; size += MiB) writeBehind.appended(size);
    writeBehind.read(0, MiB);
    let closed = false;
    writeBehind.close(() => (closed = true));
    expect(closed).toBe(true);
    expect(() => writeBehind.throwIfFailed()).not.toThrow();
  });

  it('keeps the first error a call reports for the next flush, and stops calling the disk after it', () => {
    const { fs: recording, calls, release } = recordingFileSystem(true);
    const writeBehind = new WriteBehind(recording, 99, 0, options(new PageCacheBudget(MiB)));
    writeBehind.appended(MiB);
    writeBehind.appended(2 * MiB); // writeback of the second step, eviction of the first
    expect(calls).toHaveLength(3);
    expect(() => writeBehind.throwIfFailed()).not.toThrow();
    release(Object.assign(new Error('EIO: i/o error, sync_file_range'), { code: 'EIO' }));
    for (let size = 3 * MiB; size <= 6 * MiB; size += MiB) writeBehind.appended(size);
    expect(calls).toHaveLength(3);
    expect(() => writeBehind.throwIfFailed()).toThrow(/EIO/);
    expect(pageCacheCallsInFlight()).toBe(0);
  });

  it('closes the fd only after its calls in flight have finished, and evicts nothing of a closed file', () => {
    const { fs: recording, calls, release } = recordingFileSystem(true);
    const budget = new PageCacheBudget(MiB);
    const writeBehind = new WriteBehind(recording, 99, 0, options(budget));
    writeBehind.appended(MiB);
    let closed = 0;
    writeBehind.close(() => closed++);
    expect(closed).toBe(0);
    release();
    expect(closed).toBe(1);
    // Its range still queued in the budget is skipped when it comes due: no call on a reused fd.
    const other = new WriteBehind(recording, 100, 0, options(budget));
    calls.length = 0;
    other.appended(MiB);
    other.appended(2 * MiB);
    release();
    expect(calls).toEqual([['writeback', 0, MiB], ['writeback', MiB, MiB], ['evict', 0, MiB]]);
    expect(closed).toBe(1);
  });

  it('bounds the calls in flight; each call that finishes lets held-back writeback and evictions go, without more appends', () => {
    const { fs: recording, calls, release } = recordingFileSystem(true);
    const budget = new PageCacheBudget(2 * MiB);
    const writeBehind = new WriteBehind(recording, 99, 0, options(budget));
    try {
      for (let size = MiB; size <= 40 * MiB; size += MiB) writeBehind.appended(size);
      expect(pageCacheCallsInFlight()).toBe(PAGE_CACHE_CALLS_IN_FLIGHT_MAX);
      expect(calls).toHaveLength(PAGE_CACHE_CALLS_IN_FLIGHT_MAX);
      let rounds = 0;
      while (release() > 0) rounds++;
      expect(rounds).toBeGreaterThan(1);
      // Every appended byte had its writeback started, in order and once; all but the newest 2 MiB were evicted.
      const writebacks = calls.filter(([kind]) => kind === 'writeback');
      let end = 0;
      for (const [, position, length] of writebacks) {
        expect(position).toBe(end);
        end += length;
      }
      expect(end).toBe(40 * MiB);
      const evicted = calls.filter(([kind]) => kind === 'evict').reduce((sum, [, , length]) => sum + length, 0);
      expect(evicted).toBe(38 * MiB);
      expect(budget.cachedBytes).toBe(2 * MiB);
    } finally {
      while (release() > 0);
    }
    expect(pageCacheCallsInFlight()).toBe(0);
  });

  it('preallocates a new file written fast (4 MiB within a second), once; not a slow one or one that opened with data; a failure is no error; the rest is given back at close', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const heldPreallocations: Done[] = [];
    const truncations: [number, number][] = [];
    const withPreallocate: LogFileSystem = {
      ...recording,
      preallocate: (_fd, position, length, done) => {
        calls.push(['preallocate', position, length]);
        heldPreallocations.push(done);
      },
      truncate: (fd, length) => truncations.push([fd, length]),
    };
    let clock = 0;
    const writeBehindOf = (fd: number, size: number) => new WriteBehind(withPreallocate, fd, size, { ...options(undefined, 2 * MiB, 16 * MiB), now: () => clock });
    const preallocations = () => calls.filter(([kind]) => kind === 'preallocate');
    // Opened with data: its rate is not watched.
    const old = writeBehindOf(97, 5 * MiB);
    for (let size = 5 * MiB; size <= 10 * MiB; size += 256 * 1024) old.appended(size);
    // Slow: 4 MiB after 1.5 s.
    const slow = writeBehindOf(98, 0);
    for (let size = 256 * 1024; size <= 5 * MiB; size += 256 * 1024) {
      slow.appended(size);
      clock += 100;
    }
    expect(preallocations()).toEqual([]);
    // Fast: 4 MiB within 1 s; the rest of the first 16 MiB from the next step on, once.
    const fast = writeBehindOf(99, 0);
    for (let size = 300 * 1024; size <= 6 * MiB; size += 300 * 1024) {
      fast.appended(size);
      clock += 20;
    }
    expect(preallocations()).toEqual([['preallocate', 5 * MiB, 11 * MiB]]);
    let closed = false;
    fast.close(() => (closed = true));
    expect(closed).toBe(false); // the fd stays open until the preallocation is done
    heldPreallocations.shift()!(Object.assign(new Error('EOPNOTSUPP: operation not supported, fallocate'), { code: 'EOPNOTSUPP' }));
    expect(closed).toBe(true);
    expect(() => fast.throwIfFailed()).not.toThrow();
    expect(truncations).toEqual([[99, 20 * 300 * 1024]]); // the size after the last append
  });

  it('keeps a fast file preallocated a window ahead of its end, topped up at half the window, never past fileBytesMax', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const held: Done[] = [];
    const withPreallocate: LogFileSystem = {
      ...recording,
      preallocate: (_fd, position, length, done) => {
        calls.push(['preallocate', position, length]);
        held.push(done);
      },
    };
    let clock = 0;
    // Window 16 MiB, the segment at most 40 MiB.
    const fast = new WriteBehind(withPreallocate, 99, 0, { ...options(undefined, 2 * MiB, 16 * MiB, 40 * MiB), now: () => clock });
    const preallocations = () => calls.filter(([kind]) => kind === 'preallocate');
    let size = 0;
    const appendTo = (to: number) => {
      for (; size + 256 * 1024 <= to; ) {
        size += 256 * 1024;
        fast.appended(size);
        clock += 10;
      }
    };
    appendTo(4 * MiB);
    expect(preallocations()).toEqual([['preallocate', 4 * MiB, 12 * MiB]]); // the rest of the first window
    appendTo(8 * MiB - 256 * 1024);
    expect(preallocations()).toHaveLength(1); // more than half a window still ahead
    appendTo(8 * MiB);
    expect(preallocations().slice(1)).toEqual([['preallocate', 16 * MiB, 16 * MiB]]);
    appendTo(24 * MiB);
    expect(preallocations().slice(2)).toEqual([['preallocate', 32 * MiB, 8 * MiB]]); // cut at fileBytesMax
    appendTo(40 * MiB);
    expect(preallocations()).toHaveLength(3);
    while (held.length > 0) held.shift()!(null);
    expect(pageCacheCallsInFlight()).toBe(0);
  });

  it('a top-up refused at the in-flight bound is asked for again at the next append', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const held: Done[] = [];
    const holding = (kind: string) => (_fd: number, position: number, length: number, done: Done) => {
      calls.push([kind, position, length]);
      held.push(done);
    };
    const withPreallocate: LogFileSystem = { ...recording, preallocate: holding('preallocate'), startWriteback: holding('writeback') };
    let clock = 0;
    const fast = new WriteBehind(withPreallocate, 99, 0, { ...options(undefined, 2 * MiB, 16 * MiB, 64 * MiB), now: () => clock });
    const preallocations = () => calls.filter(([kind]) => kind === 'preallocate');
    let size = 0;
    // Fast from the start: [4, 16) MiB at 4 MiB, [16, 32) at 8 MiB; writeback starts every MiB are held.
    while (pageCacheCallsInFlight() < PAGE_CACHE_CALLS_IN_FLIGHT_MAX) {
      fast.appended((size += MiB));
      clock += 10;
    }
    expect(size).toBeLessThan(24 * MiB);
    expect(preallocations()).toEqual([['preallocate', 4 * MiB, 12 * MiB], ['preallocate', 16 * MiB, 16 * MiB]]);
    // The next top-up is due at 24 MiB, but the bound is full: nothing is queued.
    while (size < 25 * MiB) fast.appended((size += MiB));
    expect(preallocations()).toHaveLength(2);
    // Two slots free: the first goes to the writeback the bound held back, the second stays free.
    held.shift()!(null);
    held.shift()!(null);
    fast.appended((size += MiB));
    expect(preallocations().slice(2)).toEqual([['preallocate', 32 * MiB, 16 * MiB]]);
    while (held.length > 0) held.shift()!(null);
    expect(pageCacheCallsInFlight()).toBe(0);
  });

  it('a partition log whose eviction failed goes offline at its next flush with KAFKA_STORAGE_ERROR', async () => {
    const directory = directories.make();
    const fail = (_fd: number, _position: number, _length: number, done: Done): void => done(Object.assign(new Error('EIO: i/o error, sync_file_range'), { code: 'EIO' }));
    const failing: LogFileSystem = { ...nodeFileSystem, startWriteback: (_fd, _p, _l, done) => done(null), evictWritten: fail, readAhead: (_fd, _p, _l, done) => done(null) };
    const log = new PartitionLog({ directory, config: DEFAULT_LOG_CONFIG, fs: failing, pageCacheBudget: new PageCacheBudget(MiB) });
    const batch = buildBatch([{ key: null, value: new Uint8Array(64 * 1024) }], { baseTimestamp: Date.now() });
    // Two writeback steps: the first is evicted (the budget is 1 MiB), and that fails.
    for (let i = 0; i < (2 * WRITE_BEHIND_STEP_BYTES) / batch.byteLength + 1; i++) await log.append(batch);
    await expect(log.flush()).rejects.toMatchObject({ errorName: 'KAFKA_STORAGE_ERROR' });
    await expect(log.append(batch)).rejects.toMatchObject({ errorName: 'KAFKA_STORAGE_ERROR' });
    log.close();
  });
});

describe('write-behind on real files (native addon, Linux)', () => {
  // On disk, not in /dev/shm (tmpfs pages cannot be evicted): the OS temp directory.
  const diskDirectory = (): string => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-write-behind-'));
    diskDirectories.push(directory);
    return directory;
  };
  const diskDirectories: string[] = [];
  afterEach(() => {
    for (const directory of diskDirectories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
  });
  const residentBytes = (file: string): number => Number(execFileSync('fincore', ['-b', '-n', '-o', 'RES', file], { encoding: 'utf8' }).trim());
  const segmentFile = (directory: string): string => `${directory}/${fs.readdirSync(directory).find((name) => name.endsWith('.log'))}`;

  it('holds two partitions sharing a budget to about the budget in the page cache, and every byte reads back', async () => {
    expect(nativeAddon?.startWriteback, 'the addon is built on Linux (npm install)').toBeTypeOf('function');
    const step = WRITE_BEHIND_STEP_BYTES;
    const budgetBytes = 3 * step;
    const budget = new PageCacheBudget(budgetBytes);
    const logs = [diskDirectory(), diskDirectory()].map((directory) => ({ directory, log: new PartitionLog({ directory, config: DEFAULT_LOG_CONFIG, pageCacheBudget: budget }) }));
    const value = new Uint8Array(100 * 1024).map((_, i) => (i * 31) & 0xff);
    const batch = buildBatch([{ key: null, value }], { baseTimestamp: Date.now() });
    const batches = 400;
    for (let i = 0; i < batches; i++) for (const { log } of logs) await log.append(batch); // ~40 MB each
    await settled();
    const files = logs.map(({ directory }) => segmentFile(directory));
    for (const file of files) expect(fs.statSync(file).size).toBeGreaterThan(40e6);
    // The budget + per file the step not yet written back (< 1 step) and the partial page at the end;
    // at least the budget less the step last evicted (eviction goes a step at a time).
    const resident = files.reduce((sum, file) => sum + residentBytes(file), 0);
    expect(resident).toBeLessThanOrEqual(budgetBytes + 2 * (step + 4096));
    expect(resident).toBeGreaterThanOrEqual(budgetBytes - step);
    // Reading one back from the start (mostly from disk) returns every batch intact.
    const { log } = logs[0]!;
    const residentBefore = residentBytes(files[0]!);
    let offset = 0;
    let bytesRead = 0;
    while (offset < batches) {
      const slice = log.read(offset, MiB, log.logEndOffset);
      expect(slice.firstOffset).toBe(offset);
      // Each batch is the one appended, with its offset: its value bytes are the last ones.
      for (let at = 0; at < slice.bytes.byteLength; at += batch.byteLength) {
        expect(Buffer.compare(slice.bytes.subarray(at + batch.byteLength - value.byteLength - 1, at + batch.byteLength - 1), value)).toBe(0);
      }
      bytesRead += slice.bytes.byteLength;
      offset = slice.nextOffset;
    }
    expect(offset).toBe(batches);
    expect(bytesRead).toBe(fs.statSync(files[0]!).size);
    await settled();
    // Catching up left the cache about as small as before (what it read was dropped again, read-ahead aside).
    // At most the read-ahead (4 MiB) and the read that crossed into the cached part (1 MiB) more.
    expect(residentBytes(files[0]!)).toBeLessThanOrEqual(residentBefore + 4 * MiB + MiB + 4096);
    for (const { log: each } of logs) each.close();
    await settled();
  });

  it('a new segment written fast gets its first blocks allocated ahead; a slow one does not; a closed one keeps no blocks past its end', async () => {
    expect(nativeAddon?.preallocate, 'the addon is built on Linux (npm install)').toBeTypeOf('function');
    const config = { ...DEFAULT_LOG_CONFIG, segmentBytes: 16 * MiB };
    const batch = buildBatch([{ key: null, value: new Uint8Array(100 * 1024) }], { baseTimestamp: Date.now() });
    const allocatedBytes = (file: string): number => fs.statSync(file).blocks * 512;
    // Slow: one batch, nothing allocated ahead.
    const slowDirectory = diskDirectory();
    const slow = new PartitionLog({ directory: slowDirectory, config });
    await slow.append(batch);
    await settled();
    expect(allocatedBytes(segmentFile(slowDirectory))).toBeLessThan(MiB);
    slow.close();
    // Fast: 5 MB at once; the first 16 MiB (min(64 MiB, segment.bytes)) are allocated.
    const directory = diskDirectory();
    const log = new PartitionLog({ directory, config });
    for (let i = 0; i < 50; i++) await log.append(batch);
    await settled();
    const file = segmentFile(directory);
    expect(fs.statSync(file).size).toBe(50 * batch.byteLength);
    // From the next writeback step on; below it, what was written.
    expect(allocatedBytes(file)).toBeGreaterThanOrEqual(16 * MiB - WRITE_BEHIND_STEP_BYTES);
    log.close();
    await settled();
    expect(allocatedBytes(file)).toBeLessThan(50 * batch.byteLength + MiB);
    // Reopened, every batch is there.
    const reopened = new PartitionLog({ directory, config });
    expect(reopened.logEndOffset).toBe(50);
    expect(reopened.read(49, MiB, 50).bytes.byteLength).toBe(batch.byteLength);
    reopened.close();
  });

  it('without a budget leaves everything to the kernel: the whole file stays cached', async () => {
    const directory = diskDirectory();
    const log = new PartitionLog({ directory, config: DEFAULT_LOG_CONFIG });
    const batch = buildBatch([{ key: null, value: new Uint8Array(100 * 1024) }], { baseTimestamp: Date.now() });
    for (let i = 0; i < 100; i++) await log.append(batch);
    await settled();
    expect(residentBytes(segmentFile(directory))).toBe(Math.ceil(fs.statSync(segmentFile(directory)).size / 4096) * 4096);
    log.close();
    await settled();
  });

  it('the addon calls report errors shaped like Node fs errors to their callback; bad arguments throw', async () => {
    const addon = nativeAddon!;
    const result = (call: NonNullable<typeof addon.startWriteback>): Promise<Error | null> => new Promise((resolve) => call(1_000_000, 0, 10, resolve));
    expect(await result(addon.startWriteback!)).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'sync_file_range' });
    expect(await result(addon.evictWritten!)).toMatchObject({ code: 'EBADF', syscall: 'sync_file_range' });
    expect(await result(addon.readAhead!)).toMatchObject({ code: 'EBADF', syscall: 'posix_fadvise' });
    const file = path.join(diskDirectory(), 'f');
    fs.writeFileSync(file, Buffer.alloc(MiB));
    const fd = fs.openSync(file, 'r+');
    try {
      expect(await result((_fd, position, length, done) => addon.evictWritten!(fd, position, length, done))).toBeNull();
    } finally {
      fs.closeSync(fd);
    }
    expect(() => addon.evictWritten!(0, -1, 10, () => undefined)).toThrow(RangeError);
    expect(() => (addon.readAhead as unknown as (fd: unknown) => void)('x')).toThrow(TypeError);
    expect(() => (addon.readAhead as unknown as (...args: unknown[]) => void)(0, 0, 10, 'not a function')).toThrow(TypeError);
  });
});
