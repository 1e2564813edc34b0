/**
 * A small admin client over the Kafka protocol, enough for `samsa group list` and `samsa group
 * describe`: it works against Samsa and against Kafka 2.8 or later. One connection per broker,
 * opened on first use; requests in the versions below (checked once against the bootstrap
 * broker's ApiVersions, so an older broker gets a clear message rather than garbage).
 *
 *   list groups:     Metadata (every broker) ─▶ ListGroups to each broker
 *   describe group:  FindCoordinator ─▶ DescribeGroups + OffsetFetch (all of the group's offsets)
 *                    at the coordinator ─▶ Metadata of the partitions involved ─▶ ListOffsets
 *                    (latest) to each partition's leader ─▶ rows with lag (consumer-lag.ts)
 *
 * Kafka errors become KafkaErrors; the coordinator lookup and the group calls are retried while
 * the error is one Kafka clients retry (the coordinator loading, moving or not yet elected),
 * until the client's timeout.
 */
import { ERRORS } from '../protocol/generated/error-codes.js';
import type {
  ApiVersionsResponse,
  DescribeGroupsResponse,
  FindCoordinatorResponse,
  ListGroupsResponse,
  ListOffsetsResponse,
  MetadataResponse,
  OffsetFetchResponse,
} from '../protocol/generated/messages/index.js';
import { ErrorCode, KafkaError } from '../protocol/kafka-error.js';
import { CONSUMER_PROTOCOL_TYPE, decodeConsumerAssignment } from '../groups/consumer-protocol.js';
import { COORDINATOR_KEY_GROUP } from '../groups/internal-topics.js';
import { partitionLags, type GroupMemberAssignment, type OffsetsByPartition, type PartitionLag, type TopicPartitions } from './consumer-lag.js';
import { KafkaConnection } from './kafka-connection.js';

/** API key -> the version this client speaks. */
const VERSIONS = {
  listOffsets: { apiKey: 2, version: 6 },
  metadata: { apiKey: 3, version: 9 },
  offsetFetch: { apiKey: 9, version: 7 },
  findCoordinator: { apiKey: 10, version: 3 },
  describeGroups: { apiKey: 15, version: 5 },
  listGroups: { apiKey: 16, version: 4 },
} as const;
const API_NAMES: Record<number, string> = { 2: 'ListOffsets', 3: 'Metadata', 9: 'OffsetFetch', 10: 'FindCoordinator', 15: 'DescribeGroups', 16: 'ListGroups' };
const API_VERSIONS = { apiKey: 18, version: 3 } as const;
const RETRY_BACKOFF_MS = 100;
const RETRIABLE_GROUP_ERRORS: ReadonlySet<number> = new Set([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR]);

export interface AdminOptions {
  /** host:port of any broker of the cluster. */
  readonly bootstrapServer: string;
  readonly clientId?: string;
  /** Bound on connecting, on each request, and on retries of one operation. Default 10 s. */
  readonly timeoutMs?: number;
}

export interface BrokerAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface ListedGroup {
  readonly groupId: string;
  /** Empty when the broker did not say (ListGroups before v4 does not). */
  readonly state: string;
  readonly protocolType: string;
  readonly coordinator: number;
}

export interface ConsumerGroupDescription {
  readonly groupId: string;
  /** Kafka's group states; "Dead" for a group the coordinator does not know. */
  readonly state: string;
  readonly protocolType: string;
  /** The assignor in use (the chosen protocol); empty unless the group is stable. */
  readonly protocol: string;
  readonly coordinator: BrokerAddress;
  readonly members: readonly GroupMemberAssignment[];
  /** Every partition a member holds or the group committed, with its offsets and lag. */
  readonly partitions: readonly PartitionLag[];
}

export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`expected host:port, got '${text}'`);
  return { host: match[1] ?? (match[2] || 'localhost'), port };
}

export function kafkaErrorFor(code: number, what: string): KafkaError {
  const info = ERRORS.find((each) => each.code === code);
  if (!info) return new KafkaError('UNKNOWN_SERVER_ERROR', `${what}: error code ${code}`);
  return new KafkaError(info.name, `${what}: ${info.message}`);
}

export class AdminClient {
  private readonly connections = new Map<string, Promise<KafkaConnection>>();
  private readonly timeoutMs: number;
  private readonly clientId: string;

  private constructor(private readonly bootstrap: { host: string; port: number }, options: AdminOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.clientId = options.clientId ?? 'samsa-admin';
  }

  /** Connects to the bootstrap broker and checks it speaks the versions this client uses. */
  static async connect(options: AdminOptions): Promise<AdminClient> {
    const client = new AdminClient(parseHostPort(options.bootstrapServer), options);
    try {
      const versions = await (await client.connection(client.bootstrap)).request<ApiVersionsResponse>(API_VERSIONS.apiKey, API_VERSIONS.version, { clientSoftwareName: 'samsa-admin', clientSoftwareVersion: '0.1.0' });
      if (versions.errorCode !== ErrorCode.NONE) throw kafkaErrorFor(versions.errorCode, 'ApiVersions');
      for (const { apiKey, version } of Object.values(VERSIONS)) {
        const range = versions.apiKeys.find((entry) => entry.apiKey === apiKey);
        if (!range || version < range.minVersion || version > range.maxVersion) {
          throw new Error(`the broker at ${options.bootstrapServer} does not speak ${API_NAMES[apiKey]} v${version}${range ? ` (it speaks v${range.minVersion}-${range.maxVersion})` : ''}`);
        }
      }
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** The brokers of the cluster (Metadata). */
  async brokers(): Promise<BrokerAddress[]> {
    const metadata = await this.metadata([]);
    return metadata.brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port })).sort((a, b) => a.nodeId - b.nodeId);
  }

  /** Every group of the cluster: ListGroups to each broker (each lists the groups it coordinates). */
  async listGroups(): Promise<ListedGroup[]> {
    const brokers = await this.brokers();
    const answers = await Promise.all(brokers.map(async (broker) => {
      const response = await (await this.connection(broker)).request<ListGroupsResponse>(VERSIONS.listGroups.apiKey, VERSIONS.listGroups.version, { statesFilter: [] });
      if (response.errorCode !== ErrorCode.NONE) throw kafkaErrorFor(response.errorCode, `ListGroups at broker ${broker.nodeId} (${broker.host}:${broker.port})`);
      return response.groups.map((group): ListedGroup => ({ groupId: group.groupId, state: group.groupState ?? '', protocolType: group.protocolType, coordinator: broker.nodeId }));
    }));
    return answers.flat().sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /** The broker coordinating a group (FindCoordinator, retried while the coordinator is not ready). */
  findCoordinator(groupId: string): Promise<BrokerAddress> {
    return this.retrying(async () => {
      const response = await (await this.connection(this.bootstrap)).request<FindCoordinatorResponse>(VERSIONS.findCoordinator.apiKey, VERSIONS.findCoordinator.version, { key: groupId, keyType: COORDINATOR_KEY_GROUP });
      const errorCode = response.errorCode ?? ErrorCode.NONE;
      if (errorCode !== ErrorCode.NONE) throw kafkaErrorFor(errorCode, `FindCoordinator for group '${groupId}'${response.errorMessage ? ` (${response.errorMessage})` : ''}`);
      return { nodeId: response.nodeId ?? -1, host: response.host ?? '', port: response.port ?? -1 };
    });
  }

  /**
   * A group's state, members (with their decoded assignments), committed offsets, log end
   * offsets and lag. A consumer group only: another protocol type (e.g. connect) is refused, as
   * Kafka's admin client does, since its assignments are not the consumer protocol's.
   */
  describeConsumerGroup(groupId: string): Promise<ConsumerGroupDescription> {
    return this.retrying(async () => {
      const coordinator = await this.findCoordinator(groupId);
      const connection = await this.connection(coordinator);
      const [described, offsets] = await Promise.all([
        connection.request<DescribeGroupsResponse>(VERSIONS.describeGroups.apiKey, VERSIONS.describeGroups.version, { groups: [groupId], includeAuthorizedOperations: false }),
        connection.request<OffsetFetchResponse>(VERSIONS.offsetFetch.apiKey, VERSIONS.offsetFetch.version, { groupId, topics: null, requireStable: false }),
      ]);
      const group = described.groups[0];
      if (!group) throw new Error(`DescribeGroups answered nothing for group '${groupId}'`);
      if (group.errorCode !== ErrorCode.NONE) throw kafkaErrorFor(group.errorCode, `DescribeGroups for group '${groupId}'`);
      if (offsets.errorCode !== undefined && offsets.errorCode !== ErrorCode.NONE) throw kafkaErrorFor(offsets.errorCode, `OffsetFetch for group '${groupId}'`);
      if (group.protocolType !== '' && group.protocolType !== CONSUMER_PROTOCOL_TYPE) {
        throw new Error(`group '${groupId}' is not a consumer group (protocol type '${group.protocolType}')`);
      }
      const members = group.members.map((member): GroupMemberAssignment => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId ?? null,
        clientId: member.clientId,
        clientHost: member.clientHost,
        assignment: decodeConsumerAssignment(member.memberAssignment).partitions,
      }));
      const committed = new Map<string, Map<number, bigint>>();
      for (const topic of offsets.topics ?? []) {
        for (const partition of topic.partitions) {
          if (partition.errorCode !== ErrorCode.NONE) throw kafkaErrorFor(partition.errorCode, `OffsetFetch for ${topic.name}-${partition.partitionIndex}`);
          if (partition.committedOffset < 0n) continue;
          setOffset(committed, topic.name, partition.partitionIndex, partition.committedOffset);
        }
      }
      const involved = new Map<string, Set<number>>();
      const add = (topic: string, partitions: Iterable<number>) => {
        let set = involved.get(topic);
        if (!set) involved.set(topic, (set = new Set()));
        for (const partition of partitions) set.add(partition);
      };
      for (const member of members) for (const entry of member.assignment) add(entry.topic, entry.partitions);
      for (const [topic, partitions] of committed) add(topic, partitions.keys());
      const logEnd = await this.logEndOffsets([...involved].map(([topic, partitions]) => ({ topic, partitions: [...partitions] })));
      return {
        groupId,
        state: group.groupState,
        protocolType: group.protocolType,
        protocol: group.protocolData,
        coordinator,
        members,
        partitions: partitionLags(members, committed, logEnd),
      };
    });
  }

  /**
   * Each partition's log end offset (ListOffsets latest, at its leader). A partition whose
   * topic or leader is gone, or whose leader answers an error, is left out (unknown).
   */
  async logEndOffsets(partitions: readonly TopicPartitions[]): Promise<OffsetsByPartition> {
    const result = new Map<string, Map<number, bigint>>();
    if (partitions.length === 0) return result;
    const metadata = await this.metadata(partitions.map((entry) => entry.topic));
    const brokers = new Map(metadata.brokers.map((broker) => [broker.nodeId, broker]));
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const { topic, partitions: wanted } of partitions) {
      const known = metadata.topics.find((entry) => entry.name === topic);
      if (!known || known.errorCode !== ErrorCode.NONE) continue;
      for (const partition of wanted) {
        const leader = known.partitions.find((entry) => entry.partitionIndex === partition)?.leaderId ?? -1;
        if (!brokers.has(leader)) continue;
        let topics = byLeader.get(leader);
        if (!topics) byLeader.set(leader, (topics = new Map()));
        topics.set(topic, [...(topics.get(topic) ?? []), partition]);
      }
    }
    await Promise.all([...byLeader].map(async ([leader, topics]) => {
      const response = await (await this.connection(brokers.get(leader)!)).request<ListOffsetsResponse>(VERSIONS.listOffsets.apiKey, VERSIONS.listOffsets.version, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [...topics].map(([name, indexes]) => ({ name, partitions: indexes.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1n })) })),
      });
      for (const topic of response.topics) {
        for (const partition of topic.partitions) {
          if (partition.errorCode === ErrorCode.NONE && partition.offset !== undefined && partition.offset >= 0n) setOffset(result, topic.name, partition.partitionIndex, partition.offset);
        }
      }
    }));
    return result;
  }

  close(): void {
    for (const connection of this.connections.values()) connection.then((open) => open.close(), () => undefined);
    this.connections.clear();
  }

  private metadata(topics: readonly string[]): Promise<MetadataResponse> {
    return this.connection(this.bootstrap).then((connection) => connection.request<MetadataResponse>(VERSIONS.metadata.apiKey, VERSIONS.metadata.version, {
      topics: topics.map((name) => ({ name })),
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    }));
  }

  /** The open connection to a broker, opened on first use (and again after it failed). */
  private connection(broker: { host: string; port: number }): Promise<KafkaConnection> {
    const key = `${broker.host}:${broker.port}`;
    const existing = this.connections.get(key);
    if (existing) {
      return existing.then((open) => {
        if (open.isOpen) return open;
        this.connections.delete(key);
        return this.connection(broker);
      });
    }
    const opening = KafkaConnection.connect({ host: broker.host, port: broker.port, clientId: this.clientId, timeoutMs: this.timeoutMs });
    this.connections.set(key, opening);
    opening.catch(() => this.connections.delete(key));
    return opening;
  }

  /** Runs `operation` again (after a short pause) while it fails with an error Kafka clients retry. */
  private async retrying<T>(operation: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        return await operation();
      } catch (error) {
        const retriable = error instanceof KafkaError && RETRIABLE_GROUP_ERRORS.has(error.code);
        if (!retriable || Date.now() + RETRY_BACKOFF_MS > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS));
      }
    }
  }
}

function setOffset(map: Map<string, Map<number, bigint>>, topic: string, partition: number, offset: bigint): void {
  let partitions = map.get(topic);
  if (!partitions) map.set(topic, (partitions = new Map()));
  partitions.set(partition, offset);
}
