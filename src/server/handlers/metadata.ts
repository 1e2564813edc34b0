/**
 * Metadata (3): every broker of the process, and the requested topics with each partition's
 * leader. Unknown topics are created when both the broker (auto.create.topics.enable) and the
 * request (allowAutoTopicCreation, v4+) allow it; the new topic is answered at once, with its
 * leaders, rather than with LEADER_NOT_AVAILABLE, since creation here is synchronous.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { MetadataRequest, MetadataResponse } from '../../protocol/generated/messages/index.js';
import type { MetadataResponseTopic } from '../../protocol/generated/messages/metadata-response.js';
import { ZERO_UUID } from '../../protocol/uuid.js';
import { CONTROLLER_NODE_ID } from '../controller.js';
import { topicNameError, type TopicState } from '../controller-state.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { internalTopicSpec, isInternalTopic } from '../../groups/internal-topics.js';

function describeTopic(topic: TopicState): MetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.map((partition, partitionIndex) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex,
      leaderId: partition.leader,
      leaderEpoch: partition.leaderEpoch,
      replicaNodes: [...partition.replicas],
      isrNodes: [...partition.isr],
      offlineReplicas: [],
    })),
  };
}

function missingTopic(errorCode: number, name: string | null, topicId = ZERO_UUID): MetadataResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [] };
}

async function lookupOrCreate(name: string, autoCreate: boolean, context: RequestContext): Promise<MetadataResponseTopic> {
  const { cluster } = context;
  const existing = cluster.controller.topic(name);
  if (existing) return describeTopic(existing);
  if (topicNameError(name)) return missingTopic(ErrorCode.INVALID_TOPIC_EXCEPTION, name);
  if (!autoCreate) return missingTopic(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name);
  // An internal topic named in a request is created as its coordinator would create it.
  const internal = internalTopicSpec(name, cluster.config);
  const created = await cluster.createTopic({ name, partitionCount: internal?.partitionCount ?? cluster.config.numPartitions, configs: internal?.configs ?? {} });
  if ('error' in created) {
    // Another request may have created it meanwhile; anything else is reported as is.
    const raced = cluster.controller.topic(name);
    return raced ? describeTopic(raced) : missingTopic(ErrorCode[created.error], name);
  }
  context.log.info({ topic: name, partitions: created.topic!.partitions.length }, 'topic auto-created');
  return describeTopic(created.topic!);
}

export const metadataHandler = defineHandler<MetadataRequest, MetadataResponse>({
  apiKey: 3,
  minVersion: 0,
  maxVersion: 12,
  async handle(request, context) {
    const { cluster, apiVersion } = context;
    // v0 has no null: an empty list means every topic. From v1, null means every topic.
    const everyTopic = request.topics === null || (apiVersion === 0 && request.topics.length === 0);
    const autoCreate = cluster.config.autoCreateTopicsEnable && (request.allowAutoTopicCreation ?? true);
    let topics: MetadataResponseTopic[];
    if (everyTopic) {
      topics = [...cluster.controller.topics()].map(describeTopic);
    } else {
      topics = [];
      for (const requested of request.topics!) {
        if (requested.name !== null) {
          topics.push(await lookupOrCreate(requested.name, autoCreate, context));
          continue;
        }
        const byId = requested.topicId === undefined ? undefined : cluster.controller.topicById(requested.topicId);
        topics.push(byId ? describeTopic(byId) : missingTopic(ErrorCode.UNKNOWN_TOPIC_ID, null, requested.topicId));
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: cluster.brokers.map((broker) => ({ nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: null })),
      clusterId: cluster.controller.clusterId,
      controllerId: CONTROLLER_NODE_ID,
      topics,
    };
  },
});
