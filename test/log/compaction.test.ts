import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildOffsetMap, cleanSegment, compactSegments, offsetMapKey, type CleanSegmentOptions } from '../../src/log/compaction.js';
import { CONTROL_FLAG, parseBatches, TRANSACTIONAL_FLAG } from '../../src/log/record-batch.js';
import { COMPRESSION_GZIP, COMPRESSION_LZ4, COMPRESSION_NONE, COMPRESSION_SNAPPY, COMPRESSION_ZSTD, decodeBatchRecords, encodeBatch, type BatchRecord } from '../../src/log/records.js';
import { KafkaError } from '../../src/protocol/kafka-error.js';
import { CpuPool } from '../../src/runtime/cpu-pool.js';
import { kafkaPythonCodec } from '../runtime/kafka-python-codec.js';

const require = createRequire(import.meta.url);
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => object;
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: object) => Promise<{
  records: { offset: string; key: Buffer | null; value: Buffer | null }[];
}>;

/** [key, value]: null key or null value (a tombstone) as in Kafka. */
type Entry = readonly [key: string | null, value: string | null];

interface BatchOptions {
  readonly maxTimestamp?: number;
  readonly attributes?: number;
  /** offsetDelta of each entry; default 0, 1, 2, ... */
  readonly offsetDeltas?: readonly number[];
  readonly lastOffsetDelta?: number;
  /** timestampDelta of each entry; default 0, 1, 2, ... */
  readonly timestampDeltas?: readonly number[];
  /** Default 1000. */
  readonly baseTimestamp?: number;
}

const text = (value: string | null): Uint8Array | null => (value === null ? null : new Uint8Array(Buffer.from(value)));
const str = (value: Uint8Array | null): string | null => (value === null ? null : Buffer.from(value).toString());

function batch(baseOffset: number, entries: readonly Entry[], options: BatchOptions = {}): Uint8Array {
  const records: BatchRecord[] = entries.map(([key, value], index) => ({
    offsetDelta: options.offsetDeltas?.[index] ?? index,
    timestampDelta: options.timestampDeltas?.[index] ?? index,
    key: text(key),
    value: text(value),
    headers: [{ key: 'h', value: text(`${baseOffset + index}`) }],
  }));
  return encodeBatch({
    baseOffset,
    partitionLeaderEpoch: 3,
    attributes: options.attributes ?? COMPRESSION_NONE,
    lastOffsetDelta: options.lastOffsetDelta ?? Math.max(0, ...records.map((record) => record.offsetDelta)),
    baseTimestamp: options.baseTimestamp ?? 1000,
    maxTimestamp: options.maxTimestamp ?? (options.timestampDeltas ? (options.baseTimestamp ?? 1000) + Math.max(...options.timestampDeltas) : 1000 + entries.length),
    producerId: 77,
    producerEpoch: 1,
    baseSequence: 5,
    records,
  });
}

function segment(...batches: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(batches));
}

interface ReadBatch {
  baseOffset: number;
  lastOffsetDelta: number;
  attributes: number;
  records: [offset: number, key: string | null, value: string | null][];
}

/** A segment as plain data: each batch's offsets and its records' offsets, keys and values. */
function read(segmentBytes: Uint8Array): ReadBatch[] {
  return parseBatches(segmentBytes).map((header) => {
    const decoded = decodeBatchRecords(segmentBytes.subarray(header.position, header.position + header.sizeBytes));
    return {
      baseOffset: decoded.baseOffset,
      lastOffsetDelta: decoded.lastOffsetDelta,
      attributes: decoded.attributes,
      records: decoded.records.map((record) => [decoded.baseOffset + record.offsetDelta, str(record.key), str(record.value)]),
    };
  });
}

function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.from(actual).equals(Buffer.from(expected));
}

function expectKafkaError(run: () => unknown, errorName: KafkaError['errorName']): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(KafkaError);
  expect((thrown as KafkaError).errorName).toBe(errorName);
}

const KEEP_TOMBSTONES: CleanSegmentOptions = { nowMs: 10_000, deleteRetentionMs: 86_400_000, cleanTombstones: true };

describe('the worked example in compaction.ts', () => {
  const first = batch(0, [['k1', 'a'], ['k2', 'b']]);
  const middle = batch(2, [['k3', 'c'], ['k1', 'd'], ['k2', null]], { maxTimestamp: 5000 });
  const last = batch(5, [['k3', 'e'], [null, 'f']]);
  const before = segment(first, middle, last);

  it('maps each key to its latest offset', () => {
    expect(buildOffsetMap([before])).toEqual(
      new Map([
        [offsetMapKey(text('k1')!), 3],
        [offsetMapKey(text('k2')!), 4],
        [offsetMapKey(text('k3')!), 5],
      ]),
    );
  });

  it('keeps the latest record of each key, at its original offset, while the tombstone is retained', () => {
    const after = cleanSegment(before, buildOffsetMap([before]), KEEP_TOMBSTONES);
    expect(read(after)).toEqual([
      { baseOffset: 2, lastOffsetDelta: 2, attributes: 0, records: [[3, 'k1', 'd'], [4, 'k2', null]] },
      { baseOffset: 5, lastOffsetDelta: 1, attributes: 0, records: [[5, 'k3', 'e'], [6, null, 'f']] },
    ]);
    // The last batch lost nothing: copied byte for byte.
    expect(sameBytes(after.subarray(after.byteLength - last.byteLength), last)).toBe(true);
  });

  it('drops the tombstone once its batch is older than delete retention', () => {
    const options = { nowMs: 5000 + 60_000 + 1, deleteRetentionMs: 60_000, cleanTombstones: true };
    const after = cleanSegment(before, buildOffsetMap([before]), options);
    expect(read(after)).toEqual([
      { baseOffset: 2, lastOffsetDelta: 2, attributes: 0, records: [[3, 'k1', 'd']] },
      { baseOffset: 5, lastOffsetDelta: 1, attributes: 0, records: [[5, 'k3', 'e'], [6, null, 'f']] },
    ]);
  });
});

describe('cleanSegment', () => {
  it('keeps the rewritten batch header (offsets, producer fields, leader epoch); its timestamps become those of the records kept, as in Kafka', () => {
    const original = batch(100, [['a', '1'], ['b', '2'], ['a', '3'], ['c', '4']], { timestampDeltas: [50, 10, 30, 20] });
    const after = cleanSegment(original, buildOffsetMap([original]), KEEP_TOMBSTONES);
    const { records: beforeRecords, batchLength: _b, crc: _c, ...beforeHeader } = decodeBatchRecords(original);
    const { records: afterRecords, batchLength: _d, crc: _e, ...afterHeader } = decodeBatchRecords(after);
    expect(beforeHeader).toMatchObject({ baseTimestamp: 1000, maxTimestamp: 1050 });
    // The first kept record (b, at 1010) is the base; the largest kept (a, at 1030) the max.
    expect(afterHeader).toEqual({ ...beforeHeader, baseTimestamp: 1010, maxTimestamp: 1030 });
    expect(afterRecords).toEqual([1, 2, 3].map((i) => ({ ...beforeRecords[i]!, timestampDelta: beforeRecords[i]!.timestampDelta - 10 })));
    expect(parseBatches(after)[0]).toMatchObject({ baseOffset: 100, lastOffsetDelta: 3, recordsCount: 3 });
  });

  it('keeps tombstones until delete retention has passed, and never when cleanTombstones is off', () => {
    const tombstone = batch(0, [['gone', null]], { maxTimestamp: 1000 });
    const offsetMap = buildOffsetMap([tombstone]);
    const clean = (options: CleanSegmentOptions) => read(cleanSegment(tombstone, offsetMap, options)).flatMap((b) => b.records);
    expect(clean({ nowMs: 1500, deleteRetentionMs: 500, cleanTombstones: true })).toEqual([[0, 'gone', null]]);
    expect(clean({ nowMs: 1501, deleteRetentionMs: 500, cleanTombstones: true })).toEqual([]);
    expect(clean({ nowMs: 1e12, deleteRetentionMs: 0, cleanTombstones: false })).toEqual([[0, 'gone', null]]);
  });

  it('drops a superseded tombstone regardless of its age', () => {
    const log = segment(batch(0, [['k', null]], { maxTimestamp: 999_999 }), batch(1, [['k', 'back']]));
    const after = cleanSegment(log, buildOffsetMap([log]), { ...KEEP_TOMBSTONES, cleanTombstones: false });
    expect(read(after).flatMap((b) => b.records)).toEqual([[1, 'k', 'back']]);
  });

  it('keeps every record with a null key, tombstone or not', () => {
    const log = segment(batch(0, [[null, 'x'], [null, null], ['k', '1']]), batch(3, [[null, 'y'], ['k', '2']]));
    const after = cleanSegment(log, buildOffsetMap([log]), { nowMs: 1e12, deleteRetentionMs: 0, cleanTombstones: true });
    expect(read(after).flatMap((b) => b.records)).toEqual([
      [0, null, 'x'],
      [1, null, null],
      [3, null, 'y'],
      [4, 'k', '2'],
    ]);
  });

  it('copies a segment with nothing to remove byte for byte, into a new buffer', () => {
    const log = segment(batch(0, [['a', '1'], ['b', '2']]), batch(2, [['c', '3']], { attributes: COMPRESSION_GZIP }));
    const after = cleanSegment(log, buildOffsetMap([log]), KEEP_TOMBSTONES);
    expect(sameBytes(after, log)).toBe(true);
    expect(after.buffer).not.toBe(log.buffer);
  });

  it('keeps records the map has not seen and records past the mapped offset', () => {
    const log = batch(10, [['new', '1'], ['later', '2']]);
    const offsetMap = new Map([[offsetMapKey(text('later')!), 5]]);
    expect(sameBytes(cleanSegment(log, offsetMap, KEEP_TOMBSTONES), log)).toBe(true);
  });

  it('compacts a gzip batch into a gzip batch kafkajs can still read', async () => {
    const log = segment(
      batch(0, [['a', '1'], ['b', '2'], ['a', '3'], ['c', '4'], ['b', '5']], { attributes: COMPRESSION_GZIP }),
      batch(5, [['c', '6']], { attributes: COMPRESSION_GZIP }),
    );
    const after = cleanSegment(log, buildOffsetMap([log]), KEEP_TOMBSTONES);
    const batches = read(after);
    expect(batches.map((b) => b.attributes)).toEqual([COMPRESSION_GZIP, COMPRESSION_GZIP]);
    expect(batches[0]).toEqual({ baseOffset: 0, lastOffsetDelta: 4, attributes: COMPRESSION_GZIP, records: [[2, 'a', '3'], [4, 'b', '5']] });
    const firstBatchBytes = after.subarray(0, parseBatches(after)[0]!.sizeBytes);
    const fromKafkajs = await kafkajsDecodeBatch(new KafkajsDecoder(Buffer.from(firstBatchBytes)));
    expect(fromKafkajs.records.map((record) => [record.offset, str(record.key), str(record.value)])).toEqual([
      ['2', 'a', '3'],
      ['4', 'b', '5'],
    ]);
  });

  it.each([[COMPRESSION_SNAPPY, 'snappy'], [COMPRESSION_LZ4, 'lz4']] as const)('compacts a %i (%s) batch into one of the same codec, whose records kafka-python reads', (compression, name) => {
    const log = segment(
      batch(0, [['a', '1'], ['b', '2'], ['a', '3'], ['c', '4'], ['b', '5']], { attributes: compression }),
      batch(5, [['c', '6']], { attributes: compression }),
    );
    const after = cleanSegment(log, buildOffsetMap([log]), KEEP_TOMBSTONES);
    const batches = read(after);
    expect(batches[0]).toEqual({ baseOffset: 0, lastOffsetDelta: 4, attributes: compression, records: [[2, 'a', '3'], [4, 'b', '5']] });
    // The cleaned batch's records, inflated by kafka-python's codec: the two kept records' values are in them.
    const first = parseBatches(after)[0]!;
    const records = kafkaPythonCodec(`${name}_decode`, after.subarray(first.position + 61, first.position + first.sizeBytes)).toString('latin1');
    expect([records.includes('3'), records.includes('5'), records.includes('1')]).toEqual([true, true, false]);
  });

  it('gives a rewritten CreateTime batch the max timestamp of the records it keeps, as Kafka does', () => {
    const log = segment(
      batch(0, [['a', 'old a'], ['b', 'kept b']], { timestampDeltas: [4_000, 0] }),
      batch(2, [['a', 'new a']]),
    );
    const after = cleanSegment(log, buildOffsetMap([log]), KEEP_TOMBSTONES);
    const first = decodeBatchRecords(after.subarray(0, parseBatches(after)[0]!.sizeBytes));
    expect(first.records.map((record) => str(record.value))).toEqual(['kept b']);
    expect(first.maxTimestamp).toBe(first.baseTimestamp);
  });

  it('copies control batches untouched and does not treat their records as keys', () => {
    // A commit marker: key = version 0, type 1; value = version 0, coordinator epoch 0.
    const marker = encodeBatch({
      baseOffset: 2,
      partitionLeaderEpoch: 3,
      attributes: CONTROL_FLAG | TRANSACTIONAL_FLAG,
      lastOffsetDelta: 0,
      baseTimestamp: 1000,
      maxTimestamp: 1000,
      producerId: 77,
      producerEpoch: 1,
      baseSequence: -1,
      records: [{ offsetDelta: 0, timestampDelta: 0, key: Uint8Array.of(0, 0, 0, 1), value: Uint8Array.of(0, 0, 0, 0, 0, 0), headers: [] }],
    });
    const sameKeyAsMarker = String.fromCharCode(0, 0, 0, 1);
    const transactional = batch(0, [['k', 'old'], [sameKeyAsMarker, 'data']], { attributes: TRANSACTIONAL_FLAG });
    const log = segment(transactional, marker, batch(3, [['k', 'new']]));
    const offsetMap = buildOffsetMap([log]);
    expect(offsetMap.get(sameKeyAsMarker)).toBe(1);
    const after = cleanSegment(log, offsetMap, KEEP_TOMBSTONES);
    const batches = read(after);
    expect(batches.map((b) => [b.baseOffset, b.attributes, b.records])).toEqual([
      [0, TRANSACTIONAL_FLAG, [[1, sameKeyAsMarker, 'data']]],
      [2, CONTROL_FLAG | TRANSACTIONAL_FLAG, [[2, sameKeyAsMarker, '\0\0\0\0\0\0']]],
      [3, 0, [[3, 'k', 'new']]],
    ]);
    const markerAt = parseBatches(after)[1]!;
    expect(sameBytes(after.subarray(markerAt.position, markerAt.position + markerAt.sizeBytes), marker)).toBe(true);
  });

  it('refuses corrupt segments and codecs it cannot read', () => {
    const good = batch(0, [['a', '1']]);
    const flipped = good.slice();
    flipped[flipped.byteLength - 1]! ^= 1;
    expectKafkaError(() => cleanSegment(flipped, new Map(), KEEP_TOMBSTONES), 'CORRUPT_MESSAGE');
    expectKafkaError(() => buildOffsetMap([good, good.subarray(0, 40)]), 'CORRUPT_MESSAGE');
    // Records flagged snappy that are not: the codec, not the checksum (made right), fails.
    const snappy = batch(0, [['a', '1']]);
    const view = new DataView(snappy.buffer);
    view.setInt16(21, COMPRESSION_SNAPPY);
    const { crc32c } = require('@node-rs/crc32') as { crc32c: (bytes: Buffer) => number };
    view.setUint32(17, crc32c(Buffer.from(snappy.subarray(21))) >>> 0);
    expectKafkaError(() => buildOffsetMap([snappy]), 'CORRUPT_MESSAGE');
    // The same for zstd, on every Node.
    view.setInt16(21, COMPRESSION_ZSTD);
    view.setUint32(17, crc32c(Buffer.from(snappy.subarray(21))) >>> 0);
    expectKafkaError(() => buildOffsetMap([snappy]), 'CORRUPT_MESSAGE');
  });
});

describe('compactSegments over several segments', () => {
  it('a later segment supersedes keys in an earlier one; emptied batches go', () => {
    const older = segment(batch(0, [['a', '1'], ['b', '2']]), batch(2, [['c', '3']]));
    const newer = segment(batch(3, [['a', '4'], ['b', '5']]));
    const [olderAfter, newerAfter] = compactSegments([older, newer], KEEP_TOMBSTONES);
    expect(read(olderAfter!)).toEqual([{ baseOffset: 2, lastOffsetDelta: 0, attributes: 0, records: [[2, 'c', '3']] }]);
    expect(sameBytes(newerAfter!, newer)).toBe(true);
  });

  it('agrees with a model of compaction, is idempotent and never moves an offset', () => {
    const entry = fc.tuple(fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { nil: null }), fc.option(fc.string({ maxLength: 6 }), { nil: null }));
    const batchSpec = fc.record({
      entries: fc.array(entry, { minLength: 1, maxLength: 6 }),
      gzip: fc.boolean(),
      maxTimestamp: fc.integer({ min: 0, max: 2000 }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(batchSpec, { maxLength: 4 }), { minLength: 1, maxLength: 3 }),
        fc.record({ nowMs: fc.integer({ min: 0, max: 3000 }), deleteRetentionMs: fc.integer({ min: 0, max: 1000 }), cleanTombstones: fc.boolean() }),
        (segmentSpecs, options) => {
          let nextOffset = 0;
          const model: { offset: number; key: string | null; value: string | null; maxTimestamp: number }[] = [];
          const segments = segmentSpecs.map((specs) =>
            segment(
              ...specs.map(({ entries, gzip, maxTimestamp }) => {
                const baseOffset = nextOffset;
                entries.forEach(([key, value], index) => model.push({ offset: baseOffset + index, key, value, maxTimestamp }));
                nextOffset += entries.length;
                // Every record at the batch's timestamp (as a producer's batch of one linger often is): a
                // rewrite keeps that max timestamp, which the tombstone rule below reads.
                return batch(baseOffset, entries, { attributes: gzip ? COMPRESSION_GZIP : COMPRESSION_NONE, baseTimestamp: maxTimestamp, timestampDeltas: entries.map(() => 0) });
              }),
            ),
          );
          const latest = new Map<string, number>();
          for (const { key, offset } of model) if (key !== null) latest.set(key, offset);
          const horizonMs = options.nowMs - options.deleteRetentionMs;
          const expected = model
            .filter(({ key, value, offset, maxTimestamp }) => {
              if (key === null) return true;
              if (latest.get(key) !== offset) return false;
              return !(value === null && options.cleanTombstones && maxTimestamp < horizonMs);
            })
            .map(({ offset, key, value }) => [offset, key, value]);

          const cleaned = compactSegments(segments, options);
          expect(cleaned.flatMap((bytes) => read(bytes).flatMap((b) => b.records))).toEqual(expected);

          // Every surviving batch keeps the offsets of a batch that was there before.
          const ranges = new Set(segments.flatMap((bytes) => read(bytes).map((b) => `${b.baseOffset}+${b.lastOffsetDelta}`)));
          for (const bytes of cleaned) for (const b of read(bytes)) expect(ranges).toContain(`${b.baseOffset}+${b.lastOffsetDelta}`);

          const again = compactSegments(cleaned, options);
          again.forEach((bytes, index) => expect(sameBytes(bytes, cleaned[index]!)).toBe(true));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('CpuPool.compact', () => {
  const pooled = new CpuPool({ threadsMax: 1, inlineInputBytesMax: 0 });
  const inline = new CpuPool({ threadsMax: 1 });
  afterAll(() => Promise.all([pooled.close(), inline.close()]));

  const log = [
    segment(batch(0, [['a', '1'], ['b', '2'], ['a', null]], { attributes: COMPRESSION_GZIP }), batch(3, [['c', '3']])),
    segment(batch(4, [['b', '4'], [null, '5'], ['c', null]], { maxTimestamp: 1 })),
  ];
  const options: CleanSegmentOptions = { nowMs: 100_000, deleteRetentionMs: 1000, cleanTombstones: true };
  const expected = compactSegments(log, options);

  it('gives the same bytes on a pool thread as the pure function', async () => {
    const before = pooled.counters;
    const inputs = log.map((bytes) => bytes.slice());
    const cleaned = await pooled.compact(inputs, options);
    expect(pooled.counters.pooledTasks).toBe(before.pooledTasks + 1);
    expect(pooled.counters).toMatchObject({ pooledTasksInFlight: 0, pendingInputBytes: 0 });
    // The pool took the inputs' buffers instead of copying them.
    expect(inputs.map((bytes) => bytes.byteLength)).toEqual([0, 0]);
    expect(cleaned).toHaveLength(2);
    cleaned.forEach((bytes, index) => expect(sameBytes(bytes, expected[index]!)).toBe(true));
    expect(read(cleaned[1]!).flatMap((b) => b.records)).toEqual([
      [4, 'b', '4'],
      [5, null, '5'],
    ]);
  });

  it('runs small jobs inline with the same result', async () => {
    const before = inline.counters;
    const cleaned = await inline.compact(log, options);
    expect(inline.counters.inlineTasks).toBe(before.inlineTasks + 1);
    cleaned.forEach((bytes, index) => expect(sameBytes(bytes, expected[index]!)).toBe(true));
  });

  it('brings a KafkaError back from the pool thread', async () => {
    const corrupt = log[0]!.slice();
    corrupt[corrupt.byteLength - 1]! ^= 1;
    const error = await pooled.compact([corrupt], options).then(
      () => expect.fail('expected CORRUPT_MESSAGE'),
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(KafkaError);
    expect(error).toMatchObject({ errorName: 'CORRUPT_MESSAGE', code: 2 });
    expect((error as KafkaError).message).toMatch(/^CORRUPT_MESSAGE: record batch at byte \d+ fails its CRC-32C$/);
    expect(pooled.counters).toMatchObject({ pooledTasksInFlight: 0, pendingInputBytes: 0 });
  });
});
