/**
 * Log compaction's record-level work as pure functions over segment bytes (no I/O, no clock:
 * the caller passes nowMs). buildOffsetMap finds the latest offset of every key across the
 * segments being cleaned; cleanSegment then rewrites one segment keeping only what compaction
 * must keep. Worked example (k1..k3 keys, ∅ a null value, i.e. a tombstone, - a null key):
 *
 *   before                                     offset map from all three batches:
 *     batch base 0, lastOffsetDelta 1   0 k1=a  1 k2=b          k1 -> 3, k2 -> 4, k3 -> 5
 *     batch base 2, lastOffsetDelta 2   2 k3=c  3 k1=d  4 k2=∅
 *     batch base 5, lastOffsetDelta 1   5 k3=e  6 -=f
 *
 *   after, while the tombstone is within delete retention
 *     (first batch dropped: both its records are superseded)
 *     batch base 2, lastOffsetDelta 2          3 k1=d  4 k2=∅   re-encoded without offset 2
 *     batch base 5, lastOffsetDelta 1   5 k3=e  6 -=f           the same bytes as before
 *
 *   after, once the middle batch's maxTimestamp < nowMs - deleteRetentionMs (cleanTombstones)
 *     batch base 2, lastOffsetDelta 2          3 k1=d           re-encoded
 *     batch base 5, lastOffsetDelta 1   5 k3=e  6 -=f           the same bytes as before
 *
 * Offsets never change: a rewritten batch keeps its baseOffset, the offsetDelta of every record
 * it keeps and its lastOffsetDelta (so the offset after it is still 5), leaving gaps a fetch
 * skips over as it does in Kafka. It also keeps its timestamps, producer fields, leader epoch
 * and attributes (timestamp type, transactional flag); only the compression bits may change,
 * to none, when this process cannot write the batch's codec.
 *
 * The rules, per record: keep it when its key is null, when its key is not in the map, or when
 * its offset is at least the map's (a record past the mapped range is newer than anything in
 * it: Kafka's rule); drop a kept record with a null value when cleanTombstones is set and its
 * batch's maxTimestamp is before nowMs - deleteRetentionMs. Per batch: control batches
 * (transaction markers) are copied untouched and their records are not keys; a batch that loses
 * nothing is copied byte for byte, never re-encoded; a batch that loses everything is dropped.
 *
 * Removing a tombstone is only safe once every older value of its key is gone, so the map must
 * cover every segment that could still hold one: build it over all the segments being cleaned
 * together. Not handled here yet: records of aborted transactions (they need the transaction
 * index) and Kafka's rule of keeping an emptied batch when it is a producer's last one.
 */
import { CONTROL_FLAG, parseBatches, TIMESTAMP_TYPE_LOG_APPEND } from './record-batch.js';
import { decodeBatchRecords, encodeBatch, type BatchRecord, type DecodedBatch, type DecodeOptions } from './records.js';

export interface CleanSegmentOptions {
  readonly nowMs: number;
  readonly deleteRetentionMs: number;
  /** When false, tombstones stay however old (they still go when a later record supersedes them). */
  readonly cleanTombstones: boolean;
  /** Bound on one batch's decompressed records; default DECOMPRESSED_RECORDS_BYTES_MAX. */
  readonly decompressedBytesMax?: number;
}

/** Map keys are the key's bytes read as latin1: one char per byte, so distinct keys stay distinct. */
export function offsetMapKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * Each key's latest offset over all batches of `segments`, control batches aside. Throws
 * KafkaError CORRUPT_MESSAGE for a corrupt batch, UNSUPPORTED_COMPRESSION_TYPE for one this
 * process cannot decompress: skipping it could let a removed tombstone resurrect its key.
 */
export function buildOffsetMap(
  segments: readonly Uint8Array[],
  options: Pick<CleanSegmentOptions, 'decompressedBytesMax'> = {},
): Map<string, number> {
  const offsetMap = new Map<string, number>();
  for (const segment of segments) {
    for (const header of parseBatches(segment)) {
      if (header.attributes & CONTROL_FLAG) continue;
      const batch = decodeBatchRecords(segment.subarray(header.position, header.position + header.sizeBytes), decodeOptions(options));
      for (const record of batch.records) {
        if (record.key === null) continue;
        const key = offsetMapKey(record.key);
        const offset = batch.baseOffset + record.offsetDelta;
        const latest = offsetMap.get(key);
        if (latest === undefined || offset > latest) offsetMap.set(key, offset);
      }
    }
  }
  return offsetMap;
}

/** `segmentBytes` cleaned as the header describes, in a new buffer; the input is not modified. */
export function cleanSegment(
  segmentBytes: Uint8Array,
  offsetMap: ReadonlyMap<string, number>,
  options: CleanSegmentOptions,
): Uint8Array {
  checkOptions(options);
  const tombstoneHorizonMs = options.nowMs - options.deleteRetentionMs;
  const parts: Uint8Array[] = [];
  for (const header of parseBatches(segmentBytes)) {
    const batchBytes = segmentBytes.subarray(header.position, header.position + header.sizeBytes);
    if (header.attributes & CONTROL_FLAG) {
      parts.push(batchBytes);
      continue;
    }
    const batch = decodeBatchRecords(batchBytes, decodeOptions(options));
    const tombstonesExpired = options.cleanTombstones && batch.maxTimestamp < tombstoneHorizonMs;
    const kept = batch.records.filter((record) => {
      if (record.key === null) return true;
      const latest = offsetMap.get(offsetMapKey(record.key));
      if (latest !== undefined && batch.baseOffset + record.offsetDelta < latest) return false;
      return !(record.value === null && tombstonesExpired);
    });
    if (kept.length === batch.records.length) {
      parts.push(batchBytes);
    } else if (kept.length > 0) {
      // Same attributes, so the same codec: decoding the batch above needed it, so this process has it.
      const timestamps = retainedTimestamps(batch, kept);
      parts.push(
        encodeBatch({
          baseOffset: batch.baseOffset,
          partitionLeaderEpoch: batch.partitionLeaderEpoch,
          attributes: batch.attributes,
          lastOffsetDelta: batch.lastOffsetDelta,
          baseTimestamp: timestamps.baseTimestamp,
          maxTimestamp: timestamps.maxTimestamp,
          producerId: batch.producerId,
          producerEpoch: batch.producerEpoch,
          baseSequence: batch.baseSequence,
          records: timestamps.records,
        }),
      );
    }
  }
  return concat(parts);
}

/** buildOffsetMap over all `segments`, then cleanSegment on each: one cleaning pass. */
export function compactSegments(segments: readonly Uint8Array[], options: CleanSegmentOptions): Uint8Array[] {
  checkOptions(options); // before the map, the costly half
  const offsetMap = buildOffsetMap(segments, options);
  return segments.map((segment) => cleanSegment(segment, offsetMap, options));
}

function checkOptions(options: CleanSegmentOptions): void {
  if (!Number.isSafeInteger(options.nowMs)) throw new RangeError(`nowMs must be a safe integer, got ${options.nowMs}`);
  if (!Number.isSafeInteger(options.deleteRetentionMs) || options.deleteRetentionMs < 0) {
    throw new RangeError(`deleteRetentionMs must be a non-negative safe integer, got ${options.deleteRetentionMs}`);
  }
}

function decodeOptions(options: Pick<CleanSegmentOptions, 'decompressedBytesMax'>): DecodeOptions {
  // parseBatches has already checked every batch's CRC.
  return options.decompressedBytesMax === undefined
    ? { verifyCrc: false }
    : { verifyCrc: false, decompressedBytesMax: options.decompressedBytesMax };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.byteLength;
  const output = new Uint8Array(total);
  let position = 0;
  for (const part of parts) {
    output.set(part, position);
    position += part.byteLength;
  }
  return output;
}

/**
 * A rewritten batch's timestamps, as Kafka's cleaner sets them (MemoryRecordsBuilder over the
 * retained records): under CreateTime the first kept record's timestamp is the base and the
 * largest kept one the max (so ListOffsets max timestamp finds a record holding it, and time
 * retention and the time index follow what is left); under LogAppendTime every record reads as
 * the batch's append time, so the base is that time and every delta 0.
 */
function retainedTimestamps(batch: DecodedBatch, kept: readonly BatchRecord[]): { baseTimestamp: number; maxTimestamp: number; records: BatchRecord[] } {
  if (batch.attributes & TIMESTAMP_TYPE_LOG_APPEND) {
    return { baseTimestamp: batch.maxTimestamp, maxTimestamp: batch.maxTimestamp, records: kept.map((record) => ({ ...record, timestampDelta: 0 })) };
  }
  const firstDelta = kept[0]!.timestampDelta;
  let maxDelta = 0;
  const records = kept.map((record) => {
    const timestampDelta = record.timestampDelta - firstDelta;
    if (timestampDelta > maxDelta) maxDelta = timestampDelta;
    return { ...record, timestampDelta };
  });
  const baseTimestamp = batch.baseTimestamp + firstDelta;
  return { baseTimestamp, maxTimestamp: baseTimestamp + maxDelta, records };
}
