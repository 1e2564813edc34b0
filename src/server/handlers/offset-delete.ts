/**
 * OffsetDelete (47): removes a group's committed offsets for some partitions; refused per
 * partition (GROUP_SUBSCRIBED_TO_TOPIC) for a topic the group's members subscribe to.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { OffsetDeleteRequest, OffsetDeleteResponse } from '../../protocol/generated/messages/index.js';
import { defineHandler } from '../handler.js';
import { callCoordinator } from './group-outcome.js';

export const offsetDeleteHandler = defineHandler<OffsetDeleteRequest, OffsetDeleteResponse>({
  apiKey: 47,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, context) {
    const topics = request.topics.map((topic) => ({ topic: topic.name, partitions: topic.partitions.map((partition) => partition.partitionIndex) }));
    const answer = await callCoordinator(context, 'offset-delete', request.groupId, { op: 'offset-delete', groupId: request.groupId, topics });
    if (typeof answer === 'number' || answer.errorCode !== ErrorCode.NONE) {
      return { errorCode: typeof answer === 'number' ? answer : answer.errorCode, throttleTimeMs: 0, topics: [] };
    }
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partitionIndex: partition.partitionIndex,
          errorCode: answer.partitions.find((entry) => entry.topic === topic.name && entry.partition === partition.partitionIndex)?.errorCode ?? ErrorCode.NONE,
        })),
      })),
    };
  },
});
