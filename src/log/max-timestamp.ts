/**
 * Which record of a batch holds its max timestamp: ListOffsets MAX_TIMESTAMP (-3) answers that
 * record's offset, the first such, as Kafka does since 3.8 (KAFKA-16310). The log finds the batch
 * (PartitionLog.batchWithMaxTimestamp); this reads its records:
 * - LogAppendTime: every record carries the batch's timestamp, so the first record;
 * - records this process can decode (none, gzip, snappy, lz4; zstd on Node 22+): the first
 *   whose timestamp equals the batch's max timestamp;
 * - zstd on Node 20, which has no zstd: the batch's last offset, which is what Kafka answered
 *   for a compressed batch before 3.8.
 * A batch none of whose records has its max timestamp (a producer's bad header) has no answer.
 */
import { COMPRESSION_MASK, lastOffsetOf, TIMESTAMP_TYPE_LOG_APPEND, type BatchHeader } from './record-batch.js';
import { decodeBatchRecords, isCompressionAvailable } from './records.js';

export function offsetOfMaxTimestamp(header: BatchHeader, batchBytes: Uint8Array): number | undefined {
  if ((header.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0) return header.baseOffset;
  if (!isCompressionAvailable(header.attributes & COMPRESSION_MASK)) return lastOffsetOf(header);
  const batch = decodeBatchRecords(batchBytes, { verifyCrc: false });
  for (const record of batch.records) {
    if (batch.baseTimestamp + record.timestampDelta === batch.maxTimestamp) return batch.baseOffset + record.offsetDelta;
  }
  return undefined;
}
