/**
 * Kafka wire helpers for bench/broker.ts and its load worker: pre-built record batches and request
 * frames from Samsa's generated codecs (set-up requests such as CreateTopics go through
 * src/client/kafka-connection.ts). The hot paths (pipelined Produce, Fetch) live in load-worker.ts and
 * use only the pieces here that run once per case (frame templates) or per response (decoders).
 *
 * Versions: Produce v9 and Fetch v12 (the highest Samsa serves; both flexible, request header v2).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { crc32c } from '../../src/log/crc32c.js';
import { CORRELATION_ID_AT, KafkaConnection } from '../../src/client/kafka-connection.js';
import {
  ATTRIBUTES_AT,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_AT,
  BATCH_LENGTH_PREFIX_BYTES,
  CRC_AT,
  LAST_OFFSET_DELTA_AT,
  RECORDS_COUNT_AT,
} from '../../src/log/record-batch.js';
import { encodePlainBatch, type BatchRecord } from '../../src/log/records.js';
import { decodeFetchResponse, decodeProduceResponse, ResponseHeaderCodec, type FetchResponse, type ProduceResponse } from '../../src/protocol/generated/messages/index.js';
import { responseHeaderVersion } from '../../src/protocol/headers.js';
import { ProtocolReader } from '../../src/protocol/reader.js';

const PRODUCE_API_KEY = 0;
const FETCH_API_KEY = 1;
const PRODUCE_VERSION = 9;
const FETCH_VERSION = 12;
export const CLIENT_ID = 'samsa-bench';

/** Epoch milliseconds with sub-millisecond resolution, comparable across this process's threads. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Busy clock ticks of the whole machine (all CPUs): user, nice, system, irq, softirq, steal. */
export function machineBusyTicks(): number {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    return fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + fields[7]!;
  } catch {
    return NaN;
  }
}

/** The kernel's clock ticks per second (USER_HZ), the unit of /proc CPU times. */
export function clockTicksPerS(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Dirty and under-writeback page-cache bytes (/proc/meminfo), and the background writeback threshold. */
export function pageCacheState(): { dirtyBytes: number; writebackBytes: number; cachedBytes: number; backgroundThresholdBytes: number } {
  try {
    const info = new Map(fs.readFileSync('/proc/meminfo', 'utf8').split('\n').map((line) => {
      const [key, value] = line.split(/:\s+/);
      return [key ?? '', Number.parseInt(value ?? '0', 10) * 1024] as const;
    }));
    const backgroundBytes = Number(fs.readFileSync('/proc/sys/vm/dirty_background_bytes', 'utf8'));
    const backgroundRatio = Number(fs.readFileSync('/proc/sys/vm/dirty_background_ratio', 'utf8'));
    const threshold = backgroundBytes > 0 ? backgroundBytes : ((info.get('MemAvailable') ?? 0) * backgroundRatio) / 100;
    return { dirtyBytes: info.get('Dirty') ?? NaN, writebackBytes: info.get('Writeback') ?? NaN, cachedBytes: info.get('Cached') ?? NaN, backgroundThresholdBytes: threshold };
  } catch {
    return { dirtyBytes: NaN, writebackBytes: NaN, cachedBytes: NaN, backgroundThresholdBytes: NaN };
  }
}

// ---- record batches ---------------------------------------------------------------------------

function varintBytes(value: number): number {
  let zz = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (zz >= 0x80) {
    zz >>>= 7;
    bytes++;
  }
  return bytes;
}

/** Bytes of one record with a null key, a `valueBytes` value, no headers, timestampDelta 0. */
function recordBytes(offsetDelta: number, valueBytes: number): number {
  const body = 1 + 1 + varintBytes(offsetDelta) + 1 + varintBytes(valueBytes) + valueBytes + 1;
  return varintBytes(body) + body;
}

export interface PrebuiltBatch {
  readonly bytes: Uint8Array;
  readonly records: number;
  readonly valueBytes: number;
  /** Position in the batch of the first record's value (8 bytes there carry a send time). */
  readonly stampAt: number;
}

const STAMP_MARKER = Uint8Array.from([0x53, 0x41, 0x4d, 0x53, 0x41, 0x2d, 0x42, 0x45, 0x4e, 0x43, 0x48, 0x2d, 0x54, 0x53, 0x21, 0x21]);

/**
 * As many `valueBytes` records (null keys, uncompressed) as fit in `batchBytesMax`, the way a
 * producer fills batch.size: it closes the batch when the next record would not fit. Built
 * once with encodePlainBatch (magic 2, CRC-32C); `records` caps the count (for linger-sized batches).
 */
export function buildBatch(valueBytes: number, batchBytesMax: number, recordsMax = Number.MAX_SAFE_INTEGER): PrebuiltBatch {
  let random = 0x9e3779b9;
  const nextByte = (): number => {
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return random & 0xff;
  };
  const records: BatchRecord[] = [];
  let total = BATCH_HEADER_BYTES;
  while (records.length < recordsMax) {
    const size = recordBytes(records.length, valueBytes);
    if (total + size > batchBytesMax) break;
    total += size;
    const value = new Uint8Array(valueBytes);
    for (let i = 0; i < valueBytes; i++) value[i] = nextByte();
    records.push({ offsetDelta: records.length, timestampDelta: 0, key: null, value, headers: [] });
  }
  if (records.length === 0) throw new Error(`no ${valueBytes}-byte record fits in ${batchBytesMax} bytes`);
  records[0]!.value!.set(STAMP_MARKER.subarray(0, Math.min(STAMP_MARKER.length, valueBytes)));
  const bytes = encodePlainBatch(records, Date.now());
  if (bytes.byteLength !== total) throw new Error(`encodePlainBatch gave ${bytes.byteLength} bytes, expected ${total}`);
  const stampAt = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(Buffer.from(STAMP_MARKER.subarray(0, Math.min(STAMP_MARKER.length, valueBytes))));
  if (stampAt < BATCH_HEADER_BYTES) throw new Error('stamp marker not found in the built batch');
  return { bytes, records: records.length, valueBytes, stampAt };
}

/** Writes `stampMs` (float64) at `batchAt + stampAt` and recomputes the batch CRC in place. */
export function stampBatch(frame: Buffer, batchAt: number, batchBytes: number, stampAt: number, stampMs: number): void {
  frame.writeDoubleBE(stampMs, batchAt + stampAt);
  frame.writeUInt32BE(crc32c(frame, batchAt + ATTRIBUTES_AT, batchBytes - ATTRIBUTES_AT), batchAt + CRC_AT);
}

// ---- request frames ----------------------------------------------------------------------------

/** A whole request frame (size prefix included) from the generated codecs. */
function requestFrame(apiKey: number, apiVersion: number, correlationId: number, body: unknown): Buffer {
  const frame = KafkaConnection.encodeRequest(apiKey, apiVersion, body, CLIENT_ID);
  frame.writeInt32BE(correlationId, CORRELATION_ID_AT);
  return frame;
}

export interface ProduceFrame {
  readonly frame: Buffer;
  /** Where the record batch starts inside the frame. */
  readonly batchAt: number;
}

/** A Produce v9 request carrying one batch for one partition; the correlation id is patched per send. */
export function produceFrame(topic: string, partition: number, batch: Uint8Array, acks: number): ProduceFrame {
  const frame = requestFrame(PRODUCE_API_KEY, PRODUCE_VERSION, 0, {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
  const batchAt = frame.indexOf(Buffer.from(batch.buffer, batch.byteOffset, Math.min(batch.byteLength, 64)));
  if (batchAt < 0) throw new Error('batch not found in the produce frame');
  return { frame, batchAt };
}

export interface FetchTarget {
  readonly partition: number;
  readonly offset: number;
}

/** A Fetch v12 request (no session, read_uncommitted) for some partitions of one topic. */
export function fetchFrame(correlationId: number, topic: string, targets: readonly FetchTarget[], options: { maxWaitMs: number; minBytes: number; maxBytes: number; partitionMaxBytes: number }): Buffer {
  return requestFrame(FETCH_API_KEY, FETCH_VERSION, correlationId, {
    replicaId: -1,
    maxWaitMs: options.maxWaitMs,
    minBytes: options.minBytes,
    maxBytes: options.maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: targets.map((target) => ({ partition: target.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(target.offset), logStartOffset: -1n, partitionMaxBytes: options.partitionMaxBytes })) }],
    forgottenTopicsData: [],
    rackId: '',
  });
}

// ---- responses ----------------------------------------------------------------------------------

export function readProduceResponse(frame: Buffer): { correlationId: number; response: ProduceResponse } {
  const reader = new ProtocolReader(frame);
  const { correlationId } = ResponseHeaderCodec.decode(reader, responseHeaderVersion(PRODUCE_API_KEY, PRODUCE_VERSION));
  return { correlationId, response: decodeProduceResponse(reader, PRODUCE_VERSION) };
}

export function readFetchResponse(frame: Buffer): { correlationId: number; response: FetchResponse } {
  const reader = new ProtocolReader(frame);
  const { correlationId } = ResponseHeaderCodec.decode(reader, responseHeaderVersion(FETCH_API_KEY, FETCH_VERSION));
  return { correlationId, response: decodeFetchResponse(reader, FETCH_VERSION) };
}

export interface BatchWalk {
  batches: number;
  records: number;
  /** Offset after the last whole batch, or -1 when there was none. */
  nextOffset: number;
}

/**
 * Walks the whole batches in a fetched records field (headers only, as a consumer does before
 * decoding records), calling `visit` with each batch's position. A trailing partial batch is
 * ignored, as Kafka consumers do.
 */
export function walkBatches(records: Uint8Array, visit?: (at: number, view: DataView) => void): BatchWalk {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let at = 0;
  let batches = 0;
  let count = 0;
  let nextOffset = -1;
  while (at + BATCH_HEADER_BYTES <= records.byteLength) {
    const size = view.getInt32(at + BATCH_LENGTH_AT) + BATCH_LENGTH_PREFIX_BYTES;
    if (size < BATCH_HEADER_BYTES || at + size > records.byteLength) break;
    const baseOffset = view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4);
    const lastOffsetDelta = view.getInt32(at + LAST_OFFSET_DELTA_AT);
    count += view.getInt32(at + RECORDS_COUNT_AT);
    nextOffset = baseOffset + lastOffsetDelta + 1;
    visit?.(at, view);
    batches++;
    at += size;
  }
  return { batches, records: count, nextOffset };
}
