import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/log/log-config.js';
import { LogDirectory } from '../../src/log/log-directory.js';
import { nodeFileSystem, type LogFileSystem } from '../../src/log/log-file-system.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { COMPRESSION_MASK, TIMESTAMP_TYPE_LOG_APPEND, parseBatches } from '../../src/log/record-batch.js';
import { batchCrc } from './batch-builder.js';
import { FaultyFileSystem } from './faulty-file-system.js';
import { kafkajsBatch, kafkajsDecode, type TestRecord } from './kafkajs-batches.js';

const directories: string[] = [];
function temporaryDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'samsa-log-'));
  directories.push(directory);
  return directory;
}
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

const config = (overrides: Partial<LogConfig> = {}): LogConfig => ({ ...DEFAULT_LOG_CONFIG, ...overrides });

describe('PartitionLog', () => {
  it('assigns offsets, reads whole batches back byte for byte, and decodes with kafkajs', async () => {
    const directory = temporaryDirectory();
    const log = new PartitionLog({ directory: path.join(directory, 't-0'), config: config({ segmentBytes: 4096, indexIntervalBytes: 256 }) });
    const written: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      const batch = await kafkajsBatch([
        { key: Buffer.from(`k${i}`), value: Buffer.alloc(i * 7, i), headers: { h: Buffer.from(String(i)) } },
        { key: null, value: null },
      ]);
      const result = await log.append(batch);
      expect(result.baseOffset).toBe(i * 2);
      expect(result.lastOffset).toBe(i * 2 + 1);
      written.push(batch);
    }
    expect(log.logEndOffset).toBe(100);
    expect(log.segmentCount).toBeGreaterThan(1);
    let offset = 0;
    const all: Uint8Array[] = [];
    while (offset < log.logEndOffset) {
      const read = log.read(offset, 1000, log.logEndOffset);
      expect(read.bytes.byteLength).toBeGreaterThan(0);
      all.push(read.bytes);
      offset = read.nextOffset;
    }
    expect(Buffer.compare(Buffer.concat(all), Buffer.concat(written))).toBe(0);
    const records = await kafkajsDecode(Buffer.concat(all));
    expect(records).toHaveLength(100);
    expect(records[7]!.offset).toBe('7');
    expect(records[6]!.key!.toString()).toBe('k3');
    expect(records[6]!.value!.byteLength).toBe(21);
    expect(records[7]!.key).toBeNull();
    expect(records[7]!.value).toBeNull();
    // A read from the middle of a batch returns the whole batch holding it.
    expect(log.read(51, 1, log.logEndOffset).firstOffset).toBe(50);
    // Reads are capped at the high watermark, which replication moves.
    expect(log.read(0, 1000).bytes.byteLength).toBe(0);
    log.setHighWatermark(10);
    expect(log.read(0, 100_000).nextOffset).toBe(10);
    log.close();
  });

  it('recovers after an unclean stop and keeps everything after a clean one', async () => {
    const root = temporaryDirectory();
    const first = new LogDirectory({ root });
    const log = first.getOrCreate('t', 0, config({ segmentBytes: 2048 }));
    for (let i = 0; i < 30; i++) await log.append(await kafkajsBatch([{ key: null, value: Buffer.alloc(100, i) }]));
    await first.close();
    const second = new LogDirectory({ root });
    expect(second.recoveredFromUncleanStop).toBe(false);
    expect(second.get('t', 0)!.logEndOffset).toBe(30);
    // No close: unclean.
    await second.get('t', 0)!.append(await kafkajsBatch([{ key: null, value: Buffer.from('x') }]));
    const third = new LogDirectory({ root });
    expect(third.recoveredFromUncleanStop).toBe(true);
    expect(third.get('t', 0)!.logEndOffset).toBe(31);
  });
});

describe('PartitionLog settings and on-disk format', () => {
  it('a deleted segment is renamed away at once and unlinked off the thread; .deleted files a crash left are removed at open', async () => {
    const directory = temporaryDirectory();
    const batches = await Promise.all(Array.from({ length: 12 }, (_, i) => kafkajsBatch([{ key: null, value: Buffer.alloc(1000, i) }])));
    const batch = batches[0]!;
    const unlinkedOnThisThread: string[] = [];
    const renamed: string[] = [];
    const fileSystem: LogFileSystem = {
      ...nodeFileSystem,
      unlink: (file) => (unlinkedOnThisThread.push(file), nodeFileSystem.unlink(file)),
      rename: (from, to) => (renamed.push(`${path.basename(from)} -> ${path.basename(to)}`), nodeFileSystem.rename(from, to)),
    };
    const log = new PartitionLog({ directory, config: config({ segmentBytes: 4 * batch.byteLength, retentionBytes: 1 }), fs: fileSystem });
    for (const each of batches) await log.append(each);
    const logFiles = (): string[] => readdirSync(directory).filter((name) => name.endsWith('.log')).sort();
    expect(logFiles()).toHaveLength(3);
    log.setHighWatermark(12);
    await log.flush(); // the index files exist too
    renamed.length = 0;
    expect(log.applyRetention()).toBe(2);
    expect(renamed).toEqual(['0', '4'].flatMap((base) => ['.log', '.index', '.timeindex'].map((suffix) => `${base.padStart(20, '0')}${suffix} -> ${base.padStart(20, '0')}${suffix}.deleted`)));
    // The segment names are gone at once; the files themselves go on the thread pool.
    expect(logFiles()).toEqual(['00000000000000000008.log']);
    for (let i = 0; i < 200 && readdirSync(directory).some((name) => name.endsWith('.deleted')); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(readdirSync(directory).filter((name) => name.endsWith('.deleted'))).toEqual([]);
    expect(unlinkedOnThisThread).toEqual([]);
    expect(log.logStartOffset).toBe(8);
    log.close();
    // A deletion a crash cut short: its renamed file is removed when the log opens.
    writeFileSync(path.join(directory, '00000000000000000004.log.deleted'), 'old segment');
    const reopened = new PartitionLog({ directory, config: config({ segmentBytes: 4 * batch.byteLength }) });
    expect(readdirSync(directory).filter((name) => name.endsWith('.deleted'))).toEqual([]);
    expect(reopened.logStartOffset).toBe(8);
    expect(reopened.logEndOffset).toBe(12);
    reopened.close();
  });

  it('a segment deleted while its flush fsyncs closes its fd only after the fsync; a segment closed before a flush is not fsynced', async () => {
    const directory = temporaryDirectory();
    const batches = await Promise.all(Array.from({ length: 12 }, (_, i) => kafkajsBatch([{ key: null, value: Buffer.alloc(1000, i) }])));
    const held: { fd: number; finish: () => void }[] = [];
    const events: string[] = [];
    const fileSystem: LogFileSystem = {
      ...nodeFileSystem,
      closeInBackground: undefined, // closes at once, on this thread: the order is the test's
      fsync: (fd) => new Promise<void>((resolve) => held.push({ fd, finish: () => nodeFileSystem.fsync(fd).then(() => { events.push(`fsync ${fd}`); resolve(); }) })),
      close: (fd) => {
        events.push(`close ${fd}`);
        nodeFileSystem.close(fd);
      },
    };
    const batch = batches[0]!;
    const log = new PartitionLog({ directory, config: config({ segmentBytes: 4 * batch.byteLength, retentionBytes: 1 }), fs: fileSystem });
    for (const each of batches) await log.append(each);
    log.setHighWatermark(12);
    const flushed = log.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.length).toBeGreaterThanOrEqual(3); // the three segments' fsyncs, in flight
    const fds = held.map((each) => each.fd);
    const firstFd = fds[0]!;
    expect(log.applyRetention()).toBe(2); // deletes the two oldest segments, whose fsyncs are in flight
    expect(events.filter((event) => event === `close ${firstFd}`)).toEqual([]); // not closed under its fsync
    for (const each of held.splice(0)) each.finish();
    await flushed;
    // Each deleted segment's fd closed after its own fsync, never before.
    for (const fd of fds.slice(0, 2)) {
      expect(events.indexOf(`fsync ${fd}`)).toBeGreaterThanOrEqual(0);
      expect(events.indexOf(`close ${fd}`)).toBeGreaterThan(events.indexOf(`fsync ${fd}`));
    }
    expect(log.recoveryPoint).toBe(12);
    // A flush after the log closed fsyncs nothing, and the recovery point stays below the unflushed append.
    await log.append(batches[0]!);
    log.close();
    await log.flush();
    expect(held).toEqual([]);
    expect(log.recoveryPoint).toBe(12);
  });

  it('a deleted topic partition is renamed away at once and removed off the thread; one a crash left is removed at open', async () => {
    const root = temporaryDirectory();
    const logs = new LogDirectory({ root });
    const log = logs.getOrCreate('gone', 0);
    await log.append(await kafkajsBatch([{ key: null, value: Buffer.alloc(100, 1) }]));
    logs.getOrCreate('kept', 0);
    logs.delete('gone', 0);
    expect(readdirSync(root).filter((name) => name.startsWith('gone'))).not.toContain('gone-0');
    // Created again at once, while the old directory is being removed: the new one is untouched.
    const again = logs.getOrCreate('gone', 0);
    await again.append(await kafkajsBatch([{ key: null, value: Buffer.alloc(100, 2) }]));
    for (let i = 0; i < 200 && readdirSync(root).some((name) => name.endsWith('-delete')); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(readdirSync(root).filter((name) => name.startsWith('gone'))).toEqual(['gone-0']);
    expect(again.logEndOffset).toBe(1);
    expect(readdirSync(path.join(root, 'gone-0')).filter((name) => name.endsWith('.log'))).toEqual(['00000000000000000000.log']);
    logs.delete('gone', 0);
    await logs.close();
    // A removal a crash cut short.
    mkdirSync(path.join(root, 'old-3.0a1b2c3d4e5f-delete'));
    writeFileSync(path.join(root, 'old-3.0a1b2c3d4e5f-delete', '00000000000000000000.log'), 'x');
    const reopened = new LogDirectory({ root });
    expect(readdirSync(root).filter((name) => name.endsWith('-delete'))).toEqual([]);
    expect(reopened.entries().map(([name]) => name)).toEqual(['kept-0']);
    await reopened.close();
  });

  it('checkpoints in the background: off the thread, one write after another, a call while one is queued joins it, close waits for them', async () => {
    const root = temporaryDirectory();
    const onThisThread: string[] = [];
    const fileSystem: LogFileSystem = {
      ...nodeFileSystem,
      // The root's files only (a segment's flush writes its index files this way too).
      writeFileAtomic: (file, bytes) => (path.dirname(file) === root && onThisThread.push(path.basename(file)), nodeFileSystem.writeFileAtomic(file, bytes)),
    };
    const logs = new LogDirectory({ root, fs: fileSystem });
    const log = logs.getOrCreate('t', 0);
    await log.append(await kafkajsBatch([{ key: null, value: Buffer.alloc(10) }]));
    await log.flush();
    const first = logs.checkpointInBackground();
    const second = logs.checkpointInBackground(); // queued behind the first
    const third = logs.checkpointInBackground(); // joins the second
    expect(third).toBe(second);
    await log.append(await kafkajsBatch([{ key: null, value: Buffer.alloc(10) }]));
    await log.flush();
    await Promise.all([first, second, third]);
    await logs.checkpointInBackground();
    expect(onThisThread).toEqual([]);
    expect(readFileSync(path.join(root, 'recovery-point-offset-checkpoint'), 'utf8')).toBe('0\n1\nt 0 2\n');
    expect(readFileSync(path.join(root, 'log-start-offset-checkpoint'), 'utf8')).toBe('0\n1\nt 0 0\n');
    const pending = logs.checkpointInBackground();
    await logs.close(); // after the background write, then its own on this thread
    await pending;
    expect(onThisThread).toEqual(['recovery-point-offset-checkpoint', 'log-start-offset-checkpoint', '.samsa-clean-shutdown']);
  });

  it('segment.ms rolls the active segment once its first append is that old, never an empty one', async () => {
    let now = 1_000_000;
    const directory = path.join(temporaryDirectory(), 't-0');
    const log = new PartitionLog({ directory, config: config({ segmentMs: 1000 }), now: () => now });
    const append = async () => log.append(await kafkajsBatch([{ key: null, value: Buffer.from('v') }], { timestampMs: now }));
    await append(); // offset 0: the segment's age starts here
    now += 999;
    await append(); // offset 1
    expect(log.segmentCount).toBe(1);
    now += 1; // 1000 ms after the first append
    expect((await append()).baseOffset).toBe(2);
    expect(log.segmentCount).toBe(2);
    expect(log.cleanableSegments().map((segment) => [segment.baseOffset, segment.nextOffset])).toEqual([[0, 2]]);
    // The new segment's age counts from its own first append (offset 2), not from the roll.
    now += 999;
    await append(); // offset 3
    expect(log.segmentCount).toBe(2);
    now += 1;
    await append(); // offset 4
    expect(log.cleanableSegments().map((segment) => [segment.baseOffset, segment.nextOffset])).toEqual([[0, 2], [2, 4]]);
    // However old, an empty active segment is not rolled: the append goes into it.
    log.roll();
    expect(log.segmentCount).toBe(4);
    now += 60_000;
    expect((await append()).baseOffset).toBe(5);
    expect(log.segmentCount).toBe(4);
    expect(readdirSync(directory).filter((name) => name.endsWith('.log')).sort()).toEqual(
      [0, 2, 4, 5].map((base) => `${String(base).padStart(20, '0')}.log`),
    );
    log.close();
  });

  it('flush.ms: maybeFlushOnTime fsyncs only once the interval has passed since the last flush', async () => {
    let now = 50_000;
    const fs = new FaultyFileSystem();
    const directory = path.join(temporaryDirectory(), 't-0');
    const logFile = path.join(directory, '00000000000000000000.log');
    const log = new PartitionLog({ directory, config: config({ flushMs: 1000 }), fs, now: () => now });
    const append = async () => log.append(await kafkajsBatch([{ key: Buffer.from('k'), value: Buffer.alloc(100, 1) }]));
    await append();
    await append();
    expect(fs.fsyncCalls).toBe(0);
    expect(log.recoveryPoint).toBe(0);
    // 999 ms after the last flush (the open): nothing.
    now += 999;
    await log.maybeFlushOnTime();
    expect(fs.fsyncCalls).toBe(0);
    expect(log.recoveryPoint).toBe(0);
    expect(fs.durableBytes(logFile)).toBe(0);
    // 1000 ms: one fsync, covering everything appended.
    now += 1;
    await log.maybeFlushOnTime();
    expect(fs.fsyncCalls).toBe(1);
    expect(log.recoveryPoint).toBe(2);
    expect(fs.durableBytes(logFile)).toBe(log.sizeBytes);
    // The interval restarts at that flush.
    await append();
    now += 999;
    await log.maybeFlushOnTime();
    expect(fs.fsyncCalls).toBe(1);
    expect(log.recoveryPoint).toBe(2);
    now += 1;
    await log.maybeFlushOnTime();
    expect(fs.fsyncCalls).toBe(2);
    expect(log.recoveryPoint).toBe(3);
    expect(fs.durableBytes(logFile)).toBe(log.sizeBytes);
    // Nothing unflushed: no fsync, however late.
    now += 3_600_000;
    await log.maybeFlushOnTime();
    expect(fs.fsyncCalls).toBe(2);
    log.close();
  });

  it('writes a segment file that kafkajs decodes record for record: keys, null keys and values, headers, gzip', async () => {
    const directory = path.join(temporaryDirectory(), 't-0');
    const log = new PartitionLog({ directory, config: config() });
    const timestampMs = 1_700_000_000_000;
    const sets: { records: TestRecord[]; compression: 'none' | 'gzip' }[] = [
      {
        compression: 'none',
        records: [
          { key: Buffer.from('user-1'), value: Buffer.from('{"n":1}'), headers: { trace: Buffer.from('t-1'), origin: Buffer.from('eu') } },
          { key: null, value: Buffer.from('keyless') },
          { key: Buffer.from('user-2'), value: null },
        ],
      },
      {
        compression: 'gzip',
        records: Array.from({ length: 20 }, (_, i): TestRecord => ({
          key: i % 5 === 0 ? null : Buffer.from(`gz-${i}`),
          value: i % 7 === 3 ? null : Buffer.from(`value ${i} `.repeat(30)),
          headers: i % 2 === 0 ? { index: Buffer.from(String(i)) } : {},
        })),
      },
      { compression: 'none', records: [{ key: Buffer.alloc(0), value: Buffer.alloc(0), headers: { empty: Buffer.alloc(0) } }] },
      { compression: 'gzip', records: [{ key: Buffer.from('big'), value: Buffer.alloc(50_000, 9) }] },
    ];
    for (const set of sets) await log.append(await kafkajsBatch(set.records, { timestampMs, compression: set.compression }));
    await log.flush();
    log.close();

    // The file itself, not log.read: one segment holding every batch back to back.
    const onDisk = readFileSync(path.join(directory, '00000000000000000000.log'));
    const headers = parseBatches(onDisk);
    expect(headers.map((header) => header.attributes & COMPRESSION_MASK)).toEqual([0, 1, 0, 1]);
    expect(headers.map((header) => header.baseOffset)).toEqual([0, 3, 23, 24]);
    const decoded = await kafkajsDecode(onDisk);
    const expected = sets.flatMap((set) => set.records);
    expect(decoded).toHaveLength(expected.length);
    decoded.forEach((record, offset) => {
      const sent = expected[offset]!;
      expect(record.offset).toBe(String(offset));
      expect(record.key).toEqual(sent.key);
      expect(record.value).toEqual(sent.value);
      expect(record.headers).toEqual(sent.headers ?? {});
      expect(record.timestamp).toBe(String(timestampMs));
    });
    expect(decoded[1]!.key).toBeNull();
    expect(decoded[2]!.value).toBeNull();
    expect(decoded[0]!.headers.trace!.toString()).toBe('t-1');
    expect(decoded[24]!.value!.byteLength).toBe(50_000);
  });

  it('LogAppendTime: batches are stored with the timestamp-type bit, maxTimestamp = append time and a valid CRC', async () => {
    let now = 1_700_000_000_000;
    const createTime = now - 60_000;
    const directory = path.join(temporaryDirectory(), 't-0');
    const log = new PartitionLog({ directory, config: config({ messageTimestampType: 'LogAppendTime' }), now: () => now });
    const plain: TestRecord[] = [{ key: Buffer.from('a'), value: Buffer.from('1'), headers: { h: Buffer.from('x') } }, { key: null, value: null }];
    const zipped: TestRecord[] = Array.from({ length: 5 }, (_, i) => ({ key: Buffer.from(`z${i}`), value: Buffer.from(`zipped ${i}`) }));
    const appendTimes: number[] = [];
    for (const [records, compression] of [[plain, 'none'], [zipped, 'gzip']] as const) {
      const result = await log.append(await kafkajsBatch(records, { timestampMs: createTime, compression }));
      expect(result.logAppendTimeMs).toBe(now);
      appendTimes.push(now);
      now += 7;
    }
    const read = log.read(0, 1 << 20, log.logEndOffset);
    // parseBatches checks every batch's framing and CRC-32C, and throws on a mismatch.
    const headers = parseBatches(read.bytes);
    expect(headers).toHaveLength(2);
    headers.forEach((header, i) => {
      expect(header.attributes & TIMESTAMP_TYPE_LOG_APPEND).toBe(TIMESTAMP_TYPE_LOG_APPEND);
      expect(header.attributes & COMPRESSION_MASK).toBe(i === 0 ? 0 : 1);
      expect(header.maxTimestamp).toBe(appendTimes[i]);
      expect(header.baseTimestamp).toBe(createTime);
      // The CRC once more, computed by the test's own code from the spec.
      const batch = read.bytes.subarray(header.position, header.position + header.sizeBytes);
      expect(new DataView(batch.buffer, batch.byteOffset).getUint32(17)).toBe(batchCrc(batch));
    });
    // The same bytes are on disk.
    log.close();
    expect(Buffer.compare(readFileSync(path.join(directory, '00000000000000000000.log')), Buffer.from(read.bytes))).toBe(0);
    // kafkajs reads the type bit and gives every record the append time.
    const decoded = await kafkajsDecode(read.bytes);
    expect(decoded.map((record) => record.offset)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect(decoded.map((record) => record.timestamp)).toEqual([...plain.map(() => String(appendTimes[0])), ...zipped.map(() => String(appendTimes[1]))]);
    expect(decoded.map((record) => record.key)).toEqual([...plain, ...zipped].map((record) => record.key));
    expect(decoded.map((record) => record.value)).toEqual([...plain, ...zipped].map((record) => record.value));
    expect(decoded[0]!.headers).toEqual({ h: Buffer.from('x') });
  });
});
