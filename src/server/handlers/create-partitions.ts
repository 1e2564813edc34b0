/**
 * CreatePartitions (37): grows a topic to `count` partitions (grow only; INVALID_PARTITIONS when
 * the count is not larger than the current one). New partitions go round robin over the
 * brokers unless the request assigns them; their logs are created at once. validateOnly checks
 * without changing anything. Each topic succeeds or fails on its own.
 *
 * Replication comes later: an assignment's first broker leads the partition and is its only
 * replica (as with CreateTopics).
 */
import { ErrorCode, type ErrorCodeName } from '../../protocol/generated/error-codes.js';
import type { CreatePartitionsRequest, CreatePartitionsResponse } from '../../protocol/generated/messages/index.js';
import type { CreatePartitionsTopic } from '../../protocol/generated/messages/create-partitions-request.js';
import type { CreatePartitionsTopicResult } from '../../protocol/generated/messages/create-partitions-response.js';
import { defineHandler, type RequestContext } from '../handler.js';

async function createOne(topic: CreatePartitionsTopic, validateOnly: boolean, duplicated: boolean, context: RequestContext): Promise<CreatePartitionsTopicResult> {
  const answer = (error?: ErrorCodeName, message?: string): CreatePartitionsTopicResult =>
    ({ name: topic.name, errorCode: error ? ErrorCode[error] : ErrorCode.NONE, errorMessage: message ?? null });
  if (duplicated) return answer('INVALID_REQUEST', `topic ${topic.name} appears more than once in the request`);
  if (!context.cluster.controller.topic(topic.name)) return answer('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic.name}' does not exist`);
  const assignments = topic.assignments;
  if (assignments?.some((entry) => entry.brokerIds.length === 0 || new Set(entry.brokerIds).size !== entry.brokerIds.length)) {
    return answer('INVALID_REPLICA_ASSIGNMENT', 'each new partition needs distinct replicas');
  }
  const leaders = assignments?.map((entry) => entry.brokerIds[0]!);
  const result = await context.cluster.createPartitions({ name: topic.name, partitionCount: topic.count, leaders }, validateOnly);
  if ('error' in result) return answer(result.error, result.message);
  if (!validateOnly) context.log.info({ topic: topic.name, partitions: topic.count }, 'partitions created');
  return answer();
}

export const createPartitionsHandler = defineHandler<CreatePartitionsRequest, CreatePartitionsResponse>({
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, context) {
    const counts = new Map<string, number>();
    for (const topic of request.topics) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
    const results: CreatePartitionsTopicResult[] = [];
    for (const topic of request.topics) results.push(await createOne(topic, request.validateOnly, counts.get(topic.name)! > 1, context));
    return { throttleTimeMs: 0, results };
  },
});
