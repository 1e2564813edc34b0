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
import { crc32c } from './crc32c.js';
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

/*
 * Fields are read and written byte by byte (big-endian) rather than through a DataView: these
 * run for every batch appended, read and recovered, and a DataView per call cost more than the
 * reads themselves (an allocation each, and garbage). Likewise `bytes.length`, not byteLength:
 * the same for a Uint8Array, but Node 20's V8 inlines the one and calls a builtin for the other.
 */
function int32At(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

function uint32At(bytes: Uint8Array, at: number): number {
  return int32At(bytes, at) >>> 0;
}

/** A 64-bit field as a Number (exact below 2^53): two 32-bit reads, cheaper than BigInt. */
function int64At(bytes: Uint8Array, at: number): number {
  return int32At(bytes, at) * 4294967296 + uint32At(bytes, at + 4);
}

function setInt32At(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

function setInt64At(bytes: Uint8Array, at: number, value: number): void {
  setInt32At(bytes, at, Math.floor(value / 4294967296));
  setInt32At(bytes, at + 4, value >>> 0);
}

/**
 * Reads the header of the batch at `position`, or returns undefined when the bytes there are
 * not a plausible batch (too short, wrong magic, impossible length) or, with `requireWhole`, when
 * the whole batch is not within `bytes`. Does not check the CRC.
 */
export function readBatchHeader(bytes: Uint8Array, position: number, requireWhole = true): BatchHeader | undefined {
  if (position < 0 || bytes.length - position < BATCH_HEADER_BYTES) return undefined;
  const sizeBytes = int32At(bytes, position + BATCH_LENGTH_AT) + BATCH_LENGTH_PREFIX_BYTES;
  if (sizeBytes < BATCH_HEADER_BYTES) return undefined;
  if (requireWhole && sizeBytes > bytes.length - position) return undefined;
  if (bytes[position + MAGIC_AT] !== MAGIC_V2) return undefined;
  const lastOffsetDelta = int32At(bytes, position + LAST_OFFSET_DELTA_AT);
  const recordsCount = int32At(bytes, position + RECORDS_COUNT_AT);
  if (lastOffsetDelta < 0 || recordsCount < 0) return undefined;
  return {
    position,
    sizeBytes,
    baseOffset: int64At(bytes, position + BASE_OFFSET_AT),
    lastOffsetDelta,
    attributes: ((bytes[position + ATTRIBUTES_AT]! << 24) >> 16) | bytes[position + ATTRIBUTES_AT + 1]!,
    baseTimestamp: int64At(bytes, position + BASE_TIMESTAMP_AT),
    maxTimestamp: int64At(bytes, position + MAX_TIMESTAMP_AT),
    recordsCount,
  };
}

export function computeCrc(bytes: Uint8Array, header: BatchHeader): number {
  return crc32c(bytes, header.position + ATTRIBUTES_AT, header.sizeBytes - ATTRIBUTES_AT);
}

export function crcMatches(bytes: Uint8Array, header: BatchHeader): boolean {
  return uint32At(bytes, header.position + CRC_AT) === computeCrc(bytes, header);
}

/**
 * Splits `bytes` into batches, checking framing, magic and CRC of each. Throws CORRUPT_MESSAGE
 * (nothing partial is returned) when any batch is bad or bytes are left over. The append path
 * uses checkBatches, the same checks without building headers.
 */
export function parseBatches(bytes: Uint8Array): BatchHeader[] {
  const headers: BatchHeader[] = [];
  let position = 0;
  while (position < bytes.length) {
    const header = readBatchHeader(bytes, position);
    if (!header) throw new KafkaError('CORRUPT_MESSAGE', `malformed record batch at byte ${position}`);
    if (!crcMatches(bytes, header)) throw new KafkaError('CORRUPT_MESSAGE', `record batch at byte ${position} fails its CRC-32C`);
    headers.push(header);
    position += header.sizeBytes;
  }
  return headers;
}

/** Whole size of the batch at `position` (batchLength + 12); the header must have been checked. */
export function batchSizeAt(bytes: Uint8Array, position: number): number {
  return int32At(bytes, position + BATCH_LENGTH_AT) + BATCH_LENGTH_PREFIX_BYTES;
}

export function baseOffsetAt(bytes: Uint8Array, position: number): number {
  return int64At(bytes, position + BASE_OFFSET_AT);
}

export function lastOffsetDeltaAt(bytes: Uint8Array, position: number): number {
  return int32At(bytes, position + LAST_OFFSET_DELTA_AT);
}

export function maxTimestampAt(bytes: Uint8Array, position: number): number {
  return int64At(bytes, position + MAX_TIMESTAMP_AT);
}

/**
 * The append path's check, allocation-free: framing, magic and CRC-32C of every batch (throws
 * CORRUPT_MESSAGE), then no batch over `maxBatchBytes` (throws MESSAGE_TOO_LARGE; a corrupt
 * batch anywhere in the set wins, as in parseBatches followed by a size check). Returns how
 * many batches `bytes` holds. Same checks as parseBatches, without building headers.
 */
export function checkBatches(bytes: Uint8Array, maxBatchBytes: number): number {
  let position = 0;
  let count = 0;
  let largest = 0;
  const length = bytes.length;
  while (position < length) {
    const available = length - position;
    const sizeBytes = available < BATCH_HEADER_BYTES ? 0 : batchSizeAt(bytes, position);
    if (
      sizeBytes < BATCH_HEADER_BYTES ||
      sizeBytes > available ||
      bytes[position + MAGIC_AT] !== MAGIC_V2 ||
      int32At(bytes, position + LAST_OFFSET_DELTA_AT) < 0 ||
      int32At(bytes, position + RECORDS_COUNT_AT) < 0
    ) {
      throw new KafkaError('CORRUPT_MESSAGE', `malformed record batch at byte ${position}`);
    }
    if (uint32At(bytes, position + CRC_AT) !== crc32c(bytes, position + ATTRIBUTES_AT, sizeBytes - ATTRIBUTES_AT)) {
      throw new KafkaError('CORRUPT_MESSAGE', `record batch at byte ${position} fails its CRC-32C`);
    }
    if (sizeBytes > largest) largest = sizeBytes;
    position += sizeBytes;
    count++;
  }
  if (largest > maxBatchBytes) throw new KafkaError('MESSAGE_TOO_LARGE', `batch of ${largest} bytes exceeds max.message.bytes ${maxBatchBytes}`);
  return count;
}

/**
 * Rewrites the baseOffset of each batch in `bytes` (checked by checkBatches) so offsets run on
 * from `firstOffset`; returns the offset after the last batch.
 */
export function assignOffsets(bytes: Uint8Array, firstOffset: number): number {
  let nextOffset = firstOffset;
  const length = bytes.length;
  for (let position = 0; position < length; position += batchSizeAt(bytes, position)) {
    setInt64At(bytes, position + BASE_OFFSET_AT, nextOffset);
    nextOffset += lastOffsetDeltaAt(bytes, position) + 1;
  }
  return nextOffset;
}

/** LogAppendTime: sets the timestamp type bit and maxTimestamp, then the CRC they change. */
export function stampLogAppendTime(bytes: Uint8Array, header: BatchHeader, nowMs: number): BatchHeader {
  const attributes = header.attributes | TIMESTAMP_TYPE_LOG_APPEND;
  bytes[header.position + ATTRIBUTES_AT] = attributes >>> 8;
  bytes[header.position + ATTRIBUTES_AT + 1] = attributes;
  setInt64At(bytes, header.position + MAX_TIMESTAMP_AT, nowMs);
  const stamped = { ...header, attributes, maxTimestamp: nowMs };
  setInt32At(bytes, header.position + CRC_AT, computeCrc(bytes, stamped));
  return stamped;
}
