/**
 * The records inside a magic-2 record batch, decoded and encoded. Everywhere else Samsa treats a
 * batch as opaque bytes (record-batch.ts reads only its header); log compaction is the one path
 * that must look at keys and values, and this is its codec.
 *
 *   batch   = header (61 bytes, see record-batch.ts) records
 *   records = record * recordsCount, compressed as one block when attributes bits 0-2 are set
 *
 *   record                                     header
 *   length           varint  bytes after it    keyLength    varint  never null
 *   attributes       int8    unused, 0         key          utf-8
 *   timestampDelta   varlong from baseTimestamp valueLength varint  -1 = null
 *   offsetDelta      varint  from baseOffset   value        bytes
 *   keyLength        varint  -1 = null key
 *   key              bytes
 *   valueLength      varint  -1 = null value (a tombstone)
 *   value            bytes
 *   headersCount     varint
 *   headers          header * headersCount
 *
 * varint is a zigzag-encoded int32 in 1-5 base-128 groups, least significant first; varlong
 * the same for int64 in 1-10. Samsa's offsets and timestamps are JavaScript numbers, so every
 * 64-bit value read here must be a safe integer: one that is not could not be written back
 * unchanged, and is refused as CORRUPT_MESSAGE rather than silently rounded.
 *
 * The input comes from clients, so every length and count is checked against the bytes left
 * before anything is allocated or sliced, and decompression is capped: corrupt input gives
 * KafkaError CORRUPT_MESSAGE, never a RangeError or a huge allocation. Decoded keys, values
 * and header values are views into the batch (or into its decompressed records), not copies.
 */
import { crc32c } from './crc32c.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { CodecError, compressBytes, decompressBytes, type CompressionCodec } from '../runtime/codecs.js';
import {
  ATTRIBUTES_AT,
  BASE_OFFSET_AT,
  BASE_TIMESTAMP_AT,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_AT,
  BATCH_LENGTH_PREFIX_BYTES,
  COMPRESSION_MASK,
  CRC_AT,
  LAST_OFFSET_DELTA_AT,
  MAGIC_AT,
  MAGIC_V2,
  MAX_TIMESTAMP_AT,
  PARTITION_LEADER_EPOCH_AT,
  PRODUCER_ID_AT,
  RECORDS_COUNT_AT,
  readBatchHeader,
  type BatchHeader,
} from './record-batch.js';

const PRODUCER_EPOCH_AT = 51;
const BASE_SEQUENCE_AT = 53;

/** Compression types, attributes bits 0-2. */
export const COMPRESSION_NONE = 0;
export const COMPRESSION_GZIP = 1;
export const COMPRESSION_SNAPPY = 2;
export const COMPRESSION_LZ4 = 3;
export const COMPRESSION_ZSTD = 4;

/**
 * Default bound on a batch's decompressed records. Kafka's message.max.bytes (1 MiB by default)
 * bounds a batch as sent; this bounds what a small compressed batch may grow into.
 */
export const DECOMPRESSED_RECORDS_BYTES_MAX = 64 * 1024 * 1024;

/**
 * The smallest record: length, attributes, timestampDelta, offsetDelta, keyLength, valueLength
 * and headersCount, one byte each. It bounds recordsCount by the bytes actually present.
 */
const RECORD_BYTES_MIN = 7;
/** keyLength and valueLength of an empty header. */
const HEADER_BYTES_MIN = 2;

export interface RecordHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

export interface BatchRecord {
  readonly offsetDelta: number;
  readonly timestampDelta: number;
  readonly key: Uint8Array | null;
  /** null marks a tombstone. */
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
}

/** What encodeBatch needs; recordsCount, batchLength, magic and CRC follow from it. */
export interface BatchFields {
  readonly baseOffset: number;
  readonly partitionLeaderEpoch: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly records: readonly BatchRecord[];
}

export interface DecodedBatch extends BatchFields {
  readonly batchLength: number;
  readonly magic: number;
  readonly crc: number;
}

export interface DecodeOptions {
  /** Default DECOMPRESSED_RECORDS_BYTES_MAX. */
  readonly decompressedBytesMax?: number;
  /** Default true. Callers that already ran parseBatches over these bytes may skip it. */
  readonly verifyCrc?: boolean;
}

function corrupt(detail: string): KafkaError {
  return new KafkaError('CORRUPT_MESSAGE', detail);
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The codec for attributes bits 0-2, or undefined for none; throws for those Samsa lacks. */
function codecOf(attributes: number): CompressionCodec | undefined {
  const compression = attributes & COMPRESSION_MASK;
  switch (compression) {
    case COMPRESSION_NONE:
      return undefined;
    case COMPRESSION_GZIP:
      return 'gzip';
    case COMPRESSION_ZSTD:
      return 'zstd';
    case COMPRESSION_SNAPPY:
      return 'snappy';
    case COMPRESSION_LZ4:
      return 'lz4';
    default:
      throw corrupt(`unknown compression type ${compression} in batch attributes`);
  }
}

const availability = new Map<number, boolean>();

/**
 * Whether this process can both compress and decompress `compression` (attributes bits 0-2): a
 * codec package without a binary for this platform cannot. Asks codecs.ts once per type, so
 * that stays the only place that knows.
 */
export function isCompressionAvailable(compression: number): boolean {
  let available = availability.get(compression);
  if (available === undefined) {
    try {
      const codec = codecOf(compression);
      if (codec) decompressBytes(codec, compressBytes(codec, Uint8Array.of(0)), 1);
      available = true;
    } catch (error) {
      if (!(error instanceof KafkaError) && !(error instanceof CodecError)) throw error;
      available = false;
    }
    availability.set(compression, available);
  }
  return available;
}

/** CodecErrors are about the client's bytes or this Node; map them to what a client is told. */
function asKafkaError(error: unknown, codec: CompressionCodec): unknown {
  if (!(error instanceof CodecError)) return error;
  if (error.code === 'UNSUPPORTED_CODEC') return new KafkaError('UNSUPPORTED_COMPRESSION_TYPE', error.message, { cause: error });
  return new KafkaError('CORRUPT_MESSAGE', `${codec} records: ${error.message}`, { cause: error });
}

function safeInt64(data: DataView, at: number, field: string): number {
  const value = data.getBigInt64(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw corrupt(`${field} ${value} is outside the range Samsa can represent exactly`);
  }
  return Number(value);
}

/**
 * Decodes one whole batch: `batchBytes` must hold exactly one batch. Checks its framing, magic
 * and (unless told not to) CRC, decompresses its records and checks that they fill the batch
 * exactly, as recordsCount says.
 */
export function decodeBatchRecords(batchBytes: Uint8Array, options: DecodeOptions = {}): DecodedBatch {
  const { header, records } = recordsSection(batchBytes, options);
  const data = dataView(batchBytes);
  const crc = data.getUint32(CRC_AT);
  return {
    baseOffset: safeInt64(data, BASE_OFFSET_AT, 'baseOffset'),
    batchLength: data.getInt32(BATCH_LENGTH_AT),
    partitionLeaderEpoch: data.getInt32(PARTITION_LEADER_EPOCH_AT),
    magic: data.getInt8(MAGIC_AT),
    crc,
    attributes: header.attributes,
    lastOffsetDelta: header.lastOffsetDelta,
    baseTimestamp: safeInt64(data, BASE_TIMESTAMP_AT, 'baseTimestamp'),
    maxTimestamp: safeInt64(data, MAX_TIMESTAMP_AT, 'maxTimestamp'),
    producerId: safeInt64(data, PRODUCER_ID_AT, 'producerId'),
    producerEpoch: data.getInt16(PRODUCER_EPOCH_AT),
    baseSequence: data.getInt32(BASE_SEQUENCE_AT),
    records: decodeRecords(records, header.recordsCount),
  };
}

/** The batch's header, checked, and its records' bytes, decompressed (within the bound). */
function recordsSection(batchBytes: Uint8Array, options: DecodeOptions): { header: BatchHeader; records: Uint8Array } {
  const header = readBatchHeader(batchBytes, 0);
  if (!header) throw corrupt('malformed record batch header');
  if (header.sizeBytes !== batchBytes.byteLength) {
    throw corrupt(`batch length says ${header.sizeBytes} bytes, but ${batchBytes.byteLength} were given`);
  }
  if (options.verifyCrc !== false && dataView(batchBytes).getUint32(CRC_AT) !== crcOf(batchBytes)) throw corrupt('record batch fails its CRC-32C');
  const codec = codecOf(header.attributes);
  let records = batchBytes.subarray(BATCH_HEADER_BYTES);
  if (codec && !(header.recordsCount === 0 && records.byteLength === 0)) {
    const decompressedBytesMax = options.decompressedBytesMax ?? DECOMPRESSED_RECORDS_BYTES_MAX;
    try {
      records = decompressBytes(codec, records, decompressedBytesMax);
    } catch (error) {
      throw asKafkaError(error, codec);
    }
  }
  return { header, records };
}

/**
 * Each record's offset delta and timestamp delta, in order, read without building records (no
 * keys, values or headers are copied or decoded), until `visit` returns false: ListOffsets max
 * timestamp looks for one record in a batch of possibly millions. Same checks and bound on the
 * batch and its compression as decodeBatchRecords; a record's length is checked, not its fields
 * past the offset delta.
 */
export function scanRecordTimes(batchBytes: Uint8Array, visit: (offsetDelta: number, timestampDelta: number) => boolean, options: DecodeOptions = {}): void {
  const { header, records } = recordsSection(batchBytes, options);
  checkRecordsCount(records, header.recordsCount);
  const reader = new RecordReader(records);
  for (let index = 0; index < header.recordsCount; index++) {
    const { offsetDelta, timestampDelta } = reader.skimRecord();
    if (!visit(offsetDelta, timestampDelta)) return;
  }
}

function crcOf(batchBytes: Uint8Array): number {
  return crc32c(batchBytes, ATTRIBUTES_AT, batchBytes.byteLength - ATTRIBUTES_AT);
}

function checkRecordsCount(bytes: Uint8Array, recordsCount: number): void {
  if (recordsCount > bytes.byteLength / RECORD_BYTES_MIN) {
    throw corrupt(`recordsCount ${recordsCount} cannot fit in ${bytes.byteLength} bytes of records`);
  }
}

function decodeRecords(bytes: Uint8Array, recordsCount: number): BatchRecord[] {
  checkRecordsCount(bytes, recordsCount);
  const reader = new RecordReader(bytes);
  const records: BatchRecord[] = [];
  for (let index = 0; index < recordsCount; index++) records.push(reader.readRecord());
  if (reader.bytesLeft !== 0) throw corrupt(`${reader.bytesLeft} bytes follow the last of ${recordsCount} records`);
  return records;
}

const utf8 = new TextDecoder('utf-8');

/**
 * A cursor over record bytes. `end` starts at the end of the records and narrows to the end of
 * the record being read, so a record's fields can never read into the next record.
 */
class RecordReader {
  private position = 0;
  private end: number;

  constructor(private readonly bytes: Uint8Array) {
    this.end = bytes.byteLength;
  }

  get bytesLeft(): number {
    return this.end - this.position;
  }

  /** Reads and checks the next record's length and narrows `end` to the record; returns the records' end, to restore after it. */
  private openRecord(): number {
    const length = this.readVarint();
    if (length < RECORD_BYTES_MIN - 1) throw corrupt(`record length ${length} at byte ${this.position} is below the smallest record's`);
    if (length > this.bytesLeft) {
      throw corrupt(`record length ${length} at byte ${this.position} does not fit the ${this.bytesLeft} bytes left`);
    }
    const recordsEnd = this.end;
    this.end = this.position + length;
    return recordsEnd;
  }

  readRecord(): BatchRecord {
    const recordsEnd = this.openRecord();
    const length = this.end - this.position;
    this.readInt8(); // record attributes: unused by Kafka, written as 0 (as Kafka does)
    const timestampDelta = this.readVarlong();
    const offsetDelta = this.readVarint();
    const key = this.readNullableBytes('key');
    const value = this.readNullableBytes('value');
    const headersCount = this.readVarint();
    if (headersCount < 0 || headersCount > this.bytesLeft / HEADER_BYTES_MIN) {
      throw corrupt(`headersCount ${headersCount} cannot fit in the ${this.bytesLeft} bytes left of its record`);
    }
    const headers: RecordHeader[] = [];
    for (let index = 0; index < headersCount; index++) {
      const headerKey = this.readNullableBytes('header key');
      if (headerKey === null) throw corrupt('header key is null');
      // Invalid UTF-8 becomes U+FFFD, as in Kafka's own decoder (Utils.utf8).
      headers.push({ key: utf8.decode(headerKey), value: this.readNullableBytes('header value') });
    }
    if (this.bytesLeft !== 0) throw corrupt(`record length ${length} leaves ${this.bytesLeft} bytes unread`);
    this.end = recordsEnd;
    return { offsetDelta, timestampDelta, key, value, headers };
  }

  /** The next record's offset and timestamp deltas; the rest of it is skipped by its length. */
  skimRecord(): { offsetDelta: number; timestampDelta: number } {
    const recordsEnd = this.openRecord();
    const recordEnd = this.end;
    this.readInt8();
    const timestampDelta = this.readVarlong();
    const offsetDelta = this.readVarint();
    this.position = recordEnd;
    this.end = recordsEnd;
    return { offsetDelta, timestampDelta };
  }

  private readUint8(): number {
    if (this.position >= this.end) throw corrupt('record ends in the middle of a field');
    return this.bytes[this.position++]!;
  }

  private readInt8(): number {
    return (this.readUint8() << 24) >> 24;
  }

  private readNullableBytes(field: string): Uint8Array | null {
    const length = this.readVarint();
    if (length === -1) return null;
    if (length < 0 || length > this.bytesLeft) {
      throw corrupt(`${field} length ${length} does not fit the ${this.bytesLeft} bytes left of its record`);
    }
    const start = this.position;
    this.position += length;
    return this.bytes.subarray(start, this.position);
  }

  /** Zigzag int32 in at most 5 groups; the fifth may only carry the top 4 bits. */
  readVarint(): number {
    let unsigned = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.readUint8();
      if (shift === 28 && byte > 0x0f) throw corrupt('varint does not fit in 32 bits');
      unsigned |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (unsigned >>> 1) ^ -(unsigned & 1);
    }
  }

  /**
   * Zigzag int64 in at most 10 groups; the tenth may only carry the top bit. Up to 7 groups
   * (49 bits) are summed exactly as a number; longer ones, rare, go through BigInt.
   */
  readVarlong(): number {
    const start = this.position;
    let groups = 0;
    let unsigned = 0;
    for (;;) {
      const byte = this.readUint8();
      if (groups === 9 && byte > 0x01) throw corrupt('varlong does not fit in 64 bits');
      if (groups < 7) unsigned += (byte & 0x7f) * 2 ** (7 * groups);
      groups++;
      if ((byte & 0x80) === 0) break;
    }
    if (groups <= 7) return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
    let big = 0n;
    for (let index = groups - 1; index >= 0; index--) big = (big << 7n) | BigInt(this.bytes[start + index]! & 0x7f);
    const value = (big >> 1n) ^ -(big & 1n);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw corrupt(`timestampDelta ${value} is outside the range Samsa can represent exactly`);
    }
    return Number(value);
  }
}

/**
 * Builds a whole batch: header, records (compressed as a block when attributes bits 0-2 ask for
 * it) and the batchLength and CRC-32C that cover them. recordsCount is records.length. Throws
 * RangeError for fields out of their wire range (a bug in the caller) and KafkaError
 * UNSUPPORTED_COMPRESSION_TYPE for a codec this process lacks (see isCompressionAvailable).
 */
export function encodeBatch(fields: BatchFields): Uint8Array {
  checkSafeInteger('baseOffset', fields.baseOffset);
  checkIntRange('partitionLeaderEpoch', fields.partitionLeaderEpoch, 32);
  checkIntRange('attributes', fields.attributes, 16);
  checkIntRange('lastOffsetDelta', fields.lastOffsetDelta, 32);
  checkSafeInteger('baseTimestamp', fields.baseTimestamp);
  checkSafeInteger('maxTimestamp', fields.maxTimestamp);
  checkSafeInteger('producerId', fields.producerId);
  checkIntRange('producerEpoch', fields.producerEpoch, 16);
  checkIntRange('baseSequence', fields.baseSequence, 32);

  const codec = codecOf(fields.attributes);
  let records = encodeRecords(fields.records);
  if (codec) {
    try {
      records = compressBytes(codec, records);
    } catch (error) {
      throw asKafkaError(error, codec);
    }
  }

  const batch = new Uint8Array(BATCH_HEADER_BYTES + records.byteLength);
  const data = dataView(batch);
  data.setBigInt64(BASE_OFFSET_AT, BigInt(fields.baseOffset));
  data.setInt32(BATCH_LENGTH_AT, batch.byteLength - BATCH_LENGTH_PREFIX_BYTES);
  data.setInt32(PARTITION_LEADER_EPOCH_AT, fields.partitionLeaderEpoch);
  data.setInt8(MAGIC_AT, MAGIC_V2);
  data.setInt16(ATTRIBUTES_AT, fields.attributes);
  data.setInt32(LAST_OFFSET_DELTA_AT, fields.lastOffsetDelta);
  data.setBigInt64(BASE_TIMESTAMP_AT, BigInt(fields.baseTimestamp));
  data.setBigInt64(MAX_TIMESTAMP_AT, BigInt(fields.maxTimestamp));
  data.setBigInt64(PRODUCER_ID_AT, BigInt(fields.producerId));
  data.setInt16(PRODUCER_EPOCH_AT, fields.producerEpoch);
  data.setInt32(BASE_SEQUENCE_AT, fields.baseSequence);
  data.setInt32(RECORDS_COUNT_AT, fields.records.length);
  batch.set(records, BATCH_HEADER_BYTES);
  data.setUint32(CRC_AT, crcOf(batch));
  return batch;
}

/**
 * An uncompressed batch without a producer (not idempotent, not transactional): base offset 0
 * (the log assigns offsets), timestamps from `timestampMs` plus each record's delta.
 */
export function encodePlainBatch(records: readonly BatchRecord[], timestampMs: number, partitionLeaderEpoch = -1): Uint8Array {
  let maxTimestampDelta = 0;
  for (const record of records) maxTimestampDelta = Math.max(maxTimestampDelta, record.timestampDelta);
  return encodeBatch({
    baseOffset: 0,
    partitionLeaderEpoch,
    attributes: COMPRESSION_NONE,
    lastOffsetDelta: records.length - 1,
    baseTimestamp: timestampMs,
    maxTimestamp: timestampMs + maxTimestampDelta,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    records,
  });
}

const utf8Encoder = new TextEncoder();

/** Two passes: measure every record (its length prefix needs its size), then write once. */
function encodeRecords(records: readonly BatchRecord[]): Uint8Array {
  const bodySizes: number[] = [];
  const headerKeys: Uint8Array[][] = [];
  let total = 0;
  for (const record of records) {
    checkIntRange('offsetDelta', record.offsetDelta, 32);
    checkSafeInteger('timestampDelta', record.timestampDelta);
    const keys = record.headers.map((header) => utf8Encoder.encode(header.key));
    let size =
      1 +
      sizeOfVarlong(record.timestampDelta) +
      sizeOfVarint(record.offsetDelta) +
      sizeOfNullableBytes(record.key) +
      sizeOfNullableBytes(record.value) +
      sizeOfVarint(record.headers.length);
    record.headers.forEach((header, index) => {
      size += sizeOfNullableBytes(keys[index]!) + sizeOfNullableBytes(header.value);
    });
    checkIntRange('record size', size, 32);
    bodySizes.push(size);
    headerKeys.push(keys);
    total += sizeOfVarint(size) + size;
  }

  const writer = new RecordWriter(new Uint8Array(total));
  records.forEach((record, index) => {
    writer.writeVarint(bodySizes[index]!);
    writer.writeUint8(0);
    writer.writeVarlong(record.timestampDelta);
    writer.writeVarint(record.offsetDelta);
    writer.writeNullableBytes(record.key);
    writer.writeNullableBytes(record.value);
    writer.writeVarint(record.headers.length);
    record.headers.forEach((header, headerIndex) => {
      writer.writeNullableBytes(headerKeys[index]![headerIndex]!);
      writer.writeNullableBytes(header.value);
    });
  });
  return writer.bytes;
}

class RecordWriter {
  private position = 0;

  constructor(readonly bytes: Uint8Array) {}

  writeUint8(byte: number): void {
    this.bytes[this.position++] = byte;
  }

  writeNullableBytes(value: Uint8Array | null): void {
    if (value === null) {
      this.writeVarint(-1);
      return;
    }
    this.writeVarint(value.byteLength);
    this.bytes.set(value, this.position);
    this.position += value.byteLength;
  }

  writeVarint(value: number): void {
    let unsigned = ((value << 1) ^ (value >> 31)) >>> 0;
    while (unsigned > 0x7f) {
      this.writeUint8((unsigned & 0x7f) | 0x80);
      unsigned >>>= 7;
    }
    this.writeUint8(unsigned);
  }

  writeVarlong(value: number): void {
    if (Math.abs(value) < 2 ** 52) {
      // The zigzag value stays below 2^53, so number arithmetic is exact.
      let unsigned = value >= 0 ? value * 2 : -value * 2 - 1;
      while (unsigned > 0x7f) {
        this.writeUint8((unsigned % 128) | 0x80);
        unsigned = Math.floor(unsigned / 128);
      }
      this.writeUint8(unsigned);
      return;
    }
    let unsigned = zigzag64(value);
    while (unsigned > 0x7fn) {
      this.writeUint8(Number(unsigned & 0x7fn) | 0x80);
      unsigned >>= 7n;
    }
    this.writeUint8(Number(unsigned));
  }
}

function zigzag64(value: number): bigint {
  const big = BigInt(value);
  return (big << 1n) ^ (big >> 63n);
}

function sizeOfVarint(value: number): number {
  let unsigned = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (unsigned > 0x7f) {
    size++;
    unsigned >>>= 7;
  }
  return size;
}

function sizeOfVarlong(value: number): number {
  // As in writeVarlong: number arithmetic is exact while the zigzag value stays below 2^53.
  if (Math.abs(value) < 2 ** 52) {
    let unsigned = value >= 0 ? value * 2 : -value * 2 - 1;
    let size = 1;
    while (unsigned > 0x7f) {
      size++;
      unsigned = Math.floor(unsigned / 128);
    }
    return size;
  }
  let unsigned = zigzag64(value);
  let size = 1;
  while (unsigned > 0x7fn) {
    size++;
    unsigned >>= 7n;
  }
  return size;
}

function sizeOfNullableBytes(value: Uint8Array | null): number {
  return value === null ? 1 : sizeOfVarint(value.byteLength) + value.byteLength;
}

function checkSafeInteger(field: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${field} must be a safe integer, got ${value}`);
}

function checkIntRange(field: string, value: number, bits: 16 | 32): void {
  const limit = 2 ** (bits - 1);
  if (!Number.isInteger(value) || value < -limit || value >= limit) {
    throw new RangeError(`${field} must be an int${bits}, got ${value}`);
  }
}
