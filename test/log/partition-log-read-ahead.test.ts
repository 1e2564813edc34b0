/**
 * Read-ahead of sequential fetch reads (sequential-reads.ts) through a real PartitionLog on real
 * files and Node's thread pool: a consumer catching up gets the same bytes as without it, the
 * ranges come from the reads ahead, and a cut, a deletion or a compaction never serves stale
 * bytes.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/log/log-config.js';
import { nodeFileSystem, type LogFileSystem } from '../../src/log/log-file-system.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { readAheadsHeld } from '../../src/log/sequential-reads.js';
import { buildBatch, concatBytes } from './batch-builder.js';
import { TemporaryDirectories } from './temporary-directory.js';

const KiB = 1024;
const directories = new TemporaryDirectories();
const logs: PartitionLog[] = [];
afterEach(() => {
  for (const log of logs.splice(0)) log.close();
  directories.removeAll();
});

/** The real disk, counting the bytes read on the caller's thread and the reads ahead, which a test can wait for. */
class CountingFileSystem {
  syncBytes = 0;
  asyncReads = 0;
  private pending = 0;
  private idle: (() => void)[] = [];
  readonly fs: LogFileSystem = {
    ...nodeFileSystem,
    read: (fd, target, position, length) => {
      const got = nodeFileSystem.read(fd, target, position, length);
      this.syncBytes += got;
      return got;
    },
    readAsync: (fd, target, position, length, done) => {
      this.asyncReads++;
      this.pending++;
      nodeFileSystem.readAsync!(fd, target, position, length, (error, bytesRead) => {
        done(error, bytesRead);
        if (--this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    },
  };

  /** Resolves once no read ahead is in flight. */
  settled(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }
}

const config = (overrides: Partial<LogConfig> = {}): LogConfig => ({ ...DEFAULT_LOG_CONFIG, ...overrides });

function openLog(fs: LogFileSystem, overrides: Partial<LogConfig> = {}): PartitionLog {
  const directory = directories.make('samsa-read-ahead-');
  const log = new PartitionLog({ directory: path.join(directory, 't-0'), config: config(overrides), fs });
  logs.push(log);
  return log;
}

/** One batch of `records` records of `valueBytes` each, every byte derived from `seed`. */
function batch(seed: number, records = 8, valueBytes = 4 * KiB): Uint8Array {
  return buildBatch(Array.from({ length: records }, (_, i) => ({ key: null, value: Buffer.alloc(valueBytes, (seed * 31 + i) % 251) })), { baseTimestamp: 1_700_000_000_000 + seed });
}

/** Reads from `offset` to the end, `maxBytes` per read, letting reads ahead finish in between (a consumer's round trip). */
async function readAll(log: PartitionLog, counting: CountingFileSystem, offset: number, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  while (offset < log.logEndOffset) {
    await counting.settled();
    const read = log.read(offset, maxBytes, log.logEndOffset);
    if (read.nextOffset <= offset) throw new Error(`no progress at offset ${offset}`);
    parts.push(Buffer.from(read.bytes));
    offset = read.nextOffset;
  }
  return concatBytes(parts);
}

describe('PartitionLog reads ahead for a consumer reading in order', () => {
  it('returns the same bytes as written, most of them from reads ahead, with no range held at the end', async () => {
    const counting = new CountingFileSystem();
    const log = openLog(counting.fs);
    const written: Uint8Array[] = [];
    for (let i = 0; i < 160; i++) {
      const bytes = batch(i);
      await log.append(bytes); // assigns the offsets in place
      written.push(Buffer.from(bytes));
    }
    const expected = concatBytes(written);
    expect(expected.byteLength).toBeGreaterThan(5 * 1024 * KiB);
    const maxBytes = 256 * KiB;
    const syncBefore = counting.syncBytes;
    expect(Buffer.compare(await readAll(log, counting, 0, maxBytes), expected)).toBe(0);
    const reads = Math.ceil(expected.byteLength / maxBytes);
    // The first two reads, the tail the last read ahead did not cover, and lookups are read in place.
    expect(counting.asyncReads).toBeGreaterThanOrEqual(reads - 4);
    expect(counting.syncBytes - syncBefore).toBeLessThan(4 * maxBytes);
    await counting.settled();
    logs.splice(logs.indexOf(log), 1);
    log.close();
    expect(readAheadsHeld().ranges).toBe(0);
  });

  it('after a cut and new appends at the same positions, reads return the new bytes, not the range read ahead', async () => {
    const counting = new CountingFileSystem();
    const log = openLog(counting.fs);
    for (let i = 0; i < 100; i++) await log.append(batch(i));
    const maxBytes = 128 * KiB;
    // Read the first quarter in order: a range past it is read ahead by now.
    let offset = 0;
    for (let i = 0; i < 6; i++) {
      await counting.settled();
      offset = log.read(offset, maxBytes, log.logEndOffset).nextOffset;
    }
    await counting.settled();
    expect(readAheadsHeld().ranges).toBe(1);
    log.truncateTo(offset);
    expect(readAheadsHeld().ranges).toBe(0);
    const replaced: Uint8Array[] = [];
    for (let i = 0; i < 60; i++) {
      const bytes = batch(1000 + i, 8, 4 * KiB + 17);
      await log.append(bytes);
      replaced.push(Buffer.from(bytes));
    }
    expect(Buffer.compare(await readAll(log, counting, offset, maxBytes), concatBytes(replaced))).toBe(0);
  });

  it('a log whose segments are deleted below the consumer (DeleteRecords) serves the remaining segments whole', async () => {
    const counting = new CountingFileSystem();
    const log = openLog(counting.fs, { segmentBytes: 512 * KiB });
    const written: Uint8Array[] = [];
    for (let i = 0; i < 120; i++) {
      const bytes = batch(i);
      await log.append(bytes); // assigns the offsets in place
      written.push(Buffer.from(bytes));
    }
    expect(log.segmentCount).toBeGreaterThan(4);
    const maxBytes = 64 * KiB;
    let offset = 0;
    for (let i = 0; i < 10; i++) {
      await counting.settled();
      offset = log.read(offset, maxBytes, log.logEndOffset).nextOffset;
    }
    log.setHighWatermark(log.logEndOffset);
    log.deleteRecordsBefore(offset);
    expect(log.logStartOffset).toBe(offset);
    // Eight records per batch: the batch holding the log start offset and all after it.
    const rest = await readAll(log, counting, log.logStartOffset, maxBytes);
    expect(Buffer.compare(rest, concatBytes(written.slice(Math.floor(offset / 8))))).toBe(0);
  });
});
