/**
 * Record batches built and decoded by kafkajs's own protocol code: an implementation independent
 * of Samsa's, so what the log stores is checked against a reference.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: Record<string, unknown>) => unknown;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{ firstOffset: string; records: DecodedRecord[]; maxTimestamp: string }>;
const { Types: Compression } = require('kafkajs/src/protocol/message/compression') as { Types: Record<string, number> };

export interface TestRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer>;
  /** Added to the batch's first timestamp (default 0); the batch's max timestamp follows. */
  timestampDelta?: number;
}

export interface DecodedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  timestamp: string;
}

export async function kafkajsBatch(records: TestRecord[], options: { timestampMs?: number; compression?: 'none' | 'gzip' } = {}): Promise<Uint8Array> {
  const timestamp = options.timestampMs ?? Date.now();
  const encoded = await RecordBatch({
    compression: options.compression === 'gzip' ? Compression.GZIP : Compression.None,
    firstTimestamp: timestamp,
    maxTimestamp: timestamp + Math.max(...records.map((record) => record.timestampDelta ?? 0)),
    lastOffsetDelta: records.length - 1,
    records: records.map((record, offsetDelta) => Record({ offsetDelta, timestampDelta: record.timestampDelta ?? 0, key: record.key, value: record.value, headers: record.headers ?? {} })),
  });
  return new Uint8Array(encoded.buffer);
}

/** Decodes every batch in `bytes` with kafkajs; returns its records with absolute offsets. */
export async function kafkajsDecode(bytes: Uint8Array): Promise<DecodedRecord[]> {
  const records: DecodedRecord[] = [];
  let position = 0;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (position < buffer.byteLength) {
    const size = buffer.readInt32BE(position + 8) + 12;
    const batch = await decodeRecordBatch(new Decoder(buffer.subarray(position, position + size)));
    records.push(...batch.records);
    position += size;
  }
  return records;
}
