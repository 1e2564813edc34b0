/** Request bodies for the raw client, with the defaults a consumer or producer would send. */
import type { CreateTopicsResponse, FetchResponse, ListOffsetsResponse, MetadataResponse, ProduceResponse } from '../../src/protocol/generated/messages/index.js';
import type { RawKafkaClient } from './raw-kafka-client.js';

export function createTopics(client: RawKafkaClient, topics: { name: string; numPartitions?: number; replicationFactor?: number; configs?: Record<string, string | null>; assignments?: number[][] }[], validateOnly = false, version = 7): Promise<CreateTopicsResponse> {
  return client.request<CreateTopicsResponse>(19, version, {
    topics: topics.map((topic) => ({
      name: topic.name,
      numPartitions: topic.numPartitions ?? (topic.assignments ? -1 : 1),
      replicationFactor: topic.replicationFactor ?? -1,
      assignments: (topic.assignments ?? []).map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
      configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
    timeoutMs: 5000,
    validateOnly,
  });
}

export function metadata(client: RawKafkaClient, topics: string[] | null, allowAutoTopicCreation = true, version = 12): Promise<MetadataResponse> {
  return client.request<MetadataResponse>(3, version, { topics: topics?.map((name) => ({ name })) ?? null, allowAutoTopicCreation });
}

export function produce(client: RawKafkaClient, topic: string, partition: number, records: Uint8Array | null, acks = 1, version = 9): Promise<ProduceResponse> {
  return client.request<ProduceResponse>(0, version, { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
}

export interface FetchOptions {
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  partitionMaxBytes?: number;
  isolationLevel?: number;
  version?: number;
  sessionId?: number;
}

export function fetch(client: RawKafkaClient, partitions: { topic: string; partition: number; offset: number }[], options: FetchOptions = {}): Promise<FetchResponse> {
  const topics = [...new Set(partitions.map((entry) => entry.topic))].map((topic) => ({
    topic,
    partitions: partitions.filter((entry) => entry.topic === topic).map((entry) => ({
      partition: entry.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(entry.offset), logStartOffset: -1n, partitionMaxBytes: options.partitionMaxBytes ?? 1 << 20,
    })),
  }));
  return client.request<FetchResponse>(1, options.version ?? 11, {
    replicaId: -1, maxWaitMs: options.maxWaitMs ?? 0, minBytes: options.minBytes ?? 1, maxBytes: options.maxBytes ?? 50 << 20,
    isolationLevel: options.isolationLevel ?? 1, sessionId: options.sessionId ?? 0, sessionEpoch: -1, topics, forgottenTopicsData: [], rackId: '',
  });
}

export function listOffsets(client: RawKafkaClient, topic: string, partition: number, timestamp: bigint, version = 7): Promise<ListOffsetsResponse> {
  return client.request<ListOffsetsResponse>(2, version, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp }] }] });
}
