import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG } from '../../src/log/log-config.js';
import { LogDirectory } from '../../src/log/log-directory.js';
import { nodeFileSystem, type LogFileSystem } from '../../src/log/log-file-system.js';
import { nativeAddon } from '../../src/log/native-addon.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { SegmentSpares, SPARE_FILE_PREFIX, type SegmentSparesOptions } from '../../src/log/segment-spares.js';
import { pageCacheCallsInFlight } from '../../src/log/write-behind.js';
import { buildBatch } from './batch-builder.js';

const MiB = 1024 * 1024;
type Done = (error: Error | null) => void;

// On disk, not in /dev/shm: the point is the file system's block allocation.
const directories: string[] = [];
const diskDirectory = (): string => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-spares-'));
  directories.push(directory);
  return directory;
};
afterEach(() => {
  for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
});

/** A file system whose fallocate calls wait for the test (`finish`), recording each. */
function heldAllocations(): { fs: LogFileSystem; calls: [string, number, number][]; finish: (error?: Error) => void; closed: number[] } {
  const calls: [string, number, number][] = [];
  const held: Done[] = [];
  const closed: number[] = [];
  return {
    calls,
    closed,
    fs: {
      ...nodeFileSystem,
      // Synchronous creation and removal: the state machine's steps in order, call by call.
      createInBackground: undefined,
      unlinkInBackground: undefined,
      closeInBackground: undefined,
      preallocate: (fd, position, length, done) => {
        calls.push([`fd${fd}`, position, length]);
        held.push(done);
      },
      close: (fd) => {
        closed.push(fd);
        nodeFileSystem.close(fd);
      },
    },
    finish: (error) => {
      const done = held.shift();
      expect(done, 'an allocation in flight').toBeDefined();
      done!(error ?? null);
    },
  };
}

const sparesOptions = (root: string, fileSystem: LogFileSystem, now: () => number = Date.now): SegmentSparesOptions => ({
  root, fs: fileSystem, bytes: 10 * MiB, stepBytes: 4 * MiB, retryAfterMs: 1000, idleReleaseMs: 10_000, releaseCheckMs: 1000, now,
});

const spareFiles = (root: string): string[] => fs.readdirSync(root).filter((name) => name.startsWith(SPARE_FILE_PREFIX)).sort();
const allocatedBytes = (file: string): number => fs.statSync(file).blocks * 512;

async function settled(): Promise<void> {
  for (let i = 0; i < 500 && pageCacheCallsInFlight() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(pageCacheCallsInFlight()).toBe(0);
}

/** Up to 20 s: freeing blocks (a removed spare) may wait seconds for the device's discards here. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

describe('SegmentSpares: one spare file, allocated in steps before anyone appends to it', () => {
  it('prepares only when asked, one step in flight at a time, the last step cut at the size; take hands it over and starts the next', () => {
    const root = diskDirectory();
    const { fs: fileSystem, calls, finish } = heldAllocations();
    const spares = new SegmentSpares(sparesOptions(root, fileSystem));
    expect(spares.status).toBe('idle');
    expect(spareFiles(root)).toEqual([]); // nothing allocated before a fast segment asks
    expect(spares.take()).toBeUndefined(); // none ready: asking starts one
    expect(spares.status).toBe('preparing');
    expect(spareFiles(root)).toEqual([`${SPARE_FILE_PREFIX}0`]);
    expect(calls.map(([, position, length]) => [position, length])).toEqual([[0, 4 * MiB]]);
    spares.want(); // already preparing: nothing more
    finish();
    expect(calls.map(([, position, length]) => [position, length])).toEqual([[0, 4 * MiB], [4 * MiB, 4 * MiB]]);
    expect(spares.take()).toBeUndefined();
    finish();
    finish(); // [8, 10) MiB: cut at the size
    expect(calls.map(([, position, length]) => [position, length])).toEqual([[0, 4 * MiB], [4 * MiB, 4 * MiB], [8 * MiB, 2 * MiB]]);
    expect(spares.status).toBe('ready');
    const spare = spares.take();
    expect(spare).toEqual({ fd: expect.any(Number), path: path.join(root, `${SPARE_FILE_PREFIX}0`), bytes: 10 * MiB });
    // The next one is under a new name, so the one taken keeps its own until it is renamed away.
    expect(spares.status).toBe('preparing');
    expect(spareFiles(root)).toEqual([`${SPARE_FILE_PREFIX}0`, `${SPARE_FILE_PREFIX}1`]);
    expect(calls.at(-1)![0]).not.toBe(`fd${spare!.fd}`);
    spares.discard(spare!);
    expect(spareFiles(root)).toEqual([`${SPARE_FILE_PREFIX}1`]);
    spares.close();
    finish(); // the step in flight ends after the close: only then is its fd closed
    expect(spareFiles(root)).toEqual([]);
  });

  it('a failed allocation removes the file and asks again only after retryAfterMs', () => {
    const root = diskDirectory();
    let now = 0;
    const { fs: fileSystem, calls, finish } = heldAllocations();
    const spares = new SegmentSpares(sparesOptions(root, fileSystem, () => now));
    spares.want();
    finish(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
    expect(spares.status).toBe('idle');
    expect(spareFiles(root)).toEqual([]);
    now = 999;
    expect(spares.take()).toBeUndefined();
    expect(calls).toHaveLength(1);
    now = 1000;
    spares.want();
    expect(spares.status).toBe('preparing');
    expect(calls).toHaveLength(2);
    spares.close();
    finish();
  });

  it('creates, and removes, its files on the thread pool (creating a file may read from disk, removing one frees its blocks)', async () => {
    const root = diskDirectory();
    const onThisThread: string[] = [];
    const watched: LogFileSystem = {
      ...nodeFileSystem,
      open: (file, flags) => (onThisThread.push(`open ${file}`), nodeFileSystem.open(file, flags)),
      unlink: (file) => (onThisThread.push(`unlink ${file}`), nodeFileSystem.unlink(file)),
    };
    const spares = new SegmentSpares(sparesOptions(root, watched));
    spares.want();
    expect(spares.status).toBe('preparing');
    await until(() => spares.status === 'ready');
    expect(spareFiles(root)).toEqual([`${SPARE_FILE_PREFIX}0`]);
    expect(allocatedBytes(path.join(root, `${SPARE_FILE_PREFIX}0`))).toBeGreaterThanOrEqual(10 * MiB);
    spares.close();
    await until(() => spareFiles(root).length === 0);
    expect(onThisThread).toEqual([]);
    // Closed while the file is being created: it is removed once it exists. (Waiting for the
    // creation to call back first: before it, the directory is empty because nothing exists yet.)
    let created = false;
    const early = new SegmentSpares(sparesOptions(root, {
      ...nodeFileSystem,
      createInBackground: (file, done) => nodeFileSystem.createInBackground!(file, (error, fd) => {
        done(error, fd);
        created = true;
      }),
    }));
    early.want();
    early.close();
    await until(() => created && fs.readdirSync(root).length === 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(spareFiles(root)).toEqual([]);
  });

  it('does nothing where fallocate is missing (no addon, not Linux)', () => {
    const root = diskDirectory();
    const spares = new SegmentSpares(sparesOptions(root, { ...nodeFileSystem, preallocate: undefined }));
    expect(spares.supported).toBe(false);
    expect(spares.take()).toBeUndefined();
    expect(spares.status).toBe('idle');
    expect(spareFiles(root)).toEqual([]);
  });

  it('removes spares a crash left behind when it opens, and closing closes the fd of a spare in flight only once its step is done', () => {
    const root = diskDirectory();
    fs.writeFileSync(path.join(root, `${SPARE_FILE_PREFIX}7`), 'half a copy');
    const { fs: fileSystem, finish, closed } = heldAllocations();
    const spares = new SegmentSpares(sparesOptions(root, fileSystem));
    expect(spareFiles(root)).toEqual([]);
    spares.want();
    spares.close();
    expect(closed).toEqual([]);
    finish();
    expect(closed).toHaveLength(1);
    expect(spares.status).toBe('closed');
    spares.want();
    expect(spares.status).toBe('closed');
  });
});

describe('segments found fast move onto the spare (real files, native addon)', () => {
  const config = { ...DEFAULT_LOG_CONFIG, segmentBytes: 16 * MiB };
  const batch = buildBatch([{ key: null, value: new Uint8Array(100 * 1024) }], { baseTimestamp: Date.now() });
  const spareOptions = (root: string, now: () => number): SegmentSparesOptions => ({ root, fs: nodeFileSystem, bytes: 16 * MiB, stepBytes: 4 * MiB, retryAfterMs: 60_000, idleReleaseMs: 10_000, releaseCheckMs: 60_000, now });
  const segmentFiles = (directory: string): string[] => fs.readdirSync(directory).filter((name) => name.endsWith('.log')).sort();

  async function readyFast(root: string, now: () => number): Promise<SegmentSpares> {
    expect(nativeAddon?.preallocate, 'the addon is built on Linux (npm install)').toBeTypeOf('function');
    const spares = new SegmentSpares(spareOptions(root, now));
    spares.want();
    await until(() => spares.status === 'ready');
    return spares;
  }

  it('a fast segment moves onto the fully allocated spare with every byte, reads back the same before and after a reopen, and the next spare is prepared', async () => {
    const root = diskDirectory();
    const spares = await readyFast(root, Date.now);
    expect(allocatedBytes(path.join(root, `${SPARE_FILE_PREFIX}0`))).toBeGreaterThanOrEqual(16 * MiB);
    const directory = path.join(root, 'fast-0');
    const log = new PartitionLog({ directory, config, spares });
    const file = path.join(directory, segmentFiles(directory)[0]!);
    const inodeBefore = fs.statSync(file).ino;
    const batches: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const built = buildBatch([{ key: null, value: new Uint8Array(100 * 1024).fill(i) }], { baseTimestamp: Date.now() });
      batches.push(Buffer.from(built)); // a copy: the append assigns the offset in place
      await log.append(built);
    }
    // Moved at 4 MiB (41 batches): the file under the segment's name is the spare now.
    expect(fs.statSync(file).ino).not.toBe(inodeBefore);
    expect(allocatedBytes(file)).toBeGreaterThanOrEqual(16 * MiB);
    expect(spares.holderCount).toBe(1);
    await until(() => spares.status === 'ready');
    expect(spareFiles(root)).toEqual([`${SPARE_FILE_PREFIX}1`]);
    const readAll = (from: PartitionLog): Buffer => Buffer.concat(Array.from({ length: 50 }, (_, offset) => from.read(offset, 200 * 1024, 50).bytes));
    const before = readAll(log);
    expect(before.byteLength).toBe(50 * batch.byteLength);
    // Byte for byte from the batch length on (the first 8 bytes are the offset the log assigned).
    for (let i = 0; i < 50; i++) expect(before.subarray(i * batch.byteLength + 8, (i + 1) * batch.byteLength).equals(batches[i]!.subarray(8)), `batch ${i}`).toBe(true);
    await log.flush();
    log.close();
    await settled();
    // Closed: the blocks past its end are given back.
    expect(allocatedBytes(file)).toBeLessThan(50 * batch.byteLength + MiB);
    const reopened = new PartitionLog({ directory, config });
    expect(reopened.logEndOffset).toBe(50);
    expect(readAll(reopened).equals(before)).toBe(true);
    reopened.close();
    spares.close();
    await until(() => spareFiles(root).length === 0);
  });

  it('a partition on a spare rolls onto the next spare: renamed into place, nothing created or copied', async () => {
    const root = diskDirectory();
    const spares = await readyFast(root, Date.now);
    const directory = path.join(root, 'rolling-0');
    const log = new PartitionLog({ directory, config, spares });
    for (let i = 0; i < 50; i++) await log.append(batch); // moved onto spare 0
    await until(() => spares.status === 'ready');
    const next = path.join(root, `${SPARE_FILE_PREFIX}1`);
    const nextInode = fs.statSync(next).ino;
    const perSegment = Math.floor((16 * MiB) / batch.byteLength);
    for (let i = 50; i <= perSegment; i++) await log.append(batch); // the last one rolls
    const files = segmentFiles(directory);
    expect(files).toHaveLength(2);
    const second = path.join(directory, files[1]!);
    expect(fs.statSync(second).ino).toBe(nextInode);
    expect(fs.statSync(second).size).toBe(batch.byteLength);
    expect(allocatedBytes(second)).toBeGreaterThanOrEqual(16 * MiB);
    expect(spares.holderCount).toBe(2);
    expect(log.logEndOffset).toBe(perSegment + 1);
    for (const offset of [0, perSegment - 1, perSegment]) expect(log.read(offset, batch.byteLength, perSegment + 1).bytes.byteLength).toBe(batch.byteLength);
    await log.flush();
    log.close();
    await settled();
    const reopened = new PartitionLog({ directory, config });
    expect(reopened.logEndOffset).toBe(perSegment + 1);
    reopened.close();
    spares.close();
  });

  it('a partition on a spare that filled its segment slowly rolls onto a new file, watched again', async () => {
    const root = diskDirectory();
    let now = Date.now();
    const spares = await readyFast(root, () => now);
    const directory = path.join(root, 'slowed-0');
    const log = new PartitionLog({ directory, config, spares, now: () => now });
    for (let i = 0; i < 50; i++) await log.append(batch); // fast at first: moved onto spare 0
    expect(spares.holderCount).toBe(1);
    await until(() => spares.status === 'ready');
    const spareInode = fs.statSync(path.join(root, `${SPARE_FILE_PREFIX}1`)).ino;
    const perSegment = Math.floor((16 * MiB) / batch.byteLength);
    now += 3_600_000; // then an hour for the rest of the segment: well under 4 MiB/s
    for (let i = 50; i <= perSegment; i++) await log.append(batch);
    const files = segmentFiles(directory);
    expect(files).toHaveLength(2);
    expect(fs.statSync(path.join(directory, files[1]!)).ino).not.toBe(spareInode);
    expect(spares.status).toBe('ready'); // not taken
    log.close();
    await settled();
    spares.close();
  });

  it('a slow segment, a flushed one and one with segments larger than the spare stay on their own files', async () => {
    const root = diskDirectory();
    const spares = await readyFast(root, Date.now);
    // Slow: 3 MiB, under the 4 MiB that finds a segment fast.
    const slowDirectory = path.join(root, 'slow-0');
    const slow = new PartitionLog({ directory: slowDirectory, config, spares });
    const slowFile = path.join(slowDirectory, segmentFiles(slowDirectory)[0]!);
    const slowInode = fs.statSync(slowFile).ino;
    for (let i = 0; i < 30; i++) await slow.append(batch);
    expect(fs.statSync(slowFile).ino).toBe(slowInode);
    // Flushed before it was found fast (flush.messages=1): a copy would not be on disk.
    const flushedDirectory = path.join(root, 'flushed-0');
    const flushed = new PartitionLog({ directory: flushedDirectory, config: { ...config, flushMessages: 1 }, spares });
    const flushedFile = path.join(flushedDirectory, segmentFiles(flushedDirectory)[0]!);
    const flushedInode = fs.statSync(flushedFile).ino;
    for (let i = 0; i < 50; i++) await flushed.append(batch);
    expect(fs.statSync(flushedFile).ino).toBe(flushedInode);
    await settled();
    expect(allocatedBytes(flushedFile)).toBeGreaterThanOrEqual(16 * MiB - 4 * MiB); // preallocated in place instead
    // segment.bytes above the spare's size.
    const largeDirectory = path.join(root, 'large-0');
    const large = new PartitionLog({ directory: largeDirectory, config: { ...config, segmentBytes: 32 * MiB }, spares });
    const largeFile = path.join(largeDirectory, segmentFiles(largeDirectory)[0]!);
    const largeInode = fs.statSync(largeFile).ino;
    for (let i = 0; i < 50; i++) await large.append(batch);
    expect(fs.statSync(largeFile).ino).toBe(largeInode);
    expect(spares.status).toBe('ready'); // nobody took it
    expect(spares.holderCount).toBe(0);
    for (const log of [slow, flushed, large]) {
      expect(log.logEndOffset).toBeGreaterThanOrEqual(30);
      log.close();
    }
    await settled();
    spares.close();
  });

  /** The log's file system with ftruncate-on-the-pool releases held until the test lets each go. */
  function heldReleases(): { fs: LogFileSystem; finish: () => Promise<void>; held: () => number } {
    const held: (() => void)[] = [];
    return {
      fs: { ...nodeFileSystem, releaseAllocation: (fd, position, length, done) => held.push(() => nodeFileSystem.releaseAllocation!(fd, position, length, done)) },
      finish: async () => {
        held.shift()!();
        await settled();
      },
      held: () => held.length,
    };
  }

  it('a segment on a spare left idle gives its blocks back, and appends after that go on in the same segment', async () => {
    const root = diskDirectory();
    let now = Date.now();
    const spares = await readyFast(root, () => now);
    const directory = path.join(root, 'idle-0');
    const log = new PartitionLog({ directory, config, spares, now: () => now });
    for (let i = 0; i < 45; i++) await log.append(batch);
    expect(spares.holderCount).toBe(1);
    const file = path.join(directory, segmentFiles(directory)[0]!);
    expect(allocatedBytes(file)).toBeGreaterThanOrEqual(16 * MiB);
    now += 9_999;
    spares.releaseIdle();
    expect(spares.holderCount).toBe(1); // not idle long enough
    now += 1;
    spares.releaseIdle();
    expect(spares.holderCount).toBe(0);
    await settled();
    expect(fs.statSync(file).size).toBe(45 * batch.byteLength);
    expect(allocatedBytes(file)).toBeLessThan(45 * batch.byteLength + MiB);
    await log.append(batch);
    expect(segmentFiles(directory)).toHaveLength(1);
    expect(log.logEndOffset).toBe(46);
    expect(log.read(45, MiB, 46).bytes.byteLength).toBe(batch.byteLength);
    log.close();
    await settled();
    spares.close();
  });

  it('while the blocks are given back nothing appends to the segment (an append goes to a new one), and a cut meanwhile stays cut', async () => {
    const root = diskDirectory();
    let now = Date.now();
    const spares = await readyFast(root, () => now);
    const { fs: fileSystem, finish, held } = heldReleases();
    // An append during the release: it rolls.
    const directory = path.join(root, 'sealed-0');
    const log = new PartitionLog({ directory, config, spares, fs: fileSystem, now: () => now });
    for (let i = 0; i < 45; i++) await log.append(batch);
    now += 10_000;
    spares.releaseIdle();
    expect(held()).toBe(1);
    await log.append(batch);
    expect(segmentFiles(directory)).toHaveLength(2);
    await finish();
    const first = path.join(directory, segmentFiles(directory)[0]!);
    expect(fs.statSync(first).size).toBe(45 * batch.byteLength);
    expect(allocatedBytes(first)).toBeLessThan(45 * batch.byteLength + MiB);
    expect(log.logEndOffset).toBe(46);
    for (const offset of [0, 44, 45]) expect(log.read(offset, batch.byteLength, 46).bytes.byteLength).toBe(batch.byteLength);
    log.close();
    await settled();
    // A cut during the release: the pool's ftruncate to the old size is undone afterwards.
    await until(() => spares.status === 'ready');
    const cutDirectory = path.join(root, 'cut-0');
    const cut = new PartitionLog({ directory: cutDirectory, config, spares, fs: fileSystem, now: () => now });
    for (let i = 0; i < 45; i++) await cut.append(batch);
    now += 10_000;
    spares.releaseIdle();
    expect(held()).toBe(1);
    cut.truncateTo(40);
    const cutFile = path.join(cutDirectory, segmentFiles(cutDirectory)[0]!);
    expect(fs.statSync(cutFile).size).toBe(40 * batch.byteLength);
    await finish();
    expect(fs.statSync(cutFile).size).toBe(40 * batch.byteLength);
    expect(cut.logEndOffset).toBe(40);
    cut.close();
    await settled();
    const reopened = new PartitionLog({ directory: cutDirectory, config });
    expect(reopened.logEndOffset).toBe(40);
    expect(reopened.read(39, MiB, 40).bytes.byteLength).toBe(batch.byteLength);
    reopened.close();
    spares.close();
  });

  it('the flush after a move fsyncs the directory (the rename) before it counts', async () => {
    const root = diskDirectory();
    const spares = await readyFast(root, Date.now);
    const directory = path.join(root, 'durable-0');
    const synced: string[] = [];
    const fileSystem: LogFileSystem = { ...nodeFileSystem, fsyncDirectory: (target) => { synced.push(target); nodeFileSystem.fsyncDirectory(target); } };
    new PartitionLog({ directory, config, fs: fileSystem }).close();
    // Reopened with its empty segment: nothing marks the directory unsynced but the move.
    const log = new PartitionLog({ directory, config, spares, fs: fileSystem });
    await log.flush();
    synced.length = 0;
    for (let i = 0; i < 50; i++) await log.append(batch);
    expect(spares.holderCount).toBe(1);
    await log.flush();
    expect(synced).toContain(directory);
    expect(log.recoveryPoint).toBe(50);
    log.close();
    await settled();
    spares.close();
  });

  it('a move that fails (the rename) leaves the segment on its own file, preallocated in place, with every byte', async () => {
    const root = diskDirectory();
    const spares = await readyFast(root, Date.now);
    const fileSystem: LogFileSystem = {
      ...nodeFileSystem,
      rename: (from, to) => {
        if (path.basename(from).startsWith(SPARE_FILE_PREFIX)) throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
        nodeFileSystem.rename(from, to);
      },
    };
    const directory = path.join(root, 'failed-0');
    const log = new PartitionLog({ directory, config, spares, fs: fileSystem });
    const file = path.join(directory, segmentFiles(directory)[0]!);
    const inode = fs.statSync(file).ino;
    for (let i = 0; i < 50; i++) await log.append(batch);
    await settled();
    expect(fs.statSync(file).ino).toBe(inode);
    await until(() => !spareFiles(root).includes(`${SPARE_FILE_PREFIX}0`)); // the one taken was removed
    expect(spares.holderCount).toBe(0);
    expect(allocatedBytes(file)).toBeGreaterThanOrEqual(16 * MiB - 4 * MiB); // in place, from the next writeback step on
    expect(log.logEndOffset).toBe(50);
    for (const offset of [0, 41, 49]) expect(log.read(offset, batch.byteLength, 50).bytes.byteLength).toBe(batch.byteLength);
    log.close();
    await settled();
    spares.close();
  });

  it('a log directory with spares removes leftovers at open and its spare at close', async () => {
    const root = diskDirectory();
    fs.writeFileSync(path.join(root, `${SPARE_FILE_PREFIX}3`), 'left by a crash');
    const logs = new LogDirectory({ root, configFor: () => config, segmentSpareBytes: 16 * MiB });
    expect(spareFiles(root)).toEqual([]);
    const first = logs.getOrCreate('t', 0);
    for (let i = 0; i < 50; i++) await first.append(batch); // found fast: no spare yet, so one is prepared
    await until(() => spareFiles(root).length === 1 && allocatedBytes(path.join(root, spareFiles(root)[0]!)) >= 16 * MiB);
    await settled();
    await logs.close();
    await until(() => spareFiles(root).length === 0);
    expect(fs.existsSync(path.join(root, '.samsa-clean-shutdown'))).toBe(true);
  });
});
