/**
 * ListOffsets MAX_TIMESTAMP at the log level: which batch holds the log's largest timestamp
 * (PartitionLog.batchWithMaxTimestamp, across segments and past DeleteRecords), and which record
 * of it (offsetOfMaxTimestamp), with batches built by kafkajs and by the spec-written builder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG } from '../../src/log/log-config.js';
import { offsetOfMaxTimestamp } from '../../src/log/max-timestamp.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { ATTRIBUTES_AT, readBatchHeader, TIMESTAMP_TYPE_LOG_APPEND } from '../../src/log/record-batch.js';
import { COMPRESSION_LZ4, COMPRESSION_SNAPPY, COMPRESSION_ZSTD, decodeBatchRecords, encodeBatch } from '../../src/log/records.js';
import { batchCrc, buildBatch } from './batch-builder.js';
import { kafkajsBatch } from './kafkajs-batches.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function newLog(segmentBytes = 1024 * 1024): PartitionLog {
  const directory = mkdtempSync(path.join(tmpdir(), 'samsa-maxts-'));
  directories.push(directory);
  return new PartitionLog({ directory: path.join(directory, 't-0'), config: { ...DEFAULT_LOG_CONFIG, segmentBytes, indexIntervalBytes: 256 } });
}

const value = (text: string) => Buffer.from(text);

/** The batch with its attributes changed (and its CRC made right again). */
function withAttributes(batch: Uint8Array, set: (attributes: number) => number): Uint8Array {
  const copy = Uint8Array.from(batch);
  const view = new DataView(copy.buffer);
  view.setInt16(ATTRIBUTES_AT, set(view.getInt16(ATTRIBUTES_AT)));
  view.setUint32(17, batchCrc(copy));
  return copy;
}

describe('offsetOfMaxTimestamp', () => {
  const deltas = [0, 40, 10, 40, 5];
  const records = deltas.map((timestampDelta, i) => ({ key: null, value: value(`r${i}`), timestampDelta }));

  it('is the first record carrying the max timestamp, uncompressed and gzip (kafkajs batches)', async () => {
    for (const compression of ['none', 'gzip'] as const) {
      const batch = await kafkajsBatch(records, { timestampMs: 1_000, compression });
      const header = readBatchHeader(batch, 0)!;
      expect(header.maxTimestamp).toBe(1_040);
      expect(offsetOfMaxTimestamp(header, batch), compression).toEqual({ offset: 1, timestamp: 1_040 });
    }
  });

  it('is the first record under LogAppendTime; snappy and lz4 batches are read too', () => {
    const batch = buildBatch(records, { baseTimestamp: 1_000, baseOffset: 20 });
    const appendTime = withAttributes(batch, (attributes) => attributes | TIMESTAMP_TYPE_LOG_APPEND);
    expect(offsetOfMaxTimestamp(readBatchHeader(appendTime, 0)!, appendTime)).toEqual({ offset: 20, timestamp: 1_040 });
    for (const compression of [COMPRESSION_SNAPPY, COMPRESSION_LZ4]) {
      const compressed = encodeBatch({ ...decodeBatchRecords(batch), attributes: compression });
      expect(offsetOfMaxTimestamp(readBatchHeader(compressed, 0)!, compressed), `type ${compression}`).toEqual({ offset: 21, timestamp: 1_040 });
    }
  });

  it(`is the record in a zstd batch too, on every Node (here ${process.version})`, () => {
    const batch = buildBatch(records, { baseTimestamp: 1_000, baseOffset: 20 });
    const zstd = encodeBatch({ ...decodeBatchRecords(batch), attributes: COMPRESSION_ZSTD });
    expect(offsetOfMaxTimestamp(readBatchHeader(zstd, 0)!, zstd)).toEqual({ offset: 21, timestamp: 1_040 });
  });

  it('counts only records at or past the log start offset when it falls inside the batch', () => {
    const batch = buildBatch([0, 40, 10, 5, 1].map((timestampDelta, i) => ({ key: null, value: value(`s${i}`), timestampDelta })), { baseTimestamp: 1_000 });
    const header = readBatchHeader(batch, 0)!;
    expect(offsetOfMaxTimestamp(header, batch, 0)).toEqual({ offset: 1, timestamp: 1_040 });
    expect(offsetOfMaxTimestamp(header, batch, 2)).toEqual({ offset: 2, timestamp: 1_010 });
    expect(offsetOfMaxTimestamp(header, batch, 3)).toEqual({ offset: 3, timestamp: 1_005 });
  });

  it('has no answer for a batch none of whose records has its max timestamp', () => {
    const batch = buildBatch(records, { baseTimestamp: 1_000 });
    new DataView(batch.buffer).setBigInt64(35, 1_041n);
    new DataView(batch.buffer).setUint32(17, batchCrc(batch));
    expect(offsetOfMaxTimestamp(readBatchHeader(batch, 0)!, batch)).toBeUndefined();
  });
});

describe('PartitionLog.batchWithMaxTimestamp', () => {
  it('finds the batch across segments, the first of equal ones, and not below the log start offset', async () => {
    const log = newLog(300);
    expect(log.batchWithMaxTimestamp()).toBeUndefined();
    // Timestamps per batch (one record each, ~120 bytes): the largest, 9000, twice, in different segments.
    const timestamps = [1_000, 5_000, 2_000, 9_000, 3_000, 4_000, 9_000, 8_500, 7_000, 6_000, 1_500, 2_500];
    for (const [i, timestamp] of timestamps.entries()) {
      await log.append(buildBatch([{ key: null, value: new Uint8Array(60).fill(i) }], { baseTimestamp: timestamp }));
    }
    expect(log.segmentCount).toBeGreaterThanOrEqual(5);
    log.setHighWatermark(log.logEndOffset);
    const found = log.batchWithMaxTimestamp()!;
    expect([found.header.baseOffset, found.header.maxTimestamp]).toEqual([3, 9_000]);
    expect(readBatchHeader(found.bytes, 0)).toMatchObject({ baseOffset: 3, maxTimestamp: 9_000, sizeBytes: found.bytes.byteLength });
    // Past the first 9000 (DeleteRecords), the second one.
    log.deleteRecordsBefore(4);
    expect(log.batchWithMaxTimestamp()!.header.baseOffset).toBe(6);
    // Past both: 8500, the next largest.
    log.deleteRecordsBefore(7);
    expect(log.batchWithMaxTimestamp()!.header).toMatchObject({ baseOffset: 7, maxTimestamp: 8_500 });
    log.close();
  });

  it('finds the newest batch when timestamps grow with offsets, as producers write them', async () => {
    const log = newLog(300);
    for (let i = 0; i < 20; i++) await log.append(buildBatch([{ key: null, value: new Uint8Array(60).fill(i) }], { baseTimestamp: 1_000 + i }));
    expect(log.segmentCount).toBeGreaterThanOrEqual(8);
    expect(log.batchWithMaxTimestamp()!.header).toMatchObject({ baseOffset: 19, maxTimestamp: 1_019 });
    log.close();
  });

  it('scans the rest of a segment whose largest batch is below the log start offset', async () => {
    const log = newLog();
    for (const timestamp of [1_000, 9_000, 3_000, 7_000, 5_000]) await log.append(buildBatch([{ key: null, value: value('x') }], { baseTimestamp: timestamp }));
    expect(log.segmentCount).toBe(1);
    log.setHighWatermark(log.logEndOffset);
    log.deleteRecordsBefore(2);
    expect(log.batchWithMaxTimestamp()!.header).toMatchObject({ baseOffset: 3, maxTimestamp: 7_000 });
    log.close();
  });
});
