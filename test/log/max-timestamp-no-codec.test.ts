/**
 * Where a codec cannot load in this install (its package has no binary for the platform), max
 * timestamp falls back to what Kafka answered for a compressed batch before 3.8: the batch's last
 * offset. records.ts is mocked to say so; every codec loads on the platforms CI runs.
 */
import { describe, expect, it, vi } from 'vitest';
import { offsetOfMaxTimestamp } from '../../src/log/max-timestamp.js';
import { readBatchHeader } from '../../src/log/record-batch.js';
import { COMPRESSION_ZSTD, decodeBatchRecords, encodeBatch } from '../../src/log/records.js';
import { buildBatch } from './batch-builder.js';

vi.mock('../../src/log/records.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/log/records.js')>()),
  // zstd (type 4) is missing; vi.mock is hoisted above every import, so the literal.
  isCompressionAvailable: (compression: number) => compression !== 4,
}));

describe('offsetOfMaxTimestamp without the codec', () => {
  it("answers a zstd batch's last offset, with its max timestamp", () => {
    const records = [0, 40, 10, 40, 5].map((timestampDelta, i) => ({ key: null, value: Buffer.from(`r${i}`), timestampDelta }));
    const plain = buildBatch(records, { baseTimestamp: 1_000, baseOffset: 20 });
    expect(COMPRESSION_ZSTD).toBe(4);
    const zstd = encodeBatch({ ...decodeBatchRecords(plain), attributes: COMPRESSION_ZSTD });
    expect(offsetOfMaxTimestamp(readBatchHeader(zstd, 0)!, zstd)).toEqual({ offset: 24, timestamp: 1_040 });
    // Uncompressed batches are still read: the first record holding the max timestamp.
    expect(offsetOfMaxTimestamp(readBatchHeader(plain, 0)!, plain)).toEqual({ offset: 21, timestamp: 1_040 });
  });
});
