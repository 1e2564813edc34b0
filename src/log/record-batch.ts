/**
 * Kafka record batches (magic 2), treated as opaque bytes: only the 61-byte header is read, and
 * the CRC-32C is checked, never the records themselves.
 *
 *   offset  size  field
 *   0       8     baseOffset            rewritten in place by the log (not covered by the CRC)
 *   8       4     batchLength           bytes after this field: the batch is batchLength + 12 long
 *   12      4     partitionLeaderEpoch  (not covered by the CRC)
 *   16      1     magic                 must be 2
 *   17      4     crc                   CRC-32C (Castagnoli) of bytes 21..end
 *   21      2     attributes            bits 0-2 compression, 3 timestamp type (1 = LogAppendTime),
 *                                        4 transactional, 5 control
 *   23      4     lastOffsetDelta
 *   27      8     baseTimestamp
 *   35      8     maxTimestamp
 *   43      8     producerId
 *   51      2     producerEpoch
 *   53      4     baseSequence
 *   57      4     recordsCount
 *   61      ...   records (compressed as a whole when bits 0-2 are set)
 */
import { crc32c } from '@node-rs/crc32';
import { KafkaError } from '../protocol/kafka-error.js';

export const BATCH_HEADER_BYTES = 61;
/** baseOffset + batchLength: the part of the header outside batchLength. */
export const BATCH_LENGTH_PREFIX_BYTES = 12;
export const MAGIC_V2 = 2;

export const BASE_OFFSET_AT = 0;
export const BATCH_LENGTH_AT = 8;
export const PARTITION_LEADER_EPOCH_AT = 12;
export const MAGIC_AT = 16;
export const CRC_AT = 17;
export const ATTRIBUTES_AT = 21;
export const LAST_OFFSET_DELTA_AT = 23;
export const BASE_TIMESTAMP_AT = 27;
export const MAX_TIMESTAMP_AT = 35;
export const PRODUCER_ID_AT = 43;
export const RECORDS_COUNT_AT = 57;

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
export const TRANSACTIONAL_FLAG = 0x10;
export const CONTROL_FLAG = 0x20;

export interface BatchHeader {
  /** Byte offset of the batch within the buffer it was read from. */
  readonly position: number;
  /** Whole batch size in bytes (batchLength + 12). */
  readonly sizeBytes: number;
  readonly baseOffset: number;
  readonly lastOffsetDelta: number;
  readonly attributes: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly recordsCount: number;
}

export function lastOffsetOf(header: BatchHeader): number {
  return header.baseOffset + header.lastOffsetDelta;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A 64-bit field as a Number (exact below 2^53): two 32-bit reads, cheaper than BigInt. */
function readInt64(data: DataView, at: number): number {
  return data.getInt32(at) * 4294967296 + data.getUint32(at + 4);
}

function writeInt64(data: DataView, at: number, value: number): void {
  data.setInt32(at, Math.floor(value / 4294967296));
  data.setUint32(at + 4, value >>> 0);
}

/**
 * Reads the header of the batch at `position`, or returns undefined when the bytes there are
 * not a plausible batch (too short, wrong magic, impossible length) or, with `requireWhole`, when
 * the whole batch is not within `bytes`. Does not check the CRC.
 */
export function readBatchHeader(bytes: Uint8Array, position: number, requireWhole = true, data: DataView = view(bytes)): BatchHeader | undefined {
  if (position < 0 || bytes.byteLength - position < BATCH_HEADER_BYTES) return undefined;
  const batchLength = data.getInt32(position + BATCH_LENGTH_AT);
  const sizeBytes = batchLength + BATCH_LENGTH_PREFIX_BYTES;
  if (sizeBytes < BATCH_HEADER_BYTES) return undefined;
  if (requireWhole && sizeBytes > bytes.byteLength - position) return undefined;
  if (data.getInt8(position + MAGIC_AT) !== MAGIC_V2) return undefined;
  const lastOffsetDelta = data.getInt32(position + LAST_OFFSET_DELTA_AT);
  const recordsCount = data.getInt32(position + RECORDS_COUNT_AT);
  if (lastOffsetDelta < 0 || recordsCount < 0) return undefined;
  return {
    position,
    sizeBytes,
    baseOffset: readInt64(data, position + BASE_OFFSET_AT),
    lastOffsetDelta,
    attributes: data.getInt16(position + ATTRIBUTES_AT),
    baseTimestamp: readInt64(data, position + BASE_TIMESTAMP_AT),
    maxTimestamp: readInt64(data, position + MAX_TIMESTAMP_AT),
    recordsCount,
  };
}

export function computeCrc(bytes: Uint8Array, header: BatchHeader): number {
  const start = bytes.byteOffset + header.position + ATTRIBUTES_AT;
  return crc32c(Buffer.from(bytes.buffer, start, header.sizeBytes - ATTRIBUTES_AT)) >>> 0;
}

export function crcMatches(bytes: Uint8Array, header: BatchHeader, data: DataView = view(bytes)): boolean {
  return data.getUint32(header.position + CRC_AT) === computeCrc(bytes, header);
}

/**
 * Splits `bytes` into batches, checking framing, magic and CRC of each. Throws CORRUPT_MESSAGE
 * (nothing partial is returned) when any batch is bad or bytes are left over.
 */
export function parseBatches(bytes: Uint8Array): BatchHeader[] {
  const headers: BatchHeader[] = [];
  const data = view(bytes);
  let position = 0;
  while (position < bytes.byteLength) {
    const header = readBatchHeader(bytes, position, true, data);
    if (!header) throw new KafkaError('CORRUPT_MESSAGE', `malformed record batch at byte ${position}`);
    if (!crcMatches(bytes, header, data)) throw new KafkaError('CORRUPT_MESSAGE', `record batch at byte ${position} fails its CRC-32C`);
    headers.push(header);
    position += header.sizeBytes;
  }
  return headers;
}

export function writeBaseOffset(bytes: Uint8Array, header: BatchHeader, baseOffset: number, data: DataView = view(bytes)): void {
  writeInt64(data, header.position + BASE_OFFSET_AT, baseOffset);
}

/** LogAppendTime: sets the timestamp type bit and maxTimestamp, then the CRC they change. */
export function stampLogAppendTime(bytes: Uint8Array, header: BatchHeader, nowMs: number): BatchHeader {
  const data = view(bytes);
  const attributes = header.attributes | TIMESTAMP_TYPE_LOG_APPEND;
  data.setInt16(header.position + ATTRIBUTES_AT, attributes);
  writeInt64(data, header.position + MAX_TIMESTAMP_AT, nowMs);
  const stamped = { ...header, attributes, maxTimestamp: nowMs };
  data.setUint32(header.position + CRC_AT, computeCrc(bytes, stamped));
  return stamped;
}
