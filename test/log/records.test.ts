import { createRequire } from 'node:module';
import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBatches, RECORDS_COUNT_AT, BATCH_HEADER_BYTES } from '../../src/log/record-batch.js';
import {
  COMPRESSION_GZIP,
  COMPRESSION_LZ4,
  COMPRESSION_NONE,
  COMPRESSION_SNAPPY,
  COMPRESSION_ZSTD,
  decodeBatchRecords,
  encodeBatch,
  isCompressionAvailable,
  type BatchFields,
  type BatchRecord,
  type DecodedBatch,
} from '../../src/log/records.js';
import { KafkaError } from '../../src/protocol/kafka-error.js';

// kafkajs's own record batch codec, as an independent implementation to check against.
const require = createRequire(import.meta.url);
interface KafkajsEncoder {
  buffer: Buffer;
}
interface KafkajsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
}
interface KafkajsBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  inTransaction: boolean;
  records: KafkajsRecord[];
}
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: object) => Promise<KafkajsEncoder>;
};
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: object) => KafkajsEncoder;
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => object;
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  decoder: object,
) => Promise<KafkajsBatch>;

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text));
const asBuffer = (view: Uint8Array | null): Buffer | null =>
  view === null ? null : Buffer.from(view.buffer, view.byteOffset, view.byteLength);

function expectKafkaError(run: () => unknown, errorName: KafkaError['errorName']): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a KafkaError').toBeInstanceOf(KafkaError);
  expect((thrown as KafkaError).errorName).toBe(errorName);
}

/** The headers as kafkajs reports them: an object, repeated keys collected into arrays. */
function kafkajsHeaders(headers: BatchRecord['headers']): KafkajsRecord['headers'] {
  const result: KafkajsRecord['headers'] = {};
  for (const { key, value } of headers) {
    const existing = result[key];
    const buffer = asBuffer(value);
    if (existing === undefined) result[key] = buffer;
    else result[key] = Array.isArray(existing) ? [...existing, buffer] : [existing, buffer];
  }
  return result;
}

async function decodeWithKafkajs(batch: Uint8Array): Promise<KafkajsBatch> {
  return kafkajsDecodeBatch(new KafkajsDecoder(Buffer.from(batch)));
}

/** Checks kafkajs reads `batch` as exactly `fields`, record for record. */
async function expectKafkajsReads(batch: Uint8Array, fields: BatchFields): Promise<void> {
  const decoded = await decodeWithKafkajs(batch);
  expect(decoded.firstOffset).toBe(String(fields.baseOffset));
  expect(decoded.firstTimestamp).toBe(String(fields.baseTimestamp));
  expect(decoded.maxTimestamp).toBe(String(fields.maxTimestamp));
  expect(decoded.partitionLeaderEpoch).toBe(fields.partitionLeaderEpoch);
  expect(decoded.lastOffsetDelta).toBe(fields.lastOffsetDelta);
  expect(decoded.producerId).toBe(String(fields.producerId));
  expect(decoded.producerEpoch).toBe(fields.producerEpoch);
  expect(decoded.firstSequence).toBe(fields.baseSequence);
  expect(decoded.records.map(({ offset, timestamp, key, value, headers }) => ({ offset, timestamp, key, value, headers }))).toEqual(
    fields.records.map((record) => ({
      offset: String(BigInt(fields.baseOffset) + BigInt(record.offsetDelta)),
      // With LogAppendTime (attributes bit 3) every record's timestamp is the batch's maxTimestamp.
      timestamp:
        fields.attributes & 0x08
          ? String(fields.maxTimestamp)
          : String(BigInt(fields.baseTimestamp) + BigInt(record.timestampDelta)),
      key: asBuffer(record.key),
      value: asBuffer(record.value),
      headers: kafkajsHeaders(record.headers),
    })),
  );
}

/** Records compared as plain data (views and copies of equal bytes compare equal). */
function plainRecords(records: readonly BatchRecord[]): unknown[] {
  return records.map((record) => ({
    offsetDelta: record.offsetDelta,
    timestampDelta: record.timestampDelta,
    key: record.key && [...record.key],
    value: record.value && [...record.value],
    headers: record.headers.map((header) => ({ key: header.key, value: header.value && [...header.value] })),
  }));
}

function fieldsOf(batch: DecodedBatch): BatchFields {
  const { batchLength: _length, magic: _magic, crc: _crc, ...fields } = batch;
  return fields;
}

const SAMPLE_RECORDS: BatchRecord[] = [
  { offsetDelta: 0, timestampDelta: 0, key: bytes('user-1'), value: bytes('{"name":"Ada"}'), headers: [{ key: 'trace', value: bytes('abc') }] },
  { offsetDelta: 1, timestampDelta: 5, key: null, value: bytes('keyless'), headers: [] },
  { offsetDelta: 2, timestampDelta: -3, key: bytes('user-2'), value: null, headers: [] },
  { offsetDelta: 3, timestampDelta: 2 ** 40, key: new Uint8Array(0), value: new Uint8Array(0), headers: [] },
  {
    offsetDelta: 4,
    timestampDelta: 7,
    key: bytes('user-1'),
    value: bytes('x'.repeat(300)),
    headers: [
      { key: 'dup', value: bytes('1') },
      { key: 'dup', value: bytes('2') },
      { key: 'ключ✓', value: new Uint8Array(0) },
      { key: 'nothing', value: null },
    ],
  },
];

function sampleFields(attributes: number, records: readonly BatchRecord[] = SAMPLE_RECORDS): BatchFields {
  return {
    baseOffset: 1234,
    partitionLeaderEpoch: 7,
    attributes,
    lastOffsetDelta: records.length === 0 ? 0 : records[records.length - 1]!.offsetDelta,
    baseTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_000 + 2 ** 40,
    producerId: 4321,
    producerEpoch: 3,
    baseSequence: 17,
    records,
  };
}

/** kafkajs cannot write a null header value (it measures it with Buffer.byteLength). */
const KAFKAJS_RECORDS = SAMPLE_RECORDS.map((record) => ({
  ...record,
  headers: record.headers.filter((header) => header.value !== null),
}));

async function kafkajsBatch(compression: number, transactional = false): Promise<Uint8Array> {
  const fields = sampleFields(compression);
  const encoder = await kafkajsRecordBatch({
    compression,
    firstOffset: fields.baseOffset,
    firstTimestamp: fields.baseTimestamp,
    maxTimestamp: fields.maxTimestamp,
    partitionLeaderEpoch: fields.partitionLeaderEpoch,
    lastOffsetDelta: fields.lastOffsetDelta,
    transactional,
    producerId: fields.producerId,
    producerEpoch: fields.producerEpoch,
    firstSequence: fields.baseSequence,
    records: KAFKAJS_RECORDS.map((record) =>
      kafkajsRecord({
        offsetDelta: record.offsetDelta,
        timestampDelta: record.timestampDelta,
        key: asBuffer(record.key),
        value: asBuffer(record.value),
        headers: kafkajsHeaders(record.headers),
      }),
    ),
  });
  return new Uint8Array(encoder.buffer);
}

/**
 * `batch` with its records section replaced and batchLength, recordsCount and CRC made right
 * again, so a decoder gets past the header to the record parser.
 */
function withRecordsSection(batch: Uint8Array, records: Uint8Array, recordsCount: number): Uint8Array {
  const rebuilt = new Uint8Array(BATCH_HEADER_BYTES + records.byteLength);
  rebuilt.set(batch.subarray(0, BATCH_HEADER_BYTES));
  rebuilt.set(records, BATCH_HEADER_BYTES);
  return fixFraming(rebuilt, recordsCount);
}

function fixFraming(batch: Uint8Array, recordsCount?: number): Uint8Array {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  view.setInt32(8, batch.byteLength - 12);
  if (recordsCount !== undefined) view.setInt32(RECORDS_COUNT_AT, recordsCount);
  view.setUint32(17, crc32c(Buffer.from(batch.subarray(21))) >>> 0);
  return batch;
}

describe('decodeBatchRecords reads batches kafkajs wrote', () => {
  it.each([
    { name: 'uncompressed', compression: COMPRESSION_NONE },
    { name: 'gzip', compression: COMPRESSION_GZIP },
  ])('$name', async ({ compression }) => {
    const batch = await kafkajsBatch(compression);
    expect(parseBatches(batch)).toHaveLength(1);
    const decoded = decodeBatchRecords(batch);
    expect(fieldsOf(decoded)).toMatchObject({ ...sampleFields(compression), records: expect.anything() });
    expect(decoded.magic).toBe(2);
    expect(decoded.batchLength).toBe(batch.byteLength - 12);
    expect(plainRecords(decoded.records)).toEqual(plainRecords(KAFKAJS_RECORDS));
  });

  it('keeps the transactional flag in attributes', async () => {
    const decoded = decodeBatchRecords(await kafkajsBatch(COMPRESSION_GZIP, true));
    expect(decoded.attributes).toBe(0x10 | COMPRESSION_GZIP);
  });

  it('re-encodes an uncompressed kafkajs batch to the very same bytes', async () => {
    const batch = await kafkajsBatch(COMPRESSION_NONE);
    expect(Buffer.from(encodeBatch(fieldsOf(decodeBatchRecords(batch))))).toEqual(Buffer.from(batch));
  });
});

describe('encodeBatch writes batches kafkajs reads', () => {
  it.each([
    { name: 'uncompressed', compression: COMPRESSION_NONE },
    { name: 'gzip', compression: COMPRESSION_GZIP },
  ])('$name, record for record, with a CRC parseBatches accepts', async ({ compression }) => {
    const fields = sampleFields(compression);
    const batch = encodeBatch(fields);
    const [header] = parseBatches(batch);
    expect(header).toMatchObject({ baseOffset: 1234, recordsCount: SAMPLE_RECORDS.length, sizeBytes: batch.byteLength });
    expect(header!.attributes & 0x07).toBe(compression);
    await expectKafkajsReads(batch, fields);
  });

  it('writes an empty batch', async () => {
    for (const compression of [COMPRESSION_NONE, COMPRESSION_GZIP]) {
      const fields = sampleFields(compression, []);
      const batch = encodeBatch(fields);
      expect(parseBatches(batch)).toHaveLength(1);
      expect(decodeBatchRecords(batch).records).toEqual([]);
      await expectKafkajsReads(batch, fields);
    }
  });

  it('round-trips varint and varlong extremes, agreeing with kafkajs', async () => {
    const deltas = [0, -1, 1, 63, -64, 64, 2 ** 31 - 1, -(2 ** 31)];
    const timestampDeltas = [0, -1, 2 ** 52 - 1, -(2 ** 52), 2 ** 52, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    const records: BatchRecord[] = deltas.flatMap((offsetDelta) =>
      timestampDeltas.map((timestampDelta) => ({ offsetDelta, timestampDelta, key: null, value: null, headers: [] })),
    );
    const fields = { ...sampleFields(COMPRESSION_NONE, records), baseTimestamp: 0, baseOffset: 0, lastOffsetDelta: 2 ** 31 - 1 };
    const batch = encodeBatch(fields);
    expect(plainRecords(decodeBatchRecords(batch).records)).toEqual(plainRecords(records));
    await expectKafkajsReads(batch, fields);
  });

  it('refuses fields outside their wire range', () => {
    expect(() => encodeBatch({ ...sampleFields(0), producerEpoch: 2 ** 15 })).toThrow(RangeError);
    expect(() => encodeBatch({ ...sampleFields(0), baseOffset: 2 ** 53 })).toThrow(RangeError);
    const record = { offsetDelta: 2 ** 31, timestampDelta: 0, key: null, value: null, headers: [] };
    expect(() => encodeBatch(sampleFields(0, [record]))).toThrow(RangeError);
  });
});

describe('compression types', () => {
  it.each([COMPRESSION_SNAPPY, COMPRESSION_LZ4])('type %i (snappy, lz4) round-trips; records that are not compressed so are CORRUPT_MESSAGE', (compression) => {
    expect(isCompressionAvailable(compression)).toBe(true);
    const encoded = encodeBatch(sampleFields(compression));
    expect(new DataView(encoded.buffer, encoded.byteOffset).getInt16(21) & 7).toBe(compression);
    expect(plainRecords(decodeBatchRecords(encoded).records)).toEqual(plainRecords(SAMPLE_RECORDS));
    const plain = fixFraming(encodeBatch(sampleFields(COMPRESSION_NONE)));
    new DataView(plain.buffer).setInt16(21, compression);
    expectKafkaError(() => decodeBatchRecords(fixFraming(plain)), 'CORRUPT_MESSAGE');
  });

  it.each([5, 6, 7])('type %i does not exist: CORRUPT_MESSAGE', (compression) => {
    const batch = encodeBatch(sampleFields(COMPRESSION_NONE));
    new DataView(batch.buffer).setInt16(21, compression);
    expectKafkaError(() => decodeBatchRecords(fixFraming(batch)), 'CORRUPT_MESSAGE');
  });

  // zlib's zstd on Node 22.15+, the napi package before (src/runtime/zstd-codec.ts).
  it(`zstd round-trips on every Node (here ${process.version})`, () => {
    expect(isCompressionAvailable(COMPRESSION_ZSTD)).toBe(true);
    const batch = encodeBatch(sampleFields(COMPRESSION_ZSTD));
    expect(plainRecords(decodeBatchRecords(batch).records)).toEqual(plainRecords(SAMPLE_RECORDS));
  });
});

const recordArbitrary = fc.record({
  timestampDelta: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.maxSafeInteger(), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: 0 })),
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: null }),
  headers: fc.array(
    fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 8 }), value: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }) }),
    { maxLength: 4 },
  ),
});

const compressions = [COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_ZSTD];

const batchArbitrary = fc
  .record({
    baseOffset: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 2 ** 32 }),
    partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    compression: fc.constantFrom(...compressions),
    flags: fc.constantFrom(0, 0x08, 0x10, 0x18),
    baseTimestamp: fc.integer({ min: -1, max: 2 ** 45 }),
    maxTimestamp: fc.integer({ min: -1, max: 2 ** 45 }),
    producerId: fc.integer({ min: -1, max: 2 ** 40 }),
    producerEpoch: fc.integer({ min: -1, max: 2 ** 15 - 1 }),
    baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    gaps: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 12 }),
    records: fc.array(recordArbitrary, { maxLength: 12 }),
  })
  .map(({ compression, flags, gaps, records, ...header }): BatchFields => {
    let offsetDelta = -1;
    const withOffsets = records.map((record, index) => {
      offsetDelta += 1 + (gaps[index] ?? 0);
      return { ...record, offsetDelta };
    });
    return { ...header, attributes: compression | flags, lastOffsetDelta: Math.max(0, offsetDelta), records: withOffsets };
  });

describe('properties', () => {
  it('encode then decode gives back every field and record', () => {
    fc.assert(
      fc.property(batchArbitrary, (fields) => {
        const batch = encodeBatch(fields);
        expect(parseBatches(batch)).toHaveLength(1);
        const decoded = decodeBatchRecords(batch);
        expect({ ...fieldsOf(decoded), records: plainRecords(decoded.records) }).toEqual({
          ...fields,
          records: plainRecords(fields.records),
        });
        // Decoding and encoding again is stable, byte for byte.
        expect(Buffer.from(encodeBatch(fieldsOf(decoded)))).toEqual(Buffer.from(batch));
      }),
      { numRuns: 300 },
    );
  });

  it('kafkajs reads whatever encodeBatch writes', async () => {
    await fc.assert(
      fc.asyncProperty(
        batchArbitrary.filter((fields) => (fields.attributes & 0x07) !== COMPRESSION_ZSTD),
        async (fields) => expectKafkajsReads(encodeBatch(fields), fields),
      ),
      { numRuns: 100 },
    );
  });
});

describe('corrupt input gives CORRUPT_MESSAGE, never a crash', () => {
  it('every truncation of a batch', async () => {
    for (const batch of [encodeBatch(sampleFields(COMPRESSION_NONE)), await kafkajsBatch(COMPRESSION_GZIP)]) {
      for (let length = 0; length < batch.byteLength; length++) {
        expectKafkaError(() => decodeBatchRecords(batch.subarray(0, length)), 'CORRUPT_MESSAGE');
      }
    }
  });

  it('every truncation of the records, inside a batch with a valid CRC', () => {
    const batch = encodeBatch(sampleFields(COMPRESSION_NONE));
    const records = batch.subarray(BATCH_HEADER_BYTES);
    for (let length = 0; length < records.byteLength; length++) {
      const truncated = withRecordsSection(batch, records.subarray(0, length), SAMPLE_RECORDS.length);
      expectKafkaError(() => decodeBatchRecords(truncated), 'CORRUPT_MESSAGE');
    }
  });

  it('trailing bytes after the records, and after the batch', () => {
    const batch = encodeBatch(sampleFields(COMPRESSION_NONE));
    const records = batch.subarray(BATCH_HEADER_BYTES);
    const padded = withRecordsSection(batch, Uint8Array.from([...records, 0]), SAMPLE_RECORDS.length);
    expectKafkaError(() => decodeBatchRecords(padded), 'CORRUPT_MESSAGE');
    expectKafkaError(() => decodeBatchRecords(Uint8Array.from([...batch, 0])), 'CORRUPT_MESSAGE');
  });

  it('a flipped byte fails the CRC', () => {
    const batch = encodeBatch(sampleFields(COMPRESSION_NONE));
    batch[batch.byteLength - 3]! ^= 0x40;
    expectKafkaError(() => decodeBatchRecords(batch), 'CORRUPT_MESSAGE');
  });

  it('random corruption past the CRC: decodes or throws a KafkaError', () => {
    const originals = [encodeBatch(sampleFields(COMPRESSION_NONE)), encodeBatch(sampleFields(COMPRESSION_GZIP))];
    fc.assert(
      fc.property(
        fc.constantFrom(...originals),
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        (original, changes) => {
          const batch = original.slice();
          for (const { at, byte } of changes) batch[BATCH_HEADER_BYTES - 4 + (at % (batch.byteLength - BATCH_HEADER_BYTES + 4))] = byte;
          try {
            decodeBatchRecords(batch, { verifyCrc: false });
          } catch (error) {
            expect(error).toBeInstanceOf(KafkaError);
            expect(['CORRUPT_MESSAGE', 'UNSUPPORTED_COMPRESSION_TYPE']).toContain((error as KafkaError).errorName);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a recordsCount the bytes cannot hold, before allocating for it', () => {
    const batch = encodeBatch(sampleFields(COMPRESSION_NONE));
    const records = batch.subarray(BATCH_HEADER_BYTES);
    expectKafkaError(() => decodeBatchRecords(withRecordsSection(batch, records, 2 ** 31 - 1)), 'CORRUPT_MESSAGE');
  });

  it('lengths and counts beyond their record', () => {
    const base = encodeBatch(sampleFields(COMPRESSION_NONE, []));
    const cases: Array<[string, number[]]> = [
      ['negative record length', [0x01, 0, 0, 0, 1, 1, 0]],
      ['record length past the end', [0x7e, 0, 0, 0, 1, 1, 0]],
      ['key length past the record', [0x0c, 0, 0, 0, 0x7e, 1, 0]],
      ['key length -2', [0x0c, 0, 0, 0, 0x03, 1, 0]],
      ['headersCount past the record', [0x0c, 0, 0, 0, 1, 1, 0x7e]],
      ['null header key', [0x10, 0, 0, 0, 1, 1, 0x02, 1, 1]],
      ['six-group varint', [0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0, 1, 1, 0]],
      ['varint over 32 bits', [0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0, 1, 1, 0]],
      ['varlong over 64 bits', [0x1e, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 1, 1, 0]],
      ['timestampDelta beyond a safe integer', [0x1e, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 1, 1, 0]],
      ['record shorter than its fields', [0x0a, 0, 0, 0, 1, 1, 0, 0]],
      ['record longer than its fields', [0x0e, 0, 0, 0, 1, 1, 0, 0]],
    ];
    for (const [name, recordBytes] of cases) {
      const batch = withRecordsSection(base, Uint8Array.from(recordBytes), 1);
      expect(() => decodeBatchRecords(batch), name).toThrow(KafkaError);
      expectKafkaError(() => decodeBatchRecords(batch), 'CORRUPT_MESSAGE');
    }
    // The smallest valid record, for contrast: length 6, all fields zero or null.
    const minimal = withRecordsSection(base, Uint8Array.from([0x0c, 0, 0, 0, 1, 1, 0]), 1);
    expect(decodeBatchRecords(minimal).records).toEqual([{ offsetDelta: 0, timestampDelta: 0, key: null, value: null, headers: [] }]);
  });

  it('int64 header fields beyond a safe integer', () => {
    const batch = encodeBatch(sampleFields(COMPRESSION_NONE));
    new DataView(batch.buffer).setBigInt64(43, 2n ** 60n); // producerId
    expectKafkaError(() => decodeBatchRecords(fixFraming(batch)), 'CORRUPT_MESSAGE');
  });

  it('corrupt gzip', () => {
    const batch = encodeBatch(sampleFields(COMPRESSION_GZIP));
    batch[BATCH_HEADER_BYTES + 12]! ^= 0xff;
    batch[BATCH_HEADER_BYTES + 13]! ^= 0xff;
    expectKafkaError(() => decodeBatchRecords(fixFraming(batch)), 'CORRUPT_MESSAGE');
  });

  it('a decompression bomb stops at the bound', () => {
    const big: BatchRecord = { offsetDelta: 0, timestampDelta: 0, key: null, value: new Uint8Array(1024 * 1024), headers: [] };
    const batch = encodeBatch(sampleFields(COMPRESSION_GZIP, [big]));
    expect(batch.byteLength).toBeLessThan(4096);
    expectKafkaError(() => decodeBatchRecords(batch, { decompressedBytesMax: 64 * 1024 }), 'CORRUPT_MESSAGE');
    expect(decodeBatchRecords(batch).records[0]!.value!.byteLength).toBe(1024 * 1024);
  });
});
