/**
 * Which record of a batch holds its max timestamp: ListOffsets MAX_TIMESTAMP (-3) answers that
 * record's offset, the first such, as Kafka does since 3.8 (KAFKA-16310). The log finds the batch
 * (PartitionLog.batchWithMaxTimestamp); this reads its records' timestamps only (scanRecordTimes:
 * no record is built, however many the batch holds), stopping at the first match:
 * - LogAppendTime: every record carries the batch's timestamp, so the first record;
 * - records this process can decode (none, gzip, snappy, lz4, zstd): the first whose timestamp
 *   equals the batch's max timestamp;
 * - a codec whose package cannot load here (no binary for the platform): the batch's last
 *   offset, which is what Kafka answered for a compressed batch before 3.8.
 * Records below the log start offset (DeleteRecords inside this batch) do not count: then the
 * answer is the first record with the largest timestamp among those left. A batch none of whose
 * records has its max timestamp (a producer's bad header) has no answer.
 */
import { COMPRESSION_MASK, lastOffsetOf, TIMESTAMP_TYPE_LOG_APPEND, type BatchHeader } from './record-batch.js';
import { isCompressionAvailable, scanRecordTimes } from './records.js';

export function offsetOfMaxTimestamp(header: BatchHeader, batchBytes: Uint8Array, logStartOffset = header.baseOffset): { offset: number; timestamp: number } | undefined {
  const startDelta = Math.max(0, logStartOffset - header.baseOffset);
  if ((header.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0) return { offset: header.baseOffset + startDelta, timestamp: header.maxTimestamp };
  if (!isCompressionAvailable(header.attributes & COMPRESSION_MASK)) return { offset: lastOffsetOf(header), timestamp: header.maxTimestamp };
  let best: { offset: number; timestamp: number } | undefined;
  scanRecordTimes(batchBytes, (offsetDelta, timestampDelta) => {
    if (offsetDelta < startDelta) return true;
    const timestamp = header.baseTimestamp + timestampDelta;
    if (best === undefined || timestamp > best.timestamp) best = { offset: header.baseOffset + offsetDelta, timestamp };
    // The batch's max timestamp cannot be beaten: the first record holding it is the answer.
    return timestamp !== header.maxTimestamp;
  }, { verifyCrc: false });
  if (startDelta === 0 && best?.timestamp !== header.maxTimestamp) return undefined;
  return best;
}
