/**
 * CreateTopics (19): validates each topic (name, partition count, replication factor, replica
 * assignment, configs) and creates it through the controller, or only validates it
 * (validateOnly). Each topic succeeds or fails on its own, with the error Kafka would give.
 *
 * Replication comes later: a replication factor up to the number of brokers is accepted, but
 * each partition gets one replica, its leader, and the answer reports that factor (1).
 */
import { ErrorCode, type ErrorCodeName } from '../../protocol/generated/error-codes.js';
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../protocol/generated/messages/index.js';
import type { CreatableTopic } from '../../protocol/generated/messages/create-topics-request.js';
import type { CreatableTopicResult } from '../../protocol/generated/messages/create-topics-response.js';
import { topicLogConfig } from '../broker-config.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { describeTopicConfigs } from '../described-configs.js';

type Checked = { leaders?: number[]; partitionCount: number; configs: Record<string, string> } | { error: ErrorCodeName; message: string };

function check(topic: CreatableTopic, context: RequestContext): Checked {
  const { config, brokers } = context.cluster;
  const configs: Record<string, string> = {};
  for (const entry of topic.configs) {
    if (entry.value === null) return { error: 'INVALID_CONFIG', message: `null value for config ${entry.name}` };
    configs[entry.name] = entry.value;
  }
  try {
    topicLogConfig(config, configs);
  } catch (error) {
    return { error: 'INVALID_CONFIG', message: (error as Error).message };
  }
  if (topic.assignments.length > 0) {
    if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
      return { error: 'INVALID_REQUEST', message: 'both numPartitions or replicationFactor and replicasAssignments were set; only one is allowed' };
    }
    const sorted = [...topic.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
    if (sorted.some((entry, index) => entry.partitionIndex !== index)) return { error: 'INVALID_REPLICA_ASSIGNMENT', message: 'partitions must be numbered 0 to n-1' };
    if (sorted.some((entry) => entry.brokerIds.length === 0 || new Set(entry.brokerIds).size !== entry.brokerIds.length)) {
      return { error: 'INVALID_REPLICA_ASSIGNMENT', message: 'each partition needs distinct replicas' };
    }
    return { leaders: sorted.map((entry) => entry.brokerIds[0]!), partitionCount: sorted.length, configs };
  }
  const partitionCount = topic.numPartitions === -1 ? config.numPartitions : topic.numPartitions;
  if (partitionCount < 1) return { error: 'INVALID_PARTITIONS', message: `number of partitions must be larger than 0, got ${topic.numPartitions}` };
  const replicationFactor = topic.replicationFactor === -1 ? config.defaultReplicationFactor : topic.replicationFactor;
  if (replicationFactor < 1) return { error: 'INVALID_REPLICATION_FACTOR', message: `replication factor must be larger than 0, got ${topic.replicationFactor}` };
  if (replicationFactor > brokers.length) {
    return { error: 'INVALID_REPLICATION_FACTOR', message: `replication factor ${replicationFactor} larger than available brokers ${brokers.length}` };
  }
  return { partitionCount, configs };
}

async function createOne(topic: CreatableTopic, validateOnly: boolean, duplicated: boolean, context: RequestContext): Promise<CreatableTopicResult> {
  const failed = (error: ErrorCodeName, message: string): CreatableTopicResult =>
    ({ name: topic.name, errorCode: ErrorCode[error], errorMessage: message, numPartitions: -1, replicationFactor: -1, configs: null });
  if (duplicated) return failed('INVALID_REQUEST', `topic ${topic.name} appears more than once in the request`);
  const checked = check(topic, context);
  if ('error' in checked) return failed(checked.error, checked.message);
  const created = await context.cluster.createTopic({ name: topic.name, partitionCount: checked.partitionCount, leaders: checked.leaders, configs: checked.configs }, validateOnly);
  if ('error' in created) return failed(created.error, created.message);
  const { config } = context.cluster;
  if (!validateOnly) context.log.info({ topic: topic.name, partitions: checked.partitionCount }, 'topic created');
  return {
    name: topic.name,
    topicId: created.topic?.topicId,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    numPartitions: checked.partitionCount,
    replicationFactor: 1,
    configs: describeTopicConfigs(config, topicLogConfig(config, checked.configs), checked.configs),
  };
}

export const createTopicsHandler = defineHandler<CreateTopicsRequest, CreateTopicsResponse>({
  apiKey: 19,
  minVersion: 2,
  maxVersion: 7,
  async handle(request, context) {
    const counts = new Map<string, number>();
    for (const topic of request.topics) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
    const validateOnly = request.validateOnly ?? false;
    const topics: CreatableTopicResult[] = [];
    // One at a time: each creation is planned against the state the previous one left.
    for (const topic of request.topics) topics.push(await createOne(topic, validateOnly, counts.get(topic.name)! > 1, context));
    return { throttleTimeMs: 0, topics };
  },
});
