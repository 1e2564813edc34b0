/**
 * A minimal, fast builder of uncompressed magic-2 record batches for the log tests, written
 * from the format spec (not with Samsa's own codec), plus the transformations the log applies on
 * append (base offset, LogAppendTime) so a model can predict the stored bytes exactly.
 *
 *   0  baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8 = 2
 *   17 crc u32 (CRC-32C of bytes 21..end) | 21 attributes i16 | 23 lastOffsetDelta i32
 *   27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16
 *   53 baseSequence i32 | 57 recordsCount i32 | 61 records
 *
 *   record: length varint | attributes i8 | timestampDelta varlong | offsetDelta varint |
 *           keyLength varint | key | valueLength varint | value | headersCount varint (0)
 */
import { crc32c } from '@node-rs/crc32';

export const HEADER_BYTES = 61;
const LOG_APPEND_TIME_FLAG = 0x08;

export interface SimpleRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  /** Added to the batch's base timestamp. */
  readonly timestampDelta?: number;
}

/** A record as it sits in a batch: SimpleRecord plus its offset delta. */
export interface PlacedRecord extends SimpleRecord {
  readonly offsetDelta: number;
}

export interface BatchOptions {
  readonly baseTimestamp: number;
  readonly baseOffset?: number;
  readonly partitionLeaderEpoch?: number;
}

function zigzag(value: number): number {
  // Values here stay well inside int32; zigzag with plain arithmetic to avoid sign games.
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function varintBytes(value: number): number[] {
  let remaining = zigzag(value);
  const out: number[] = [];
  while (remaining >= 0x80) {
    out.push((remaining % 0x80) | 0x80);
    remaining = Math.floor(remaining / 0x80);
  }
  out.push(remaining);
  return out;
}

function encodeRecord(record: SimpleRecord, offsetDelta: number): Uint8Array {
  const body: number[] = [0, ...varintBytes(record.timestampDelta ?? 0), ...varintBytes(offsetDelta)];
  const parts: (number[] | Uint8Array)[] = [];
  parts.push(body);
  for (const field of [record.key, record.value]) {
    if (field === null) {
      parts.push(varintBytes(-1));
    } else {
      parts.push(varintBytes(field.byteLength));
      parts.push(field);
    }
  }
  parts.push(varintBytes(0));
  const bodyLength = parts.reduce((sum, part) => sum + part.length, 0);
  const prefix = varintBytes(bodyLength);
  const bytes = new Uint8Array(prefix.length + bodyLength);
  bytes.set(prefix, 0);
  let at = prefix.length;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

export function batchCrc(batch: Uint8Array): number {
  const covered = batch.subarray(21);
  return crc32c(Buffer.from(covered.buffer, covered.byteOffset, covered.byteLength)) >>> 0;
}

/** An uncompressed CreateTime batch of `records` with a correct CRC. */
export function buildBatch(records: readonly SimpleRecord[], options: BatchOptions): Uint8Array {
  if (records.length === 0) throw new Error('a batch needs at least one record');
  const encoded = records.map((record, offsetDelta) => encodeRecord(record, offsetDelta));
  const recordsBytes = encoded.reduce((sum, record) => sum + record.byteLength, 0);
  const batch = new Uint8Array(HEADER_BYTES + recordsBytes);
  const view = new DataView(batch.buffer);
  const maxDelta = Math.max(...records.map((record) => record.timestampDelta ?? 0));
  view.setBigInt64(0, BigInt(options.baseOffset ?? 0));
  view.setInt32(8, batch.byteLength - 12);
  view.setInt32(12, options.partitionLeaderEpoch ?? -1);
  view.setInt8(16, 2);
  view.setInt16(21, 0);
  view.setInt32(23, records.length - 1);
  view.setBigInt64(27, BigInt(options.baseTimestamp));
  view.setBigInt64(35, BigInt(options.baseTimestamp + maxDelta));
  view.setBigInt64(43, -1n);
  view.setInt16(51, -1);
  view.setInt32(53, -1);
  view.setInt32(57, records.length);
  let at = HEADER_BYTES;
  for (const record of encoded) {
    batch.set(record, at);
    at += record.byteLength;
  }
  view.setUint32(17, batchCrc(batch));
  return batch;
}

export function batchView(batch: Uint8Array): DataView {
  return new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
}

export function baseOffsetOf(batch: Uint8Array): number {
  return Number(batchView(batch).getBigInt64(0));
}

export function lastOffsetDeltaOf(batch: Uint8Array): number {
  return batchView(batch).getInt32(23);
}

export function maxTimestampOf(batch: Uint8Array): number {
  return Number(batchView(batch).getBigInt64(35));
}

/** A copy of `batch` as the log stores it at `baseOffset` (the base offset is outside the CRC). */
export function atOffset(batch: Uint8Array, baseOffset: number): Uint8Array {
  const copy = batch.slice();
  batchView(copy).setBigInt64(0, BigInt(baseOffset));
  return copy;
}

/** A copy of `batch` as stamped under LogAppendTime: the type bit, maxTimestamp, a new CRC. */
export function stampedWithLogAppendTime(batch: Uint8Array, nowMs: number): Uint8Array {
  const copy = batch.slice();
  const view = batchView(copy);
  view.setInt16(21, view.getInt16(21) | LOG_APPEND_TIME_FLAG);
  view.setBigInt64(35, BigInt(nowMs));
  view.setUint32(17, batchCrc(copy));
  return copy;
}

/**
 * What log compaction must store for `batch` (uncompressed, as stored) once only `kept` of its
 * records remain, as Kafka's cleaner writes it: the same base offset, leader epoch, attributes,
 * lastOffsetDelta and producer fields; the timestamps of what is kept (CreateTime: the first kept
 * record's as the base, deltas from it, the largest as the max; LogAppendTime: the append time as
 * the base, every delta 0); each kept record re-encoded with its offset delta; batchLength,
 * recordsCount and the CRC recomputed. Returns the bytes and the kept records as stored.
 */
export function withRecords(batch: Uint8Array, kept: readonly PlacedRecord[]): { bytes: Uint8Array; records: PlacedRecord[] } {
  if (kept.length === 0) throw new Error('a batch needs at least one record');
  const original = batchView(batch);
  const logAppendTime = (original.getInt16(21) & LOG_APPEND_TIME_FLAG) !== 0;
  const firstDelta = logAppendTime ? 0 : kept[0]!.timestampDelta ?? 0;
  const records = kept.map((record): PlacedRecord => ({ ...record, timestampDelta: logAppendTime ? 0 : (record.timestampDelta ?? 0) - firstDelta }));
  const baseTimestamp = logAppendTime ? Number(original.getBigInt64(35)) : Number(original.getBigInt64(27)) + firstDelta;
  const maxTimestamp = logAppendTime ? baseTimestamp : baseTimestamp + Math.max(...records.map((record) => record.timestampDelta ?? 0));
  const encoded = records.map((record) => encodeRecord(record, record.offsetDelta));
  const recordsBytes = encoded.reduce((sum, record) => sum + record.byteLength, 0);
  const rebuilt = new Uint8Array(HEADER_BYTES + recordsBytes);
  rebuilt.set(batch.subarray(0, HEADER_BYTES), 0);
  const view = batchView(rebuilt);
  view.setInt32(8, rebuilt.byteLength - 12);
  view.setBigInt64(27, BigInt(baseTimestamp));
  view.setBigInt64(35, BigInt(maxTimestamp));
  view.setInt32(57, kept.length);
  let at = HEADER_BYTES;
  for (const record of encoded) {
    rebuilt.set(record, at);
    at += record.byteLength;
  }
  view.setUint32(17, batchCrc(rebuilt));
  return { bytes: rebuilt, records };
}

/** Concatenates batches into one produce payload. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** Deterministic filler bytes: cheap, and distinct per (seed, length). */
export function fillerBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}
