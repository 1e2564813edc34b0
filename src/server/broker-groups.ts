/**
 * A broker's side of consumer groups: the coordinator actors it runs (one child actor per
 * __consumer_offsets partition it leads, started when it starts leading it), and the way its
 * request handlers reach them: a call goes to the coordinator's mailbox from the broker actor,
 * and the answer comes back as a message to the broker actor (broker-actor.ts hands it here).
 *
 * A group's coordinator is the leader of partition abs(hashCode(group)) % partitions; a call
 * for a group coordinated elsewhere is answered NOT_COORDINATOR, and one before the topic
 * exists COORDINATOR_NOT_AVAILABLE, so clients look the coordinator up again (FindCoordinator).
 */
import type { Logger } from 'pino';
import type { PartitionLog } from '../log/partition-log.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import type { ActorFactory, Address } from '../runtime/actor.js';
import { PendingReplies } from '../runtime/pending-replies.js';
import { coordinatorActor, type CoordinatorActorArgs } from '../groups/coordinator-actor.js';
import type { GroupAnswer, GroupCall, ToCoordinator } from '../groups/group-calls.js';
import { internalTopicSpec, OFFSETS_TOPIC, partitionForKey, topicForKeyType } from '../groups/internal-topics.js';
import type { BrokerConfig } from './broker-config.js';
import type { CommandResult } from './cluster-messages.js';
import type { CreateTopicCommand, TopicState } from './controller-state.js';
import type { BrokerEndpoint, MetadataView } from './handler.js';

/** What BrokerGroups needs from its broker. */
export interface GroupHost {
  readonly nodeId: number;
  readonly config: BrokerConfig;
  readonly controller: MetadataView;
  readonly brokers: readonly BrokerEndpoint[];
  readonly log: Logger;
  createTopic(command: Omit<CreateTopicCommand, 'topicId'>): Promise<CommandResult>;
  /** Appends through the partition's leader actor (partition-leaders.ts). */
  appendRecords(topic: string, partition: number, records: Uint8Array): Promise<unknown>;
  /** The broker actor's own capabilities: children on its thread, and sends as itself. */
  spawnChild(factory: ActorFactory, args: unknown): Address;
  stopChild(id: Address): Promise<void>;
  send(to: Address, body: unknown): Promise<void>;
}

export type CallOutcome = GroupAnswer | { readonly op: 'error'; readonly errorCode: number };

export interface CoordinatorLocation {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly node: BrokerEndpoint | undefined;
}

export class BrokerGroups {
  private readonly coordinators = new Map<number, Address>();
  private readonly pending = new PendingReplies<CallOutcome>();

  constructor(private readonly host: GroupHost) {}

  /** The node coordinating `key` (creating the internal topic on first use). */
  async findCoordinator(key: string, keyType: number): Promise<CoordinatorLocation> {
    const topicName = topicForKeyType(keyType);
    if (topicName === undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unknown coordinator key type ${keyType}`, node: undefined };
    let topic = this.host.controller.topic(topicName);
    if (!topic) {
      const spec = internalTopicSpec(topicName, this.host.config)!;
      const created = await this.host.createTopic({ name: topicName, partitionCount: spec.partitionCount, configs: spec.configs });
      topic = this.host.controller.topic(topicName);
      if (!topic) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'error' in created ? created.message ?? created.error : null, node: undefined };
      this.host.log.info({ topic: topicName, partitions: topic.partitions.length }, 'internal topic created');
    }
    const leader = topic.partitions[partitionForKey(key, topic.partitions.length)]!.leader;
    const node = this.host.brokers.find((broker) => broker.nodeId === leader);
    if (!node) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: `broker ${leader} is not available`, node: undefined };
    return { errorCode: ErrorCode.NONE, errorMessage: null, node };
  }

  /** Sends a call to the coordinator of `groupId`, if this broker runs it. */
  call(groupId: string, call: GroupCall): Promise<CallOutcome> {
    const topic = this.host.controller.topic(OFFSETS_TOPIC);
    if (!topic) return Promise.resolve({ op: 'error', errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE });
    const partition = partitionForKey(groupId, topic.partitions.length);
    if (topic.partitions[partition]!.leader !== this.host.nodeId) return Promise.resolve({ op: 'error', errorCode: ErrorCode.NOT_COORDINATOR });
    const address = this.coordinators.get(partition);
    if (address === undefined) return Promise.resolve({ op: 'error', errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS });
    return this.send(address, call);
  }

  /** The same call to every coordinator this broker runs (ListGroups). */
  callEach(call: GroupCall): Promise<CallOutcome[]> {
    return Promise.all([...this.coordinators.values()].map((address) => this.send(address, call)));
  }

  /** An answer from a coordinator (a message to the broker actor). */
  answer(requestId: number, answer: GroupAnswer): void {
    this.pending.settle(requestId, answer);
  }

  /** Starts the coordinator of a partition of __consumer_offsets this broker now leads. */
  lead(topic: TopicState, partition: number, log: PartitionLog): void {
    if (topic.name !== OFFSETS_TOPIC || this.coordinators.has(partition)) return;
    const groups = this.host.config.groups;
    const args: CoordinatorActorArgs = {
      partition,
      log,
      settings: {
        minSessionTimeoutMs: groups.minSessionTimeoutMs,
        maxSessionTimeoutMs: groups.maxSessionTimeoutMs,
        initialRebalanceDelayMs: groups.initialRebalanceDelayMs,
        maxSize: groups.maxSize,
        offsetsRetentionMs: groups.offsetsRetentionMs,
        offsetMetadataMaxBytes: groups.offsetMetadataMaxBytes,
      },
      retentionCheckIntervalMs: groups.offsetsRetentionCheckIntervalMs,
      append: (batch) => this.host.appendRecords(OFFSETS_TOPIC, partition, batch),
    };
    this.coordinators.set(partition, this.host.spawnChild(coordinatorActor, args));
  }

  /** A topic gained partitions: groups subscribed to it rebalance. */
  topicGrew(topic: string): void {
    if (topic === OFFSETS_TOPIC) return;
    for (const address of this.coordinators.values()) void this.host.send(address, { type: 'topic-grew', topic } satisfies ToCoordinator);
  }

  /** Stops the coordinator of a partition (its topic was deleted). */
  async forget(partition: number): Promise<void> {
    const address = this.coordinators.get(partition);
    if (address === undefined) return;
    this.coordinators.delete(partition);
    await this.host.stopChild(address);
  }

  /** Stops every coordinator (held joins and syncs are answered NOT_COORDINATOR). */
  async stop(): Promise<void> {
    const addresses = [...this.coordinators.values()];
    this.coordinators.clear();
    await Promise.all(addresses.map((address) => this.host.stopChild(address)));
    this.pending.settleAll({ op: 'error', errorCode: ErrorCode.NOT_COORDINATOR });
  }

  private send(address: Address, call: GroupCall): Promise<CallOutcome> {
    return this.pending.request((requestId) => this.host.send(address, { type: 'call', requestId, call } satisfies ToCoordinator));
  }

}
