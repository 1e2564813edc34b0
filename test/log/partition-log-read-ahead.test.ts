/**
 * Read-ahead of sequential fetch reads (sequential-reads.ts) through a real PartitionLog on real
 * files: a consumer catching up gets the same bytes as without it, the ranges come from the
 * reads ahead (at the end of each turn), a cut or compaction's swap never serves stale bytes,
 * DeleteRecords leaves the rest readable, and a remembered position whose bytes were damaged
 * is not trusted twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/log/log-config.js';
import { nodeFileSystem, type LogFileSystem } from '../../src/log/log-file-system.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { segmentFileName } from '../../src/log/segment.js';
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

/** The real disk, counting the bytes read inside log.read (in place) and outside it (read ahead, at the end of a turn). */
class CountingFileSystem {
  inPlaceBytes = 0;
  aheadBytes = 0;
  aheadReads = 0;
  private reading = false;
  readonly fs: LogFileSystem = {
    ...nodeFileSystem,
    read: (fd, target, position, length) => {
      const got = nodeFileSystem.read(fd, target, position, length);
      if (this.reading) this.inPlaceBytes += got;
      else {
        this.aheadBytes += got;
        this.aheadReads++;
      }
      return got;
    },
  };

  /** log.read, counted as in place. */
  read(log: PartitionLog, offset: number, maxBytes: number): ReturnType<PartitionLog['read']> {
    this.reading = true;
    try {
      return log.read(offset, maxBytes, log.logEndOffset);
    } finally {
      this.reading = false;
    }
  }

  /** Lets the turn end, so that what was deferred to it runs (a consumer's round trip). */
  settled(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
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

/** Appends `count` batches (seeds from `firstSeed`); returns them as stored, offsets assigned. */
async function appendBatches(log: PartitionLog, count: number, firstSeed = 0, valueBytes = 4 * KiB): Promise<Uint8Array[]> {
  const written: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = batch(firstSeed + i, 8, valueBytes);
    await log.append(bytes); // assigns the offsets in place
    written.push(Buffer.from(bytes));
  }
  return written;
}

/** `reads` reads from offset 0, `maxBytes` each, letting reads ahead finish in between; returns the offset reached. */
async function readInOrder(log: PartitionLog, counting: CountingFileSystem, reads: number, maxBytes: number): Promise<number> {
  let offset = 0;
  for (let i = 0; i < reads; i++) {
    await counting.settled();
    offset = counting.read(log, offset, maxBytes).nextOffset;
  }
  return offset;
}

/** Reads from `offset` to the end, `maxBytes` per read, letting reads ahead finish in between (a consumer's round trip). */
async function readAll(log: PartitionLog, counting: CountingFileSystem, offset: number, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  while (offset < log.logEndOffset) {
    await counting.settled();
    const read = counting.read(log, offset, maxBytes);
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
    const written = await appendBatches(log, 160);
    const expected = concatBytes(written);
    expect(expected.byteLength).toBeGreaterThan(5 * 1024 * KiB);
    const maxBytes = 256 * KiB;
    expect(Buffer.compare(await readAll(log, counting, 0, maxBytes), expected)).toBe(0);
    const reads = Math.ceil(expected.byteLength / maxBytes);
    // Only the first two reads, the tail the last read ahead did not cover, and the first lookup are read in place.
    expect(counting.aheadReads).toBeGreaterThanOrEqual(reads - 4);
    expect(counting.aheadBytes).toBeGreaterThan(expected.byteLength - 4 * maxBytes);
    expect(counting.inPlaceBytes).toBeLessThan(4 * maxBytes);
    await counting.settled();
    logs.splice(logs.indexOf(log), 1);
    log.close();
    expect(readAheadsHeld().ranges).toBe(0);
  });

  it('after a cut and new appends at the same positions, reads return the new bytes, not the range read ahead', async () => {
    const counting = new CountingFileSystem();
    const log = openLog(counting.fs);
    await appendBatches(log, 100);
    const maxBytes = 128 * KiB;
    // Read the first quarter in order: a range past it is read ahead by now.
    const offset = await readInOrder(log, counting, 6, maxBytes);
    await counting.settled();
    expect(readAheadsHeld().ranges).toBe(1);
    log.truncateTo(offset);
    expect(readAheadsHeld().ranges).toBe(0);
    const replaced = await appendBatches(log, 60, 1000, 4 * KiB + 17);
    expect(Buffer.compare(await readAll(log, counting, offset, maxBytes), concatBytes(replaced))).toBe(0);
  });

  it('a log whose segments are deleted below the consumer (DeleteRecords) serves the remaining segments whole', async () => {
    const counting = new CountingFileSystem();
    const log = openLog(counting.fs, { segmentBytes: 512 * KiB });
    const written = await appendBatches(log, 120);
    expect(log.segmentCount).toBeGreaterThan(4);
    const maxBytes = 64 * KiB;
    const offset = await readInOrder(log, counting, 10, maxBytes);
    log.setHighWatermark(log.logEndOffset);
    log.deleteRecordsBefore(offset);
    expect(log.logStartOffset).toBe(offset);
    // Eight records per batch: the batch holding the log start offset and all after it.
    const rest = await readAll(log, counting, log.logStartOffset, maxBytes);
    expect(Buffer.compare(rest, concatBytes(written.slice(Math.floor(offset / 8))))).toBe(0);
  });

  it('after compaction swaps a cleaned copy in for the segment being read, reads return the cleaned bytes', async () => {
    const counting = new CountingFileSystem();
    const log = openLog(counting.fs, { segmentBytes: 1024 * KiB });
    const written = await appendBatches(log, 80); // ~32 KiB batches: 3 segments
    expect(log.segmentCount).toBeGreaterThan(2);
    const firstSegmentBytes = fs.statSync(path.join(log.directory, segmentFileName(0, '.log'))).size;
    let inFirst = 0;
    for (let bytes = 0; bytes < firstSegmentBytes; inFirst++) bytes += written[inFirst]!.byteLength;
    const maxBytes = 64 * KiB;
    const offset = await readInOrder(log, counting, 4, maxBytes);
    await counting.settled();
    expect(readAheadsHeld().ranges).toBe(1);
    // A cleaned first segment: every other batch kept, offsets unchanged (gaps where the others were).
    const kept = written.slice(0, inFirst).filter((_, i) => i % 2 === 0);
    expect(await log.replaceSegment(0, concatBytes(kept))).toBe(true);
    expect(readAheadsHeld().ranges).toBe(0);
    const rest = await readAll(log, counting, offset, maxBytes);
    const baseOf = (bytes: Uint8Array): number => Number(Buffer.from(bytes).readBigInt64BE(0));
    // The batches at or past `offset`: kept ones of the first segment, then everything after it.
    const expected = [...kept, ...written.slice(inFirst)].filter((bytes) => baseOf(bytes) + 7 >= offset);
    expect(Buffer.compare(rest, concatBytes(expected))).toBe(0);
  });

  it('a remembered position whose batch was damaged on disk since answers KAFKA_STORAGE_ERROR, and the next read looks the offset up again', async () => {
    const counting = new CountingFileSystem();
    const log = openLog(counting.fs);
    await appendBatches(log, 20);
    const first = counting.read(log, 0, 64 * KiB);
    const position = first.bytes.byteLength;
    // The disk returns garbage where the next batch starts (the header's length and magic).
    const file = path.join(log.directory, segmentFileName(0, '.log'));
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(61, 0xff), 0, 61, position);
    fs.closeSync(fd);
    expect(() => counting.read(log, first.nextOffset, 64 * KiB)).toThrow(expect.objectContaining({ errorName: 'KAFKA_STORAGE_ERROR' }));
    // Not the shortcut again: a lookup, which reads the index and the headers, and finds no batch
    // there (an empty read, as for damaged data before positions were remembered).
    const inPlaceBefore = counting.inPlaceBytes;
    expect(counting.read(log, first.nextOffset, 64 * KiB).bytes.byteLength).toBe(0);
    expect(counting.inPlaceBytes).toBeGreaterThan(inPlaceBefore);
    // What came before the damage still reads back as written.
    expect(Buffer.compare(Buffer.from(counting.read(log, 0, 64 * KiB).bytes), Buffer.from(first.bytes))).toBe(0);
  });
});
