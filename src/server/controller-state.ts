/**
 * The cluster's topic metadata as a pure state machine: no I/O, no clock, no randomness (ids
 * are passed in). The controller (controller.ts) persists each record before applying it, and a
 * restart replays the records in order to the same state.
 *
 *   command (create topic, delete topic, add partitions, set configs)
 *     --plan*--> records or a Kafka error --apply--> new state
 *
 * A plan function validates a command against the current state and returns the records that
 * carry it out; `applyRecord` is the only thing that changes state, so replaying the metadata
 * log and running live go through the same code.
 */
import type { ErrorCodeName } from '../protocol/kafka-error.js';

export interface PartitionAssignment {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export interface TopicState {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: readonly PartitionAssignment[];
  /** Topic configs set explicitly (Kafka names); the rest come from broker defaults. */
  readonly configs: Readonly<Record<string, string>>;
}

export type MetadataRecord =
  | { readonly type: 'cluster-created'; readonly clusterId: string }
  | { readonly type: 'topic-created'; readonly name: string; readonly topicId: string; readonly leaders: readonly number[]; readonly configs: Readonly<Record<string, string>> }
  | { readonly type: 'leaders-changed'; readonly name: string; readonly leaders: Readonly<Record<string, number>> }
  | { readonly type: 'topic-deleted'; readonly name: string; readonly topicId: string }
  /** New partitions appended to a topic, numbered from its current count, with their leaders. */
  | { readonly type: 'partitions-created'; readonly name: string; readonly leaders: readonly number[] }
  /** Replaces the topic's explicit configs as a whole (the rest fall back to broker defaults). */
  | { readonly type: 'topic-configs-changed'; readonly name: string; readonly configs: Readonly<Record<string, string>> };

export interface ControllerState {
  readonly clusterId: string | undefined;
  readonly topics: ReadonlyMap<string, TopicState>;
  /** Round robin cursor: the broker that leads the next partition created. */
  readonly nextLeader: number;
  /**
   * Names of deleted topics not created again since. A partition directory left on disk under
   * one of these names (a crash between the metadata record and the deletion of the logs) is
   * removed at start; a directory the metadata log knows nothing about is left alone.
   */
  readonly deletedTopicNames: ReadonlySet<string>;
}

export const EMPTY_CONTROLLER_STATE: ControllerState = { clusterId: undefined, topics: new Map(), nextLeader: 0, deletedTopicNames: new Set() };

/**
 * Most partitions one topic may have. Kafka sets no such limit, but every partition costs
 * directories and open files, so a typo (1000000 for 10) is refused with INVALID_PARTITIONS.
 */
export const PARTITIONS_PER_TOPIC_MAX = 10_000;

/** Kafka's rules for topic names (Topic.validate): length, characters, no "." or "..". */
const TOPIC_NAME_BYTES_MAX = 249;
const TOPIC_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

export function topicNameError(name: string): string | undefined {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > TOPIC_NAME_BYTES_MAX) return `topic name is longer than ${TOPIC_NAME_BYTES_MAX} characters`;
  if (!TOPIC_NAME_PATTERN.test(name)) return `topic name "${name}" has characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return undefined;
}

function assignment(leader: number, leaderEpoch: number): PartitionAssignment {
  // Replication comes later: every partition has one replica, its leader.
  return { leader, leaderEpoch, replicas: [leader], isr: [leader] };
}

export function applyRecord(state: ControllerState, record: MetadataRecord): ControllerState {
  switch (record.type) {
    case 'cluster-created':
      return { ...state, clusterId: record.clusterId };
    case 'topic-created': {
      const topics = new Map(state.topics);
      topics.set(record.name, {
        name: record.name,
        topicId: record.topicId,
        partitions: record.leaders.map((leader) => assignment(leader, 0)),
        configs: { ...record.configs },
      });
      const last = record.leaders[record.leaders.length - 1];
      const deletedTopicNames = new Set(state.deletedTopicNames);
      deletedTopicNames.delete(record.name);
      return { ...state, topics, nextLeader: last === undefined ? state.nextLeader : last + 1, deletedTopicNames };
    }
    case 'leaders-changed': {
      const topic = state.topics.get(record.name);
      if (!topic) return state;
      const partitions = topic.partitions.map((partition, index) => {
        const leader = record.leaders[String(index)];
        return leader === undefined ? partition : assignment(leader, partition.leaderEpoch + 1);
      });
      const topics = new Map(state.topics);
      topics.set(record.name, { ...topic, partitions });
      return { ...state, topics };
    }
    case 'topic-deleted': {
      const topic = state.topics.get(record.name);
      if (!topic || topic.topicId !== record.topicId) return state;
      const topics = new Map(state.topics);
      topics.delete(record.name);
      return { ...state, topics, deletedTopicNames: new Set(state.deletedTopicNames).add(record.name) };
    }
    case 'partitions-created': {
      const topic = state.topics.get(record.name);
      if (!topic) return state;
      const topics = new Map(state.topics);
      topics.set(record.name, { ...topic, partitions: [...topic.partitions, ...record.leaders.map((leader) => assignment(leader, 0))] });
      const last = record.leaders[record.leaders.length - 1];
      return { ...state, topics, nextLeader: last === undefined ? state.nextLeader : last + 1 };
    }
    case 'topic-configs-changed': {
      const topic = state.topics.get(record.name);
      if (!topic) return state;
      const topics = new Map(state.topics);
      topics.set(record.name, { ...topic, configs: { ...record.configs } });
      return { ...state, topics };
    }
  }
}

export type PlanResult = { readonly records: MetadataRecord[] } | { readonly error: ErrorCodeName; readonly message: string };

export interface CreateTopicCommand {
  readonly name: string;
  readonly topicId: string;
  /** Leaders given by the client (CreateTopics assignments), else spread round robin. */
  readonly leaders?: readonly number[];
  readonly partitionCount: number;
  readonly configs: Readonly<Record<string, string>>;
}

/**
 * Validates a topic creation and chooses its leaders. Config values are validated by the caller
 * (they need the broker's defaults); everything about names and placement is checked here.
 */
export function planCreateTopic(state: ControllerState, command: CreateTopicCommand, brokerCount: number): PlanResult {
  const nameError = topicNameError(command.name);
  if (nameError) return { error: 'INVALID_TOPIC_EXCEPTION', message: nameError };
  if (state.topics.has(command.name)) return { error: 'TOPIC_ALREADY_EXISTS', message: `topic '${command.name}' already exists` };
  // Kafka refuses names that differ only by '.' vs '_': both map to the same metric names.
  const collisionKey = command.name.replaceAll('.', '_');
  for (const existing of state.topics.keys()) {
    if (existing.replaceAll('.', '_') === collisionKey) return { error: 'INVALID_TOPIC_EXCEPTION', message: `topic '${command.name}' collides with existing topic '${existing}'` };
  }
  let leaders: number[];
  if (command.leaders) {
    leaders = [...command.leaders];
    if (leaders.length === 0) return { error: 'INVALID_REPLICA_ASSIGNMENT', message: 'no partitions in the assignment' };
    const invalid = leaders.find((leader) => !Number.isInteger(leader) || leader < 0 || leader >= brokerCount);
    if (invalid !== undefined) return { error: 'INVALID_REPLICA_ASSIGNMENT', message: `broker ${invalid} does not exist` };
  } else {
    if (!Number.isInteger(command.partitionCount) || command.partitionCount < 1) return { error: 'INVALID_PARTITIONS', message: `number of partitions must be at least 1, got ${command.partitionCount}` };
    if (command.partitionCount > PARTITIONS_PER_TOPIC_MAX) return tooManyPartitions(command.partitionCount);
    leaders = roundRobin(state, command.partitionCount, brokerCount);
  }
  if (leaders.length > PARTITIONS_PER_TOPIC_MAX) return tooManyPartitions(leaders.length);
  return { records: [{ type: 'topic-created', name: command.name, topicId: command.topicId, leaders, configs: { ...command.configs } }] };
}

function roundRobin(state: ControllerState, count: number, brokerCount: number): number[] {
  return Array.from({ length: count }, (_, index) => (state.nextLeader + index) % brokerCount);
}

function tooManyPartitions(count: number): PlanResult {
  return { error: 'INVALID_PARTITIONS', message: `number of partitions must be at most ${PARTITIONS_PER_TOPIC_MAX}, got ${count}` };
}

function unknownTopic(name: string): PlanResult {
  return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `topic '${name}' does not exist` };
}

/** Removes a topic from the metadata; the caller then deletes its partition logs. */
export function planDeleteTopic(state: ControllerState, name: string): PlanResult {
  const topic = state.topics.get(name);
  if (!topic) return unknownTopic(name);
  return { records: [{ type: 'topic-deleted', name, topicId: topic.topicId }] };
}

export interface CreatePartitionsCommand {
  readonly name: string;
  /** The topic's new partition count (Kafka's CreatePartitions gives the total, not the increase). */
  readonly partitionCount: number;
  /** Leaders of the new partitions only (the client's assignments), else spread round robin. */
  readonly leaders?: readonly number[];
}

/**
 * Adds partitions to a topic: grow only, as in Kafka (shrinking would lose records and move
 * keys). New partitions continue the round robin cursor, like a topic creation.
 *
 *   topic with 2 partitions, partitionCount 5, nextLeader 1, 2 brokers
 *     -> partitions-created, leaders [1, 0, 1] for partitions 2, 3, 4
 */
export function planCreatePartitions(state: ControllerState, command: CreatePartitionsCommand, brokerCount: number): PlanResult {
  const topic = state.topics.get(command.name);
  if (!topic) return unknownTopic(command.name);
  const current = topic.partitions.length;
  const requested = command.partitionCount;
  if (!Number.isInteger(requested) || requested < current) {
    return { error: 'INVALID_PARTITIONS', message: `topic currently has ${current} partitions, which is higher than the requested ${requested}` };
  }
  if (requested === current) return { error: 'INVALID_PARTITIONS', message: `topic already has ${current} partitions` };
  if (requested > PARTITIONS_PER_TOPIC_MAX) return tooManyPartitions(requested);
  const added = requested - current;
  let leaders: number[];
  if (command.leaders) {
    if (command.leaders.length !== added) {
      return { error: 'INVALID_REPLICA_ASSIGNMENT', message: `increasing the number of partitions by ${added} but ${command.leaders.length} assignments provided` };
    }
    const invalid = command.leaders.find((leader) => !Number.isInteger(leader) || leader < 0 || leader >= brokerCount);
    if (invalid !== undefined) return { error: 'INVALID_REPLICA_ASSIGNMENT', message: `broker ${invalid} does not exist` };
    leaders = [...command.leaders];
  } else {
    leaders = roundRobin(state, added, brokerCount);
  }
  return { records: [{ type: 'partitions-created', name: command.name, leaders }] };
}

/**
 * Replaces a topic's explicit configs. Names and values are validated by the caller, which
 * knows the broker's defaults (as for planCreateTopic).
 */
export function planAlterTopicConfigs(state: ControllerState, name: string, configs: Readonly<Record<string, string>>): PlanResult {
  if (!state.topics.has(name)) return unknownTopic(name);
  return { records: [{ type: 'topic-configs-changed', name, configs: { ...configs } }] };
}

/**
 * After a restart with fewer brokers, partitions led by a broker that no longer exists move to
 * one that does (same round robin as creation), with a new leader epoch.
 */
export function planReassignMissingLeaders(state: ControllerState, brokerCount: number): MetadataRecord[] {
  const records: MetadataRecord[] = [];
  for (const topic of state.topics.values()) {
    const leaders: Record<string, number> = {};
    topic.partitions.forEach((partition, index) => {
      if (partition.leader >= brokerCount) leaders[String(index)] = index % brokerCount;
    });
    if (Object.keys(leaders).length > 0) records.push({ type: 'leaders-changed', name: topic.name, leaders });
  }
  return records;
}
