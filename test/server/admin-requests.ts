/** Admin request bodies for the raw client (DeleteTopics, CreatePartitions, configs, DeleteRecords, DescribeCluster). */
import type {
  AlterConfigsResponse, CreatePartitionsResponse, DeleteRecordsResponse, DeleteTopicsResponse, DescribeClusterResponse,
  DescribeConfigsResponse, IncrementalAlterConfigsResponse,
} from '../../src/protocol/generated/messages/index.js';
import { ConfigResourceType } from '../../src/server/config-resources.js';
import type { RawKafkaClient } from './raw-kafka-client.js';

export const TOPIC = ConfigResourceType.TOPIC;
export const BROKER = ConfigResourceType.BROKER;

export function deleteTopics(client: RawKafkaClient, names: string[], version = 5): Promise<DeleteTopicsResponse> {
  return client.request<DeleteTopicsResponse>(20, version, { topicNames: names, timeoutMs: 5000 });
}

export function deleteTopicsV6(client: RawKafkaClient, topics: { name: string | null; topicId?: string }[]): Promise<DeleteTopicsResponse> {
  return client.request<DeleteTopicsResponse>(20, 6, { topics: topics.map((topic) => ({ name: topic.name, topicId: topic.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA' })), timeoutMs: 5000 });
}

export function createPartitions(client: RawKafkaClient, topics: { name: string; count: number; assignments?: number[][] }[], validateOnly = false, version = 3): Promise<CreatePartitionsResponse> {
  return client.request<CreatePartitionsResponse>(37, version, {
    topics: topics.map((topic) => ({ name: topic.name, count: topic.count, assignments: topic.assignments?.map((brokerIds) => ({ brokerIds })) ?? null })),
    timeoutMs: 5000,
    validateOnly,
  });
}

export interface DescribeOptions {
  includeSynonyms?: boolean;
  includeDocumentation?: boolean;
  version?: number;
}

export function describeConfigs(client: RawKafkaClient, resources: { type: number; name: string; keys?: string[] | null }[], options: DescribeOptions = {}): Promise<DescribeConfigsResponse> {
  const version = options.version ?? 4;
  return client.request<DescribeConfigsResponse>(32, version, {
    resources: resources.map((resource) => ({ resourceType: resource.type, resourceName: resource.name, configurationKeys: resource.keys ?? null })),
    includeSynonyms: options.includeSynonyms ?? false,
    includeDocumentation: version >= 3 ? options.includeDocumentation ?? false : false,
  });
}

export function alterConfigs(client: RawKafkaClient, resources: { type: number; name: string; configs: Record<string, string | null> }[], validateOnly = false, version = 2): Promise<AlterConfigsResponse> {
  return client.request<AlterConfigsResponse>(33, version, {
    resources: resources.map((resource) => ({
      resourceType: resource.type,
      resourceName: resource.name,
      configs: Object.entries(resource.configs).map(([name, value]) => ({ name, value })),
    })),
    validateOnly,
  });
}

export type Operation = [name: string, operation: number, value: string | null];

export function incrementalAlterConfigs(client: RawKafkaClient, resources: { type: number; name: string; operations: Operation[] }[], validateOnly = false, version = 1): Promise<IncrementalAlterConfigsResponse> {
  return client.request<IncrementalAlterConfigsResponse>(44, version, {
    resources: resources.map((resource) => ({
      resourceType: resource.type,
      resourceName: resource.name,
      configs: resource.operations.map(([name, configOperation, value]) => ({ name, configOperation, value })),
    })),
    validateOnly,
  });
}

export function deleteRecords(client: RawKafkaClient, topic: string, partitions: [partition: number, offset: bigint][], version = 2): Promise<DeleteRecordsResponse> {
  return client.request<DeleteRecordsResponse>(21, version, {
    topics: [{ name: topic, partitions: partitions.map(([partitionIndex, offset]) => ({ partitionIndex, offset })) }],
    timeoutMs: 5000,
  });
}

export function describeCluster(client: RawKafkaClient, options: { includeClusterAuthorizedOperations?: boolean; endpointType?: number; version?: number } = {}): Promise<DescribeClusterResponse> {
  const version = options.version ?? 1;
  return client.request<DescribeClusterResponse>(60, version, {
    includeClusterAuthorizedOperations: options.includeClusterAuthorizedOperations ?? false,
    endpointType: version >= 1 ? options.endpointType ?? 1 : undefined,
  });
}
