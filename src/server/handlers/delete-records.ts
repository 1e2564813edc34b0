/**
 * DeleteRecords (21): moves each partition's log start offset up to the offset given (-1: the
 * high watermark), deleting the segments wholly below it, and answers the new low watermark
 * (with one replica, the log start offset). The start offsets are checkpointed before the
 * answer, so a restart does not bring deleted records back.
 *
 * Per partition: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER (sent to the wrong broker),
 * OFFSET_OUT_OF_RANGE (below -1 or past the high watermark), POLICY_VIOLATION (a compact-only
 * topic, whose records only compaction removes).
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { DeleteRecordsRequest, DeleteRecordsResponse } from '../../protocol/generated/messages/index.js';
import type { DeleteRecordsPartitionResult } from '../../protocol/generated/messages/delete-records-response.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { errorCodeOf, leaderPartition } from '../partition-lookup.js';

const HIGH_WATERMARK_OFFSET = -1n;

async function deleteBefore(context: RequestContext, topic: string, partitionIndex: number, offset: bigint): Promise<DeleteRecordsPartitionResult> {
  const failed = (errorCode: number): DeleteRecordsPartitionResult => ({ partitionIndex, lowWatermark: -1n, errorCode });
  const found = leaderPartition(context, topic, partitionIndex);
  if (found.errorCode !== undefined) return failed(found.errorCode);
  const log = found.log;
  if (!log.config.cleanupPolicy.includes('delete')) return failed(ErrorCode.POLICY_VIOLATION);
  if (offset < HIGH_WATERMARK_OFFSET) return failed(ErrorCode.OFFSET_OUT_OF_RANGE);
  const target = offset === HIGH_WATERMARK_OFFSET ? log.highWatermark : Number(offset);
  try {
    return { partitionIndex, lowWatermark: BigInt(await context.cluster.deleteRecords(topic, partitionIndex, target)), errorCode: ErrorCode.NONE };
  } catch (error) {
    return failed(errorCodeOf(error, context.log, `delete records of ${topic}-${partitionIndex}`));
  }
}

export const deleteRecordsHandler = defineHandler<DeleteRecordsRequest, DeleteRecordsResponse>({
  apiKey: 21,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    const topics = await Promise.all(request.topics.map(async (topic) => ({
      name: topic.name,
      partitions: await Promise.all(topic.partitions.map((partition) => deleteBefore(context, topic.name, partition.partitionIndex, partition.offset))),
    })));
    if (topics.some((topic) => topic.partitions.some((partition) => partition.errorCode === ErrorCode.NONE))) {
      // A failed checkpoint is logged and the answer stands: the start offsets are checkpointed
      // again every minute and at a clean stop.
      try {
        await context.cluster.logs.checkpointInBackground();
      } catch (error) {
        context.log.error({ err: error }, 'checkpoint after DeleteRecords failed');
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});
