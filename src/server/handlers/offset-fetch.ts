/**
 * OffsetFetch (9): a group's committed offsets (-1 where none is), for the partitions asked or,
 * with topics null (v2+), for every partition it committed. v8 asks for several groups at once;
 * each group is answered by its own coordinator (NOT_COORDINATOR for one led elsewhere).
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { OffsetFetchRequest, OffsetFetchResponse } from '../../protocol/generated/messages/index.js';
import type { FetchedOffset, TopicPartitions } from '../../groups/group-calls.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { callCoordinator } from './group-outcome.js';

interface GroupOffsetsResult {
  readonly errorCode: number;
  readonly topics: { name: string; partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; metadata: string | null; errorCode: number }[] }[];
}

async function fetchGroup(context: RequestContext, groupId: string, requested: readonly TopicPartitions[] | null): Promise<GroupOffsetsResult> {
  const answer = await callCoordinator(context, 'fetch-offsets', groupId, { op: 'fetch-offsets', groupId, topics: requested });
  if (typeof answer === 'number') {
    // Per partition too: v1 has no group-level error code.
    const topics = (requested ?? []).map(({ topic, partitions }) => ({
      name: topic,
      partitions: partitions.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: answer })),
    }));
    return { errorCode: answer, topics };
  }
  const byTopic = new Map<string, FetchedOffset[]>();
  for (const offset of answer.offsets) {
    let list = byTopic.get(offset.topic);
    if (!list) byTopic.set(offset.topic, (list = []));
    list.push(offset);
  }
  return {
    errorCode: ErrorCode.NONE,
    topics: [...byTopic].map(([name, offsets]) => ({
      name,
      partitions: offsets.map((offset) => ({ partitionIndex: offset.partition, committedOffset: offset.offset, committedLeaderEpoch: offset.leaderEpoch, metadata: offset.metadata, errorCode: ErrorCode.NONE })),
    })),
  };
}

export const offsetFetchHandler = defineHandler<OffsetFetchRequest, OffsetFetchResponse>({
  apiKey: 9,
  minVersion: 1,
  maxVersion: 8,
  async handle(request, context) {
    const asked = (topics: readonly { name: string; partitionIndexes: number[] }[] | null | undefined): TopicPartitions[] | null =>
      topics === null || topics === undefined ? null : topics.map((topic) => ({ topic: topic.name, partitions: topic.partitionIndexes }));
    if (context.apiVersion >= 8) {
      const groups = [];
      for (const group of request.groups ?? []) {
        const result = await fetchGroup(context, group.groupId, asked(group.topics));
        groups.push({ groupId: group.groupId, errorCode: result.errorCode, topics: result.topics });
      }
      return { throttleTimeMs: 0, groups };
    }
    const result = await fetchGroup(context, request.groupId ?? '', asked(request.topics));
    return { throttleTimeMs: 0, errorCode: result.errorCode, topics: result.topics };
  },
});
