/**
 * OffsetCommit (8): a group member's (generation and member id checked) or a standalone
 * consumer's (generation -1, no members) committed offsets, answered once written to
 * __consumer_offsets. A partition the cluster does not have gets UNKNOWN_TOPIC_OR_PARTITION.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { OffsetCommitRequest, OffsetCommitResponse } from '../../protocol/generated/messages/index.js';
import type { CommitEntry } from '../../groups/group-calls.js';
import { defineHandler } from '../handler.js';
import { callCoordinator } from './group-outcome.js';

export const offsetCommitHandler = defineHandler<OffsetCommitRequest, OffsetCommitResponse>({
  apiKey: 8,
  minVersion: 2,
  maxVersion: 8,
  async handle(request, context) {
    const metadata = context.cluster.controller;
    const known = (topic: string, partition: number) => partition >= 0 && (metadata.topic(topic)?.partitions.length ?? 0) > partition;
    const offsets: CommitEntry[] = [];
    for (const topic of request.topics) {
      for (const partition of topic.partitions) {
        if (!known(topic.name, partition.partitionIndex)) continue;
        offsets.push({ topic: topic.name, partition: partition.partitionIndex, offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch ?? -1, metadata: partition.committedMetadata });
      }
    }
    const answer = await callCoordinator(context, 'commit', request.groupId, {
      op: 'commit',
      groupId: request.groupId,
      memberId: request.memberId ?? '',
      groupInstanceId: request.groupInstanceId ?? null,
      generationId: request.generationIdOrMemberEpoch ?? -1,
      retentionTimeMs: context.apiVersion >= 2 && context.apiVersion <= 4 ? Number(request.retentionTimeMs ?? -1n) : -1,
      offsets,
    });
    const errorFor = (topic: string, partition: number): number => {
      if (!known(topic, partition)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      if (typeof answer === 'number') return answer;
      return answer.partitions.find((entry) => entry.topic === topic && entry.partition === partition)?.errorCode ?? answer.errorCode;
    };
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode: errorFor(topic.name, partition.partitionIndex) })),
      })),
    };
  },
});
