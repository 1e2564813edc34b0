import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem, type LogFileSystem } from '../../src/log/log-file-system.js';
import { nativeAddon } from '../../src/log/native-addon.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { DEFAULT_LOG_CONFIG } from '../../src/log/log-config.js';
import { WriteBehind } from '../../src/log/write-behind.js';
import { buildBatch } from './batch-builder.js';
import { TemporaryDirectories } from './temporary-directory.js';

const MiB = 1024 * 1024;
const directories = new TemporaryDirectories();
afterEach(() => directories.removeAll());

type Call = [string, number, number];

/** A file system that records the write-behind calls (and does nothing else for them). */
function recordingFileSystem(): { fs: LogFileSystem; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fs: {
      ...nodeFileSystem,
      startWriteback: (_fd, position, length) => void calls.push(['writeback', position, length]),
      evictWritten: (_fd, position, length) => void calls.push(['evict', position, length]),
      readAhead: (_fd, position, length) => void calls.push(['readAhead', position, length]),
    },
  };
}

describe('WriteBehind: which ranges it writes back, evicts and reads ahead', () => {
  it('starts writeback every step and evicts what falls a window behind the end, in steps', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const writeBehind = new WriteBehind(recording, 99, 0, { windowBytes: 4 * MiB, stepBytes: MiB, readAheadBytes: 2 * MiB });
    let size = 0;
    for (let i = 0; i < 40; i++) writeBehind.appended((size += 256 * 1024)); // 10 MiB in 256 KiB appends
    const writebacks = calls.filter(([kind]) => kind === 'writeback');
    const evictions = calls.filter(([kind]) => kind === 'evict');
    expect(writebacks).toEqual(Array.from({ length: 10 }, (_, i) => ['writeback', i * MiB, MiB]));
    // The window is kept: eviction starts once 5 MiB (window + step) are written, then follows in steps.
    expect(evictions).toEqual(Array.from({ length: 6 }, (_, i) => ['evict', i * MiB, MiB]));
  });

  it('with a window of 0 starts writeback but never evicts', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const writeBehind = new WriteBehind(recording, 99, 0, { windowBytes: 0, stepBytes: MiB, readAheadBytes: 2 * MiB });
    for (let size = MiB; size <= 20 * MiB; size += MiB) writeBehind.appended(size);
    writeBehind.read(0, MiB);
    expect(calls.filter(([kind]) => kind === 'writeback')).toHaveLength(20);
    expect(calls.filter(([kind]) => kind !== 'writeback')).toEqual([]);
  });

  it('evicts a read below the window again and reads the next range ahead; reads inside the window are left alone', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const writeBehind = new WriteBehind(recording, 99, 0, { windowBytes: 2 * MiB, stepBytes: MiB, readAheadBytes: 3 * MiB });
    for (let size = MiB; size <= 8 * MiB; size += MiB) writeBehind.appended(size); // evicted below 6 MiB
    calls.length = 0;
    writeBehind.read(MiB, 500_000);
    expect(calls).toEqual([['evict', MiB, 500_000], ['readAhead', MiB + 500_000, 3 * MiB]]);
    calls.length = 0;
    writeBehind.read(6 * MiB - 10, 20); // crosses into the window
    writeBehind.read(7 * MiB, 1000);
    writeBehind.read(0, 0);
    expect(calls).toEqual([]);
  });

  it('leaves what the file held when it opened to the kernel, and follows truncation', () => {
    const { fs: recording, calls } = recordingFileSystem();
    const writeBehind = new WriteBehind(recording, 99, 10 * MiB, { windowBytes: MiB, stepBytes: MiB, readAheadBytes: MiB });
    writeBehind.appended(10 * MiB + 100);
    expect(calls).toEqual([]);
    writeBehind.appended(11 * MiB);
    expect(calls).toEqual([['writeback', 10 * MiB, MiB]]);
    writeBehind.truncated(2 * MiB);
    calls.length = 0;
    writeBehind.appended(3 * MiB);
    expect(calls).toEqual([['writeback', 2 * MiB, MiB]]);
  });

  it('does nothing on a file system without the calls (no addon, not Linux)', () => {
    const { startWriteback: _w, evictWritten: _e, readAhead: _r, ...plain } = nodeFileSystem;
    const writeBehind = new WriteBehind(plain, 99, 0, { windowBytes: MiB, stepBytes: MiB, readAheadBytes: MiB });
    for (let size = MiB; size <= 5 * MiB; size += MiB) writeBehind.appended(size);
    writeBehind.read(0, MiB);
    expect(() => writeBehind.throwIfFailed()).not.toThrow();
  });

  it('keeps the first writeback error for the next flush, and stops calling the disk after it', () => {
    const calls: Call[] = [];
    const failing: LogFileSystem = {
      ...nodeFileSystem,
      startWriteback: (_fd, position, length) => void calls.push(['writeback', position, length]),
      evictWritten: () => {
        throw Object.assign(new Error('EIO: i/o error, sync_file_range'), { code: 'EIO' });
      },
      readAhead: () => undefined,
    };
    const writeBehind = new WriteBehind(failing, 99, 0, { windowBytes: MiB, stepBytes: MiB, readAheadBytes: MiB });
    for (let size = MiB; size <= 6 * MiB; size += MiB) writeBehind.appended(size);
    expect(calls).toHaveLength(2); // the second step's eviction failed; nothing after it
    expect(() => writeBehind.throwIfFailed()).toThrow(/EIO/);
  });

  it('a partition log whose eviction failed goes offline at its next flush with KAFKA_STORAGE_ERROR', async () => {
    const directory = directories.make();
    const failing: LogFileSystem = {
      ...nodeFileSystem,
      startWriteback: () => undefined,
      evictWritten: () => {
        throw Object.assign(new Error('EIO: i/o error, sync_file_range'), { code: 'EIO' });
      },
      readAhead: () => undefined,
    };
    const log = new PartitionLog({ directory, config: { ...DEFAULT_LOG_CONFIG, pageCacheWindowBytes: MiB }, fs: failing });
    const batch = buildBatch([{ key: null, value: new Uint8Array(64 * 1024) }], { baseTimestamp: Date.now() });
    for (let i = 0; i < 40; i++) await log.append(batch);
    await expect(log.flush()).rejects.toMatchObject({ errorName: 'KAFKA_STORAGE_ERROR' });
    await expect(log.append(batch)).rejects.toMatchObject({ errorName: 'KAFKA_STORAGE_ERROR' });
    log.close();
  });
});

describe('write-behind on a real file (native addon, Linux)', () => {
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

  it('keeps a segment file to about its window in the page cache, and every byte reads back', async () => {
    expect(nativeAddon?.startWriteback, 'the addon is built on Linux (npm install)').toBeTypeOf('function');
    const directory = diskDirectory();
    const log = new PartitionLog({ directory, config: { ...DEFAULT_LOG_CONFIG, pageCacheWindowBytes: 4 * MiB } });
    const value = new Uint8Array(100 * 1024).map((_, i) => (i * 31) & 0xff);
    const batch = buildBatch([{ key: null, value }], { baseTimestamp: Date.now() });
    for (let i = 0; i < 400; i++) await log.append(batch); // ~40 MB
    const segmentFile = `${directory}/${fs.readdirSync(directory).find((name) => name.endsWith('.log'))}`;
    const size = fs.statSync(segmentFile).size;
    expect(size).toBeGreaterThan(40e6);
    // Window (4 MiB) + the step not yet evicted (1 MiB) + the step not yet written back (1 MiB), at most.
    expect(residentBytes(segmentFile)).toBeLessThanOrEqual(6 * MiB);
    // Reading it all back from the start (mostly from disk) returns every batch intact.
    let offset = 0;
    let bytesRead = 0;
    while (offset < 400) {
      const slice = log.read(offset, MiB, log.logEndOffset);
      expect(slice.firstOffset).toBe(offset);
      // Each batch is the one appended, with its offset: its value bytes are the last ones.
      for (let at = 0; at < slice.bytes.byteLength; at += batch.byteLength) {
        expect(Buffer.compare(slice.bytes.subarray(at + batch.byteLength - value.byteLength - 1, at + batch.byteLength - 1), value)).toBe(0);
      }
      bytesRead += slice.bytes.byteLength;
      offset = slice.nextOffset;
    }
    expect(offset).toBe(400);
    expect(bytesRead).toBe(size);
    // Catching up left the cache about as small as before (what it read was dropped again, read-ahead aside).
    expect(residentBytes(segmentFile)).toBeLessThanOrEqual(12 * MiB);
    log.close();
  });

  it('with the default window (0) leaves everything to the kernel: the whole file stays cached', async () => {
    const directory = diskDirectory();
    const log = new PartitionLog({ directory, config: DEFAULT_LOG_CONFIG });
    const batch = buildBatch([{ key: null, value: new Uint8Array(100 * 1024) }], { baseTimestamp: Date.now() });
    for (let i = 0; i < 100; i++) await log.append(batch);
    const segmentFile = `${directory}/${fs.readdirSync(directory).find((name) => name.endsWith('.log'))}`;
    expect(residentBytes(segmentFile)).toBe(Math.ceil(fs.statSync(segmentFile).size / 4096) * 4096);
    log.close();
  });

  it('the addon calls throw errors shaped like Node fs errors on a bad descriptor', () => {
    const addon = nativeAddon!;
    expect(() => addon.startWriteback!(1_000_000, 0, 10)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'sync_file_range' }));
    expect(() => addon.evictWritten!(1_000_000, 0, 10)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'sync_file_range' }));
    expect(() => addon.readAhead!(1_000_000, 0, 10)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'posix_fadvise' }));
    expect(() => addon.evictWritten!(0, -1, 10)).toThrow(RangeError);
    expect(() => (addon.readAhead as unknown as (fd: unknown) => void)('x')).toThrow(TypeError);
  });
});
