/**
 * ListOffsets (2): the log start offset (timestamp -2, "earliest"), the high watermark (-1,
 * "latest"; it is also the last stable offset, as there are no transactions yet), or the first
 * offset whose batch has a timestamp at or after the one asked for.
 *
 * The timestamp lookup works on batches (the time index and batch headers), never decoding
 * records: it answers the first offset of the first batch whose max timestamp reaches T, and
 * that batch's max timestamp. Kafka answers the exact record; the two agree whenever a batch's
 * records share one timestamp, which is how producers write them in practice.
 *
 * Max timestamp (-3, v7; Java's OffsetSpec.maxTimestamp()): the record with the largest
 * timestamp, the first such, and that timestamp (max-timestamp.ts says how the record is found).
 */
import type { PartitionLog } from '../../log/partition-log.js';
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { ListOffsetsRequest, ListOffsetsResponse } from '../../protocol/generated/messages/index.js';
import type { ListOffsetsPartitionResponse } from '../../protocol/generated/messages/list-offsets-response.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { offsetOfMaxTimestamp } from '../../log/max-timestamp.js';
import { errorCodeOf, leaderPartition } from '../partition-lookup.js';

const EARLIEST_TIMESTAMP = -2n;
const LATEST_TIMESTAMP = -1n;
const MAX_TIMESTAMP = -3n;

function lookup(context: RequestContext, topic: string, partitionIndex: number, timestamp: bigint, currentLeaderEpoch: number): ListOffsetsPartitionResponse {
  const withEpoch = (answer: ListOffsetsPartitionResponse, leaderEpoch: number): ListOffsetsPartitionResponse =>
    context.apiVersion >= 4 ? { ...answer, leaderEpoch } : answer;
  const failed = (errorCode: number) => withEpoch({ partitionIndex, errorCode, timestamp: -1n, offset: -1n }, -1);
  const found = leaderPartition(context, topic, partitionIndex, currentLeaderEpoch);
  if (found.errorCode !== undefined) return failed(found.errorCode);
  const { log, assignment } = found;
  const answer = (offset: number, at: number) => withEpoch({ partitionIndex, errorCode: ErrorCode.NONE, timestamp: BigInt(at), offset: BigInt(offset) }, assignment.leaderEpoch);
  if (timestamp === EARLIEST_TIMESTAMP) return answer(log.logStartOffset, -1);
  if (timestamp === LATEST_TIMESTAMP) return answer(log.highWatermark, -1);
  try {
    const hit = timestamp === MAX_TIMESTAMP ? maxTimestampHit(log) : log.offsetForTimestamp(Number(timestamp));
    // Records at or past the high watermark are not visible to consumers yet.
    if (!hit || hit.offset >= log.highWatermark) return answer(-1, -1);
    return answer(hit.offset, hit.timestamp);
  } catch (error) {
    return failed(errorCodeOf(error, context.log, `offset lookup in ${topic}-${partitionIndex}`));
  }
}

function maxTimestampHit(log: PartitionLog): { offset: number; timestamp: number } | undefined {
  const found = log.batchWithMaxTimestamp();
  if (!found) return undefined;
  return offsetOfMaxTimestamp(found.header, found.bytes, log.logStartOffset);
}

export const listOffsetsHandler = defineHandler<ListOffsetsRequest, ListOffsetsResponse>({
  apiKey: 2,
  minVersion: 1,
  maxVersion: 7,
  handle(request, context) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) =>
          lookup(context, topic.name, partition.partitionIndex, partition.timestamp, partition.currentLeaderEpoch ?? -1)),
      })),
    };
  },
});
