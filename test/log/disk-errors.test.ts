/**
 * The log on a failing disk (test/log/faulty-file-system.ts injects the faults), on bad input,
 * and under group commit:
 *
 *   - a write failing part-way (ENOSPC, EIO, EACCES after N bytes): the append fails with
 *     KAFKA_STORAGE_ERROR, what was there before stays intact and readable, and once the fault
 *     clears the same log takes appends again at the same offset
 *   - a roll failing (open EACCES, index write ENOSPC): KAFKA_STORAGE_ERROR, the log stays usable
 *   - an fsync failing (EIO): that log goes offline, another partition in the same directory
 *     keeps working, and the next start recovers (no clean-shutdown marker)
 *   - corrupt or oversize produce requests: refused (CORRUPT_MESSAGE, MESSAGE_TOO_LARGE,
 *     RECORD_LIST_TOO_LARGE) without a single byte written
 *   - flush.messages=1: concurrent appends share fsyncs, and each resolves only once an fsync
 *     covering its bytes has completed
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/log/log-config.js';
import { LogDirectory } from '../../src/log/log-directory.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { parseBatches } from '../../src/log/record-batch.js';
import { segmentFileName } from '../../src/log/segment.js';
import { KafkaError } from '../../src/protocol/kafka-error.js';
import { atOffset, buildBatch, concatBytes, fillerBytes, type SimpleRecord } from './batch-builder.js';
import { FaultyFileSystem, type FaultCode } from './faulty-file-system.js';
import { TemporaryDirectories } from './temporary-directory.js';

const directories = new TemporaryDirectories();
afterEach(() => directories.removeAll());

const START_MS = 1_700_000_000_000;
const config = (overrides: Partial<LogConfig> = {}): LogConfig => ({ ...DEFAULT_LOG_CONFIG, segmentBytes: 64 * 1024, indexIntervalBytes: 256, ...overrides });

let batchSeed = 0;
function batch(records = 2, valueBytes = 40): Uint8Array {
  const id = ++batchSeed;
  const list: SimpleRecord[] = Array.from({ length: records }, (_, i) => ({ key: fillerBytes(6, id * 100 + i), value: fillerBytes(valueBytes, id * 100 + i + 50) }));
  return buildBatch(list, { baseTimestamp: START_MS + id });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but it resolved');
}

function expectKafkaError(error: unknown, name: string, code: number): void {
  expect(error, `error ${String(error)}`).toBeInstanceOf(KafkaError);
  expect((error as KafkaError).errorName).toBe(name);
  expect((error as KafkaError).code).toBe(code);
}

function throwing(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** Reads the whole log (up to its end) in one pass of reads. */
function readAll(log: PartitionLog): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 100_000, log.logEndOffset);
    expect(read.bytes.byteLength).toBeGreaterThan(0);
    parseBatches(read.bytes);
    parts.push(read.bytes);
    offset = read.nextOffset;
  }
  return concatBytes(parts);
}

function activeLogFile(log: PartitionLog): string {
  const closed = log.cleanableSegments();
  const base = closed.length === 0 ? 0 : closed.at(-1)!.nextOffset;
  return path.join(log.directory, segmentFileName(base, '.log'));
}

interface Fixture {
  readonly root: string;
  readonly fs: FaultyFileSystem;
  readonly directory: LogDirectory;
  readonly log: PartitionLog;
  /** What the log holds, as stored. */
  readonly stored: Uint8Array[];
}

async function fixture(logConfig: LogConfig = config(), batches = 10): Promise<Fixture> {
  const root = directories.make('samsa-disk-');
  const fs = new FaultyFileSystem();
  const directory = new LogDirectory({ root, fs, now: () => START_MS, configFor: () => logConfig });
  const log = directory.getOrCreate('disk', 0, logConfig);
  const stored: Uint8Array[] = [];
  for (let i = 0; i < batches; i++) {
    const next = batch();
    const result = await log.append(next.slice());
    stored.push(atOffset(next, result.baseOffset));
  }
  return { root, fs, directory, log, stored };
}

describe('write failures', () => {
  const codes: FaultCode[] = ['ENOSPC', 'EIO', 'EACCES'];

  it.each(codes)('a write failing with %s part-way leaves the log intact and usable once the fault clears', async (code) => {
    for (const bytesBeforeFault of [0, 1, 12, 61, 150, 299]) {
      const { root, fs, log, stored } = await fixture();
      const file = activeLogFile(log);
      const sizeBefore = statSync(file).size;
      const endBefore = log.logEndOffset;
      // Two batches in one request; the fault may hit inside either.
      const request = concatBytes([batch(3, 60), batch(2, 50)]);
      expect(request.byteLength).toBeGreaterThan(299);
      fs.failWrites(code, bytesBeforeFault, (file) => file.endsWith('.log'));
      const error = await rejection(log.append(request.slice()));
      expectKafkaError(error, 'KAFKA_STORAGE_ERROR', 56);
      expect((error as Error).message).toContain(code);
      // Nothing of the failed request is visible, on disk or through the log.
      expect(log.logEndOffset).toBe(endBefore);
      expect(statSync(file).size, `file size after the failed write of ${bytesBeforeFault} bytes`).toBe(sizeBefore);
      expect(Buffer.compare(readAll(log), concatBytes(stored))).toBe(0);
      // Still faulty: still refused, still nothing changes.
      fs.failWrites(code, 0, (file) => file.endsWith('.log'));
      expectKafkaError(await rejection(log.append(batch())), 'KAFKA_STORAGE_ERROR', 56);
      expect(log.logEndOffset).toBe(endBefore);
      // The disk recovers: the same log appends at the same offset.
      fs.heal();
      const retried = await log.append(request.slice());
      expect(retried.baseOffset).toBe(endBefore);
      expect(retried.lastOffset).toBe(endBefore + 4);
      const all = readAll(log);
      expect(parseBatches(all).map((header) => header.baseOffset).slice(-2)).toEqual([endBefore, endBefore + 3]);
      // And after a crash now, recovery finds nothing to cut.
      fs.crash();
      const reopened = new LogDirectory({ root, fs: new FaultyFileSystem(), now: () => START_MS, configFor: () => config() });
      expect(reopened.recoveredFromUncleanStop).toBe(true);
      const log2 = reopened.get('disk', 0)!;
      expect(log2.recoveredTruncatedBytes).toBe(0);
      expect(Buffer.compare(readAll(log2), all)).toBe(0);
      await reopened.close();
    }
  });

  it('when the undo of a torn write fails too, the next append overwrites the torn bytes and a restart cuts them', async () => {
    // Torn bytes overwritten by the next append.
    {
      const { fs, log, stored } = await fixture();
      const file = activeLogFile(log);
      const sizeBefore = statSync(file).size;
      fs.failWrites('EIO', 100, (file) => file.endsWith('.log'));
      fs.failTruncates('EIO', (file) => file.endsWith('.log'));
      expectKafkaError(await rejection(log.append(batch(3, 80))), 'KAFKA_STORAGE_ERROR', 56);
      expect(statSync(file).size, 'the torn bytes are still on the file').toBe(sizeBefore + 100);
      fs.heal();
      const next = batch();
      const result = await log.append(next.slice());
      expect(result.baseOffset).toBe(stored.length * 2);
      expect(Buffer.compare(readAll(log), concatBytes([...stored, atOffset(next, result.baseOffset)]))).toBe(0);
    }
    // Torn bytes left at a crash: recovery cuts exactly them.
    {
      const { root, fs, log, stored } = await fixture();
      fs.failWrites('ENOSPC', 100, (file) => file.endsWith('.log'));
      fs.failTruncates('EIO', (file) => file.endsWith('.log'));
      expectKafkaError(await rejection(log.append(batch(3, 80))), 'KAFKA_STORAGE_ERROR', 56);
      fs.crash();
      const reopened = new LogDirectory({ root, fs: new FaultyFileSystem(), now: () => START_MS, configFor: () => config() });
      const log2 = reopened.get('disk', 0)!;
      expect(log2.recoveredTruncatedBytes).toBe(100);
      expect(log2.logEndOffset).toBe(stored.length * 2);
      expect(Buffer.compare(readAll(log2), concatBytes(stored))).toBe(0);
      await reopened.close();
    }
  });

  it('a roll that cannot create the new segment (open EACCES) fails the append with KAFKA_STORAGE_ERROR; the log stays usable', async () => {
    const small = config({ segmentBytes: 1024 });
    const { fs, log, stored } = await fixture(small, 5);
    const segments = log.segmentCount;
    // Fill the active segment so the next append must roll.
    const big = batch(1, 600);
    const end = log.logEndOffset;
    fs.failOpens('EACCES', (file) => file.endsWith('.log'));
    let error: unknown;
    let appended: Uint8Array | undefined;
    for (let i = 0; i < 5 && error === undefined; i++) {
      const next = batch(1, 200);
      try {
        const result = await log.append(next.slice());
        appended = concatBytes([appended ?? new Uint8Array(0), atOffset(next, result.baseOffset)]);
      } catch (caught) {
        error = caught;
      }
    }
    expectKafkaError(error, 'KAFKA_STORAGE_ERROR', 56);
    expect(log.segmentCount).toBe(segments);
    const endBeforeHeal = log.logEndOffset;
    expect(endBeforeHeal).toBeGreaterThanOrEqual(end);
    fs.heal();
    const result = await log.append(big.slice());
    expect(result.baseOffset).toBe(endBeforeHeal);
    expect(log.segmentCount).toBe(segments + 1);
    expect(Buffer.compare(readAll(log), concatBytes([...stored, appended ?? new Uint8Array(0), atOffset(big, result.baseOffset)]))).toBe(0);
  });

  it('a roll waits for no disk: no fsync and no index file written, so a full disk does not fail it; the next flush writes the index files and fails with KAFKA_STORAGE_ERROR', async () => {
    const { fs, log, stored } = await fixture(config({ segmentBytes: 2048 }), 3);
    fs.failWrites('ENOSPC', 0, (file) => file.endsWith('.index') || file.endsWith('.timeindex'));
    const fsyncs = fs.fsyncCalls;
    const directoryFsyncs = fs.directoryFsyncCalls;
    log.roll();
    expect(log.segmentCount).toBe(2);
    expect([fs.fsyncCalls, fs.directoryFsyncCalls]).toEqual([fsyncs, directoryFsyncs]);
    const next = batch();
    const result = await log.append(next.slice());
    expect(Buffer.compare(readAll(log), concatBytes([...stored, atOffset(next, result.baseOffset)]))).toBe(0);
    expectKafkaError(await rejection(log.flush()), 'KAFKA_STORAGE_ERROR', 56);
  });

  it('a new partition costs its creator no fsync; its first flush fsyncs its directory and the one holding it', async () => {
    const root = directories.make('samsa-create-');
    const fs = new FaultyFileSystem();
    const directory = new LogDirectory({ root, fs, now: () => START_MS, configFor: () => config() });
    const before = fs.directoryFsyncCalls;
    const log = directory.getOrCreate('fresh', 0, config());
    expect(fs.directoryFsyncCalls).toBe(before);
    await log.append(batch());
    await log.flush();
    expect(fs.directoryFsyncCalls).toBe(before + 2);
    await log.append(batch());
    await log.flush();
    expect(fs.directoryFsyncCalls).toBe(before + 2);
    directory.close();
  });

  it('the flush after a roll writes the old segment\'s index files and fsyncs the directory after the files', async () => {
    const { fs, log } = await fixture(config({ segmentBytes: 2048 }), 3);
    await log.flush(); // the partition is new: its first flush also fsyncs its directory and the one holding it
    log.roll();
    const oldIndex = path.join(log.directory, segmentFileName(0, '.index'));
    const directoryFsyncs = fs.directoryFsyncCalls;
    await log.append(batch());
    await log.flush();
    expect(fs.directoryFsyncCalls).toBe(directoryFsyncs + 1);
    expect(statSync(oldIndex).size).toBeGreaterThan(0);
    await log.append(batch());
    await log.flush(); // no roll since: no directory fsync
    expect(fs.directoryFsyncCalls).toBe(directoryFsyncs + 1);
  });
});

describe('fsync failures', () => {
  it('take that partition log offline; another partition in the same directory keeps working; the next start recovers', async () => {
    const root = directories.make('samsa-fsync-');
    const fs = new FaultyFileSystem();
    const directory = new LogDirectory({ root, fs, now: () => START_MS, configFor: () => config() });
    const failing = directory.getOrCreate('failing', 0, config());
    const healthy = directory.getOrCreate('healthy', 0, config());
    const kept: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) {
      await failing.append(batch());
      const next = batch();
      kept.push(atOffset(next, (await healthy.append(next.slice())).baseOffset));
    }
    await failing.flush();
    fs.failFsyncs('EIO', (file) => file.includes(`${path.sep}failing-0${path.sep}`));
    await failing.append(batch());
    const flushError = await rejection(failing.flush());
    expectKafkaError(flushError, 'KAFKA_STORAGE_ERROR', 56);
    // Offline: every operation fails the same way, even once the disk looks fine again.
    fs.heal();
    expectKafkaError(await rejection(failing.append(batch())), 'KAFKA_STORAGE_ERROR', 56);
    expectKafkaError(await rejection(failing.flush()), 'KAFKA_STORAGE_ERROR', 56);
    expectKafkaError(throwing(() => failing.read(0, 1000)), 'KAFKA_STORAGE_ERROR', 56);
    expectKafkaError(throwing(() => failing.offsetForTimestamp(0)), 'KAFKA_STORAGE_ERROR', 56);
    expectKafkaError(throwing(() => failing.truncateTo(2)), 'KAFKA_STORAGE_ERROR', 56);
    expectKafkaError(throwing(() => failing.deleteRecordsBefore(0)), 'KAFKA_STORAGE_ERROR', 56);
    // The other partition: appends, flushes and reads as before.
    fs.failFsyncs('EIO', (file) => file.includes(`${path.sep}failing-0${path.sep}`));
    for (let i = 0; i < 3; i++) {
      const next = batch();
      kept.push(atOffset(next, (await healthy.append(next.slice())).baseOffset));
    }
    await healthy.flush();
    expect(healthy.recoveryPoint).toBe(healthy.logEndOffset);
    expect(Buffer.compare(readAll(healthy), concatBytes(kept))).toBe(0);
    // A clean close writes no marker while a log is offline: the next start recovers.
    await directory.close();
    const reopened = new LogDirectory({ root, fs: new FaultyFileSystem(), now: () => START_MS, configFor: () => config() });
    expect(reopened.recoveredFromUncleanStop).toBe(true);
    expect(Buffer.compare(readAll(reopened.get('healthy', 0)!), concatBytes(kept))).toBe(0);
    expect(reopened.get('failing', 0)!.logEndOffset).toBe(12);
    await reopened.close();
  });

  it('with flush.messages=1, the append whose fsync fails and those waiting on it are all refused', async () => {
    const { fs, log } = await fixture(config({ flushMessages: 1 }), 3);
    fs.failFsyncs('EIO');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => log.append(batch())));
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expectKafkaError((result as PromiseRejectedResult).reason, 'KAFKA_STORAGE_ERROR', 56);
    }
  });
});

describe('corrupt and oversize produce requests', () => {
  function corruptions(): [string, Uint8Array][] {
    const good = batch(3, 30);
    const badCrc = good.slice();
    badCrc[good.byteLength - 5] = badCrc[good.byteLength - 5]! ^ 0x10;
    const wrongMagic = good.slice();
    wrongMagic[16] = 1;
    const badCrcField = good.slice();
    badCrcField[18] = badCrcField[18]! ^ 0xff;
    const longerThanSent = good.slice();
    new DataView(longerThanSent.buffer).setInt32(8, good.byteLength);
    return [
      ['a record byte flipped (CRC mismatch)', badCrc],
      ['the CRC field changed', badCrcField],
      ['wrong magic', wrongMagic],
      ['truncated by one byte', good.slice(0, -1)],
      ['truncated inside the header', good.slice(0, 40)],
      ['a batchLength past the end', longerThanSent],
      ['a good batch then trailing bytes', concatBytes([batch(), fillerBytes(20, 9)])],
      ['a good batch then a corrupt one', concatBytes([batch(), badCrc])],
      ['empty', new Uint8Array(0)],
    ];
  }

  it.each(corruptions().map(([name]) => name))('refuses %s with CORRUPT_MESSAGE, writing nothing', async (name) => {
    const payload = corruptions().find(([candidate]) => candidate === name)![1];
    const { fs, log, stored } = await fixture();
    const file = activeLogFile(log);
    const size = statSync(file).size;
    // Any write at all would now fail with KAFKA_STORAGE_ERROR instead.
    fs.failWrites('EIO', 0);
    expectKafkaError(await rejection(log.append(payload)), 'CORRUPT_MESSAGE', 2);
    expect(statSync(file).size).toBe(size);
    expect(log.logEndOffset).toBe(stored.length * 2);
    fs.heal();
    expect(Buffer.compare(readAll(log), concatBytes(stored))).toBe(0);
  });

  it('refuses a batch over max.message.bytes with MESSAGE_TOO_LARGE and a set over segment.bytes with RECORD_LIST_TOO_LARGE, writing nothing', async () => {
    const { fs, log, stored } = await fixture(config({ maxMessageBytes: 500, segmentBytes: 1500 }), 4);
    const file = activeLogFile(log);
    const size = statSync(file).size;
    fs.failWrites('EIO', 0);
    const oversize = batch(1, 480);
    expect(oversize.byteLength).toBeGreaterThan(500);
    expectKafkaError(await rejection(log.append(oversize)), 'MESSAGE_TOO_LARGE', 10);
    expectKafkaError(await rejection(log.append(concatBytes([batch(), batch(1, 480)]))), 'MESSAGE_TOO_LARGE', 10);
    const many = concatBytes(Array.from({ length: 6 }, () => batch(1, 300)));
    expectKafkaError(await rejection(log.append(many)), 'RECORD_LIST_TOO_LARGE', 18);
    expect(statSync(file).size).toBe(size);
    fs.heal();
    expect(log.logEndOffset).toBe(stored.length * 2);
    expect(Buffer.compare(readAll(log), concatBytes(stored))).toBe(0);
    // A batch of exactly max.message.bytes is fine.
    const exact = batch(1, 480 - (oversize.byteLength - 500));
    expect(exact.byteLength).toBe(500);
    await log.append(exact);
  });
});

describe('group commit (flush.messages=1)', () => {
  const APPENDS = 64;
  const BATCH_RECORDS = 1;

  async function concurrentAppends(hold: boolean): Promise<void> {
    const { fs, log } = await fixture(config({ flushMessages: 1 }), 0);
    const file = activeLogFile(log);
    const batches = Array.from({ length: APPENDS }, () => batch(BATCH_RECORDS, 30));
    const size = batches[0]!.byteLength;
    expect(batches.every((candidate) => candidate.byteLength === size)).toBe(true);
    fs.holdFsyncs = hold;
    const fsyncsBefore = fs.fsyncCalls;
    const resolved: number[] = [];
    const uncovered: string[] = [];
    const appends = batches.map((next) =>
      log.append(next).then((result) => {
        // At the moment it resolves, a completed fsync must cover this batch's last byte.
        const end = (result.lastOffset + 1) * size;
        if (fs.durableBytes(file) < end) uncovered.push(`offset ${result.baseOffset}: durable ${fs.durableBytes(file)} < ${end}`);
        resolved.push(result.baseOffset);
      }),
    );
    if (hold) {
      await new Promise((resolve) => setImmediate(resolve));
      // Every append has written; one fsync is running; nobody was acknowledged yet.
      expect(fs.fsyncCalls - fsyncsBefore).toBe(1);
      expect(resolved).toEqual([]);
      expect(log.logEndOffset).toBe(APPENDS);
      // The fsync starts one event-loop turn after the first append asked for it, by which
      // time all 64 have written: that one fsync acknowledges every one of them.
      fs.holdFsyncs = false;
      fs.releaseHeldFsyncs();
      for (let waited = 0; resolved.length < APPENDS && waited < 5000; waited++) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(resolved).toHaveLength(APPENDS);
      expect(fs.fsyncCalls - fsyncsBefore).toBe(1);
    }
    await Promise.all(appends);
    expect(uncovered).toEqual([]);
    expect(resolved.sort((a, b) => a - b)).toEqual(Array.from({ length: APPENDS }, (_, i) => i));
    expect(fs.fsyncCalls - fsyncsBefore, 'fsyncs for 64 concurrent appends').toBeLessThanOrEqual(4);
    expect(log.recoveryPoint).toBe(APPENDS);
  }

  it('64 concurrent appends share a couple of fsyncs, each acknowledged only after one covering it (real fsyncs)', async () => {
    await concurrentAppends(false);
  });

  it('no append resolves before its fsync completes (fsyncs held until released)', async () => {
    await concurrentAppends(true);
  });

  it('sequential appends each wait for their own fsync', async () => {
    const { fs, log } = await fixture(config({ flushMessages: 1 }), 0);
    const file = activeLogFile(log);
    const before = fs.fsyncCalls;
    for (let i = 0; i < 5; i++) {
      await log.append(batch());
      expect(fs.durableBytes(file)).toBe(statSync(file).size);
    }
    expect(fs.fsyncCalls - before).toBe(5);
  });
});
