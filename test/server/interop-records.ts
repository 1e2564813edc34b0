/**
 * Shared pieces of the real-client interop tests: a record set with every shape a client can
 * send (keys, null keys, empty keys, null values, empty values, binary bytes, headers, sizes from
 * 0 bytes to just under max.message.bytes), the Java producer's murmur2 partitioner, a reader of
 * the record batches a broker stores (raw Fetch, parsed here independently of Samsa's code), and
 * the comparison of what a client consumed with what it produced.
 */
import { createRequire } from 'node:module';
import { crc32c } from '@node-rs/crc32';
import { expect } from 'vitest';
import { RawKafkaClient } from './raw-kafka-client.js';
import { fetch, listOffsets, metadata } from './requests.js';

export interface InteropRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer][];
}

/**
 * Records sent together with the same headers. kcat takes headers per invocation and can send
 * either empty keys and values (plain) or null ones (-Z turns empty into null), never both at
 * once: a group is one kcat invocation, and `nulls` says which kind it holds.
 */
export interface RecordGroup {
  nulls: boolean;
  headers: [string, string][];
  records: InteropRecord[];
}

/** Kafka's default max.message.bytes (and message.max.bytes): 1 MiB plus the 12-byte log overhead. */
export const MAX_MESSAGE_BYTES = 1_048_588;
/** The largest record value: its batch (61-byte header, ~20 bytes of record framing) stays under the limit uncompressed. */
export const LARGEST_VALUE_BYTES = 1_048_000;

/** kcat's -K and -D delimiters (multi-byte; no record of the set contains them). */
export const KCAT_KEY_DELIMITER = Buffer.from([0x01, 0xfe, 0x1b, 0x7f]);
export const KCAT_MESSAGE_DELIMITER = Buffer.from([0x02, 0xfd, 0x1c, 0x7e]);
export const kcatDelimiterArgument = (delimiter: Buffer) => [...delimiter].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');

// ---------------------------------------------------------------------------------------------
// murmur2, as org.apache.kafka.common.utils.Utils.murmur2 computes it (ints wrap at 32 bits).

export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Java's (and kafkajs's, and librdkafka's murmur2_random) partitioner picks for a key. */
export const murmur2Partition = (key: Uint8Array, partitionCount: number) => (murmur2(key) & 0x7fffffff) % partitionCount;

/** kafkajs's own murmur2 (its Java-compatible default partitioner), to check ours against. */
export const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

// ---------------------------------------------------------------------------------------------
// The record set.

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const text = (words: string, bytes: number) => Buffer.from(words.repeat(Math.ceil(bytes / words.length) + 1).slice(0, bytes));

/** Bytes of every value 0..255 in a random order, with runs, so that they still compress (~2:1). */
function binary(next: () => number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes;) {
    const byte = Math.floor(next() * 256);
    const run = 1 + Math.floor(next() * 3);
    for (let j = 0; j < run && i < bytes; j++) out[i++] = byte;
  }
  return out;
}

/**
 * A value of exactly `bytes` bytes: words of a random 500-word vocabulary in random order.
 * Compresses about 2:1 with every codec (snappy and lz4 only find repeated words; random letters
 * would not shrink for them), so large batches stay compressed.
 */
function words(next: () => number, bytes: number): Buffer {
  const vocabulary = Array.from({ length: 500 }, () => Buffer.from(Array.from({ length: 3 + Math.floor(next() * 8) }, () => 0x61 + Math.floor(next() * 26)).concat([0x20])));
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes;) i += vocabulary[Math.floor(next() * vocabulary.length)]!.copy(out, i);
  return out;
}

/**
 * Keys chosen so that each of the partitions gets at least one: records with long, compressible
 * values, sent first in each group, so that every batch a producer makes compresses (librdkafka
 * and kafka-python send a batch uncompressed when compression would not shrink it).
 */
function fillers(prefix: string, partitionCount: number, next: () => number): InteropRecord[] {
  const records: InteropRecord[] = [];
  const covered = new Set<number>();
  for (let i = 0; covered.size < partitionCount; i++) {
    const key = Buffer.from(`${prefix}-filler-${i}`);
    covered.add(murmur2Partition(key, partitionCount));
    records.push({ key, value: Buffer.concat([text(`filler ${i} for ${prefix}; `, 600), words(next, 40)]), headers: [] });
  }
  return records;
}

/** The record set, in groups; `label` goes into a header so each client's records are its own. */
export function recordGroups(label: string, partitionCount: number, seed = 1): RecordGroup[] {
  const next = random(seed);
  const plain: InteropRecord[] = [
    ...fillers('plain', partitionCount, next),
    ...Array.from({ length: 20 }, (_, i) => ({ key: Buffer.from(`key-${i}`), value: text(`value ${i} of ${label}, `, 20 + i * 37), headers: [] })),
    ...Array.from({ length: 6 }, (_, i) => ({ key: binary(next, 16 + i), value: binary(next, 300 + i * 50), headers: [] })),
    { key: Buffer.alloc(0), value: Buffer.from('empty key 0'), headers: [] },
    { key: Buffer.alloc(0), value: Buffer.from('empty key 1'), headers: [] },
    { key: Buffer.from('empty-value-0'), value: Buffer.alloc(0), headers: [] },
    { key: Buffer.from('empty-value-1'), value: Buffer.alloc(0), headers: [] },
    { key: Buffer.from([0x00]), value: Buffer.from([0x00, 0xff, 0x00, 0x0a, 0x0d]), headers: [] },
  ];
  const nulls: InteropRecord[] = [
    ...fillers('nulls', partitionCount, next),
    ...Array.from({ length: 6 }, (_, i) => ({ key: null, value: text(`no key ${i}: `, 150), headers: [] })),
    ...Array.from({ length: 6 }, (_, i) => ({ key: Buffer.from(`tombstone-${i}`), value: null, headers: [] })),
    { key: null, value: null, headers: [] },
  ];
  const sizes: InteropRecord[] = [
    ...fillers('sizes', partitionCount, next),
    ...[1, 2, 63, 64, 127, 128, 8_191, 8_192, 16_383, 16_384, 65_536, 100_000, 300_000].map((bytes) => ({ key: Buffer.from(`size-${bytes}`), value: words(next, bytes), headers: [] })),
    // Last, so that it is alone in its batch or ends one: just under max.message.bytes even uncompressed.
    { key: Buffer.from(`size-${LARGEST_VALUE_BYTES}`), value: words(next, LARGEST_VALUE_BYTES), headers: [] },
  ];
  const groups: RecordGroup[] = [
    { nulls: false, headers: [['client', label], ['repeated', 'one'], ['repeated', 'two'], ['empty', '']], records: plain },
    { nulls: true, headers: [], records: nulls },
    { nulls: false, headers: [['size', 'yes']], records: sizes },
  ];
  for (const group of groups) {
    for (const record of group.records) {
      record.headers = group.headers.map(([name, value]) => [name, Buffer.from(value)]);
      for (const bytes of [record.key, record.value]) {
        if (bytes && (bytes.includes(KCAT_KEY_DELIMITER) || bytes.includes(KCAT_MESSAGE_DELIMITER))) throw new Error('a record contains a kcat delimiter: change the seed');
      }
    }
  }
  return groups;
}

export const flatten = (groups: RecordGroup[]) => groups.flatMap((group) => group.records);

// ---------------------------------------------------------------------------------------------
// What a broker stores.

export interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  magic: number;
  /** attributes & 7: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  codec: number;
  recordCount: number;
  sizeBytes: number;
  crcValid: boolean;
}

export const CODECS: Record<string, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

export function parseBatches(bytes: Uint8Array): StoredBatch[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batches: StoredBatch[] = [];
  for (let position = 0; position + 12 <= buffer.length;) {
    const sizeBytes = 12 + buffer.readInt32BE(position + 8);
    if (position + sizeBytes > buffer.length) break; // a partial batch at the end of a response
    const batch = buffer.subarray(position, position + sizeBytes);
    batches.push({
      baseOffset: Number(batch.readBigInt64BE(0)),
      lastOffset: Number(batch.readBigInt64BE(0)) + batch.readInt32BE(23),
      magic: batch.readInt8(16),
      codec: batch.readInt16BE(21) & 7,
      recordCount: batch.readInt32BE(57),
      sizeBytes,
      crcValid: crc32c(batch.subarray(21)) === batch.readUInt32BE(17),
    });
    position += sizeBytes;
  }
  return batches;
}

export interface StoredPartition {
  partition: number;
  leader: number;
  highWatermark: number;
  batches: StoredBatch[];
  /** The raw bytes of every batch, in offset order. */
  bytes: Buffer;
}

/** Every batch of every partition of a topic, read with raw Fetch from each partition's leader. */
export async function readStored(port: number, topic: string): Promise<StoredPartition[]> {
  const bootstrap = await RawKafkaClient.connect(port);
  const described = await metadata(bootstrap, [topic], false);
  bootstrap.close();
  expect(described.topics[0]!.errorCode, `metadata of ${topic}`).toBe(0);
  const partitions: StoredPartition[] = [];
  for (const partition of described.topics[0]!.partitions) {
    const leader = described.brokers.find((broker) => broker.nodeId === partition.leaderId)!;
    const client = await RawKafkaClient.connect(leader.port);
    try {
      const latest = await listOffsets(client, topic, partition.partitionIndex, -1n);
      const highWatermark = Number(latest.topics[0]!.partitions[0]!.offset);
      const chunks: Buffer[] = [];
      const batches: StoredBatch[] = [];
      for (let offset = 0; offset < highWatermark;) {
        const response = await fetch(client, [{ topic, partition: partition.partitionIndex, offset }], { maxBytes: 8 << 20, partitionMaxBytes: 8 << 20 });
        const answer = response.responses[0]!.partitions[0]!;
        expect(answer.errorCode, `fetch ${topic}-${partition.partitionIndex} at ${offset}`).toBe(0);
        const bytes = Buffer.from(answer.records ?? new Uint8Array(0));
        const read = parseBatches(bytes);
        expect(read.length, `fetch ${topic}-${partition.partitionIndex} at ${offset} returned no batch`).toBeGreaterThan(0);
        chunks.push(bytes.subarray(0, read.reduce((sum, batch) => sum + batch.sizeBytes, 0)));
        batches.push(...read);
        offset = read[read.length - 1]!.lastOffset + 1;
      }
      partitions[partition.partitionIndex] = { partition: partition.partitionIndex, leader: partition.leaderId, highWatermark, batches, bytes: Buffer.concat(chunks) };
    } finally {
      client.close();
    }
  }
  return partitions;
}

/**
 * Stored batches are contiguous from offset 0, intact (CRC), magic 2, and all carry `codec`.
 * `uncompressedAllowed` (librdkafka's clients): a batch may also be uncompressed, as librdkafka
 * sends a batch uncompressed when compressing it did not make it smaller
 * (rdkafka_msgset_writer.c, rd_kafka_msgset_writer_compress), which depends on how its linger
 * happened to group the records (a batch of only the random-byte records); at least one batch
 * of the topic must still carry `codec`. The broker never recompresses, so what is stored is what
 * the client sent either way.
 */
export function expectStoredAs(partitions: StoredPartition[], codec: string, what: string, options: { uncompressedAllowed?: boolean } = {}): void {
  let withCodec = 0;
  for (const stored of partitions) {
    let expectedBase = 0;
    for (const batch of stored.batches) {
      const where = `${what}: partition ${stored.partition}, batch at ${batch.baseOffset}`;
      expect(batch.baseOffset, where).toBe(expectedBase);
      expect(batch.magic, where).toBe(2);
      expect(batch.crcValid, `${where}: CRC`).toBe(true);
      if (!(options.uncompressedAllowed && batch.codec === CODECS.none)) expect(batch.codec, `${where}: codec`).toBe(CODECS[codec]);
      if (batch.codec === CODECS[codec]) withCodec++;
      expect(batch.sizeBytes, where).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expectedBase = batch.lastOffset + 1;
    }
    expect(expectedBase, `${what}: partition ${stored.partition} ends at the high watermark`).toBe(stored.highWatermark);
  }
  expect(withCodec, `${what}: batches stored with ${codec}`).toBeGreaterThan(0);
}

// ---------------------------------------------------------------------------------------------
// Comparing what was consumed with what was produced.

export interface ConsumedRecord extends InteropRecord {
  partition: number;
  offset: number;
}

const show = (bytes: Buffer | null) => (bytes === null ? 'null' : bytes.length > 40 ? `${bytes.length} bytes ${bytes.subarray(0, 16).toString('hex')}...` : `"${bytes.toString('hex')}"`);
export const describeRecord = (record: InteropRecord) => `key ${show(record.key)} value ${show(record.value)} headers ${record.headers.map(([name, value]) => `${name}=${value.toString('hex')}`).join(',')}`;

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b;
  return a.equals(b);
}

function sameRecord(a: InteropRecord, b: InteropRecord): boolean {
  return sameBytes(a.key, b.key) && sameBytes(a.value, b.value) && a.headers.length === b.headers.length
    && a.headers.every(([name, value], i) => name === b.headers[i]![0] && value.equals(b.headers[i]![1]));
}

export interface CompareOptions {
  partitionCount: number;
}

/**
 * Every produced record was consumed exactly once, byte for byte (key, value, headers, null
 * distinct from empty); offsets in each partition run 0, 1, 2...; records of a partition keep the
 * order they were produced in; each keyed record is in the partition murmur2 gives.
 */
export function expectConsumedAsProduced(produced: InteropRecord[], consumed: ConsumedRecord[], options: CompareOptions): void {
  const unmatched = new Set(produced.keys());
  const producedIndex = new Map<ConsumedRecord, number>();
  for (const record of consumed) {
    const index = [...unmatched].find((i) => sameRecord(produced[i]!, record));
    expect(index, `consumed a record that was not produced (or twice): ${describeRecord(record)} at ${record.partition}/${record.offset}`).toBeDefined();
    unmatched.delete(index!);
    producedIndex.set(record, index!);
  }
  expect([...unmatched].map((i) => describeRecord(produced[i]!)), 'produced but not consumed').toEqual([]);
  const byPartition = new Map<number, ConsumedRecord[]>();
  for (const record of consumed) byPartition.set(record.partition, [...(byPartition.get(record.partition) ?? []), record]);
  for (const [partition, records] of byPartition) {
    records.sort((a, b) => a.offset - b.offset);
    expect(records.map((record) => record.offset), `offsets of partition ${partition}`).toEqual(records.map((_, i) => i));
    const order = records.map((record) => producedIndex.get(record)!);
    expect(order, `partition ${partition} keeps the produced order`).toEqual([...order].sort((a, b) => a - b));
    for (const record of records) {
      if (record.key === null) continue;
      expect(partition, `murmur2 partition of ${describeRecord(record)}`).toBe(murmur2Partition(record.key, options.partitionCount));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Records as JSON, for the Python helpers (base64 bytes, null kept).

export interface JsonRecord {
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
  partition?: number;
  offset?: number;
  timestamp?: number;
}

const b64 = (bytes: Buffer | null) => (bytes === null ? null : bytes.toString('base64'));
const unb64 = (text: string | null) => (text === null ? null : Buffer.from(text, 'base64'));

export const toJson = (record: InteropRecord): JsonRecord => ({ key: b64(record.key), value: b64(record.value), headers: record.headers.map(([name, value]) => [name, b64(value)]) });

export function fromJson(record: JsonRecord): ConsumedRecord {
  return {
    partition: record.partition ?? -1,
    offset: record.offset ?? -1,
    key: unb64(record.key),
    value: unb64(record.value),
    // A null header value would show as an empty one; none of the records has one.
    headers: record.headers.map(([name, value]) => [name, unb64(value) ?? Buffer.alloc(0)]),
  };
}
