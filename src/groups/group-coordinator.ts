/**
 * The group coordinator of one __consumer_offsets partition: the groups hashed to it (each a
 * ClassicGroup state machine) and their committed offsets, rebuilt from the partition on load
 * and written back to it. I/O comes in through CoordinatorIo (append records, the time, fresh
 * ids); the actor around it (coordinator-actor.ts) owns the mailbox and the timers.
 *
 * Nothing is acknowledged before it is written: a commit is answered once its records are
 * appended, a SyncGroup that completes a rebalance once the group's metadata is, and the
 * in-memory offsets change only after the append succeeded.
 */
import type { Logger } from 'pino';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { ClassicGroup, type GroupEffect, type GroupSettings, type StoredGroup } from './classic-group.js';
import type { FetchedOffset, GroupAnswer, GroupCall, GroupDescription, ListedGroup, PartitionError, TopicPartitions } from './group-calls.js';
import { GroupOffsets, type OffsetKey } from './group-offsets.js';
import {
  decodeGroupValue,
  decodeOffsetsKey,
  decodeOffsetValue,
  groupKeyBytes,
  groupValueBytes,
  offsetKeyBytes,
  offsetValueBytes,
  type OffsetsRecord,
} from './offsets-records.js';

export interface CoordinatorSettings extends GroupSettings {
  /** offsets.retention.minutes, in ms. */
  readonly offsetsRetentionMs: number;
  /** offset.metadata.max.bytes */
  readonly offsetMetadataMaxBytes: number;
}

export interface CoordinatorIo {
  /** Appends records to the partition; rejects with a KafkaError when they were not written. */
  append(records: readonly OffsetsRecord[]): Promise<void>;
  now(): number;
  /** A fresh unique string for new member ids. */
  uniqueSuffix(): string;
  readonly log: Logger;
}

type Respond = (answer: GroupAnswer) => void;

export class GroupCoordinator {
  readonly groups = new Map<string, ClassicGroup>();
  readonly offsets = new GroupOffsets();
  private readonly held = new Map<number, Respond>();
  private nextReply = 1;

  constructor(private readonly settings: CoordinatorSettings, private readonly io: CoordinatorIo) {}

  /** Replays the partition's records (oldest first) into groups and offsets. */
  load(records: Iterable<OffsetsRecord>): void {
    const stored = new Map<string, StoredGroup>();
    for (const record of records) {
      const key = decodeOffsetsKey(record.key);
      if (!key) continue;
      if (key.kind === 'offset') {
        if (record.value === null) {
          this.offsets.delete(key.group, key.topic, key.partition);
          continue;
        }
        const value = decodeOffsetValue(record.value);
        this.offsets.set(key.group, key.topic, key.partition, {
          offset: value.offset,
          leaderEpoch: value.leaderEpoch ?? -1,
          metadata: value.metadata,
          commitTimestamp: Number(value.commitTimestamp),
          expireTimestamp: Number(value.expireTimestamp ?? -1n),
        });
      } else if (record.value === null) {
        stored.delete(key.group);
      } else {
        const value = decodeGroupValue(record.value);
        stored.set(key.group, {
          protocolType: value.protocolType,
          generation: value.generation,
          protocol: value.protocol,
          leader: value.leader,
          currentStateTimestamp: Number(value.currentStateTimestamp ?? -1n),
          members: value.members.map((member) => ({
            memberId: member.memberId,
            groupInstanceId: member.groupInstanceId ?? null,
            clientId: member.clientId,
            clientHost: member.clientHost,
            rebalanceTimeoutMs: member.rebalanceTimeout ?? member.sessionTimeout,
            sessionTimeoutMs: member.sessionTimeout,
            subscription: member.subscription,
            assignment: member.assignment,
          })),
        });
      }
    }
    const now = this.io.now();
    for (const [groupId, group] of stored) this.groups.set(groupId, ClassicGroup.fromStored(groupId, group, this.settings, now));
    for (const groupId of this.offsets.groups()) if (!this.groups.has(groupId)) this.groups.set(groupId, new ClassicGroup(groupId, this.settings, now));
  }

  /** Handles a call; `respond` is called exactly once, maybe much later (held joins and syncs). */
  async handle(call: GroupCall, respond: Respond): Promise<void> {
    const now = this.io.now();
    switch (call.op) {
      case 'join': {
        const group = this.groupOrNew(call.groupId, now);
        const replyId = this.hold(respond);
        await this.run(group, group.join({ ...call, replyId, newMemberSuffix: this.io.uniqueSuffix() }, now));
        return;
      }
      case 'sync': {
        const group = this.groups.get(call.groupId);
        if (!group) return respond({ op: 'sync', result: { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, protocolType: null, protocolName: null, assignment: new Uint8Array(0) } });
        await this.run(group, group.sync({ ...call, replyId: this.hold(respond) }, now));
        return;
      }
      case 'heartbeat': {
        const group = this.groups.get(call.groupId);
        return respond({ op: 'heartbeat', errorCode: group ? group.heartbeat(call.memberId, call.groupInstanceId, call.generationId, now) : ErrorCode.UNKNOWN_MEMBER_ID });
      }
      case 'leave': {
        const group = this.groups.get(call.groupId);
        if (!group) return respond({ op: 'leave', errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: call.members.map((member) => ({ ...member, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })) });
        const { outcomes, effects } = group.leave(call.members, now);
        await this.run(group, effects);
        const failed = outcomes.find((outcome) => outcome.errorCode !== ErrorCode.NONE && outcome.errorCode !== ErrorCode.UNKNOWN_MEMBER_ID && outcome.errorCode !== ErrorCode.FENCED_INSTANCE_ID);
        return respond({ op: 'leave', errorCode: failed?.errorCode ?? ErrorCode.NONE, members: outcomes });
      }
      case 'commit':
        return respond(await this.commit(call, now));
      case 'fetch-offsets':
        return respond({ op: 'fetch-offsets', errorCode: ErrorCode.NONE, offsets: this.fetchOffsets(call.groupId, call.topics) });
      case 'describe':
        return respond({ op: 'describe', group: this.describe(call.groupId) });
      case 'list':
        return respond({ op: 'list', errorCode: ErrorCode.NONE, groups: this.list(call.statesFilter) });
      case 'delete':
        return respond({ op: 'delete', errorCode: await this.deleteGroup(call.groupId, now) });
      case 'offset-delete':
        return respond(await this.deleteOffsets(call.groupId, call.topics));
    }
  }

  /** A group's timer fired: members, pending members or the join phase may have expired. */
  async expire(groupId: string): Promise<void> {
    const group = this.groups.get(groupId);
    if (group) await this.run(group, group.expire(this.io.now()));
  }

  async topicGrew(topic: string): Promise<void> {
    const now = this.io.now();
    for (const group of this.groups.values()) await this.run(group, group.topicGrew(topic, now));
  }

  /** offsets.retention.minutes: tombstones for expired offsets, and for groups left with nothing. */
  async expireOffsets(): Promise<void> {
    const now = this.io.now();
    for (const group of [...this.groups.values()]) {
      const expired = this.offsets.expired(group.groupId, {
        emptySinceMs: group.state === 'Empty' ? group.stateSinceMs : undefined,
        hasMembers: !group.isEmpty(),
        usedGroupManagement: group.protocolType !== null,
        subscribedTopics: group.subscribedTopics(),
      }, this.settings.offsetsRetentionMs, now);
      const removesGroup = group.state === 'Empty' && expired.length === this.offsets.keysOf(group.groupId).length;
      if (expired.length === 0 && !(removesGroup && group.generationId > 0)) continue;
      const records = expired.map((key) => tombstone(offsetKeyBytes(group.groupId, key.topic, key.partition)));
      if (removesGroup) records.push(tombstone(groupKeyBytes(group.groupId)));
      try {
        await this.io.append(records);
      } catch (error) {
        this.io.log.error({ err: error, group: group.groupId }, 'writing expired offsets failed; retried at the next check');
        continue;
      }
      for (const key of expired) this.offsets.delete(group.groupId, key.topic, key.partition);
      if (removesGroup) {
        group.markDead(now);
        this.groups.delete(group.groupId);
      }
      this.io.log.info({ group: group.groupId, offsets: expired.length, groupRemoved: removesGroup }, 'expired committed offsets');
    }
  }

  /** When the group's timer should fire next (undefined: no timer). */
  deadlineOf(groupId: string): number | undefined {
    return this.groups.get(groupId)?.nextDeadline();
  }

  /** The coordinator stops (its broker stops or loses the partition): held requests are answered. */
  unload(): void {
    const now = this.io.now();
    for (const group of this.groups.values()) this.deliver(group.markDead(now, ErrorCode.NOT_COORDINATOR), true);
    this.groups.clear();
  }

  // ---- internals ----------------------------------------------------------------------------

  private groupOrNew(groupId: string, now: number): ClassicGroup {
    let group = this.groups.get(groupId);
    if (!group) this.groups.set(groupId, (group = new ClassicGroup(groupId, this.settings, now)));
    return group;
  }

  private hold(respond: Respond): number {
    const replyId = this.nextReply++;
    this.held.set(replyId, respond);
    return replyId;
  }

  /** Carries out a group's effects in order; those after a `store` wait for its write. */
  private async run(group: ClassicGroup, effects: readonly GroupEffect[]): Promise<void> {
    let stored = true;
    for (const effect of effects) {
      if (effect.kind !== 'store') {
        this.deliver([effect], stored);
        continue;
      }
      try {
        await this.io.append([{ key: groupKeyBytes(group.groupId), value: groupValueBytes(storedValue(group.toStored())) }]);
      } catch (error) {
        this.io.log.error({ err: error, group: group.groupId }, 'storing group metadata failed');
        stored = false;
      }
    }
  }

  private deliver(effects: readonly GroupEffect[], stored: boolean): void {
    for (const effect of effects) {
      if (effect.kind === 'store') continue;
      const respond = this.held.get(effect.replyId);
      this.held.delete(effect.replyId);
      if (!respond) continue;
      if (effect.kind === 'join-reply') respond({ op: 'join', result: effect.result });
      else respond({ op: 'sync', result: stored ? effect.result : { ...effect.result, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE } });
    }
  }

  private async commit(call: Extract<GroupCall, { op: 'commit' }>, now: number): Promise<GroupAnswer> {
    const answer = (errorCode: number, partitions: PartitionError[]): GroupAnswer => ({ op: 'commit', errorCode, partitions });
    const allFailed = (errorCode: number) => answer(errorCode, call.offsets.map((entry) => ({ topic: entry.topic, partition: entry.partition, errorCode })));
    let group = this.groups.get(call.groupId);
    if (!group && call.generationId >= 0) return allFailed(ErrorCode.ILLEGAL_GENERATION);
    group ??= this.groupOrNew(call.groupId, now);
    const validation = group.validateCommit(call.memberId, call.groupInstanceId, call.generationId, now);
    if (validation !== ErrorCode.NONE) return allFailed(validation);
    const expireTimestamp = call.retentionTimeMs >= 0 ? now + call.retentionTimeMs : -1;
    const results: PartitionError[] = [];
    const accepted: typeof call.offsets[number][] = [];
    for (const entry of call.offsets) {
      const tooLarge = entry.metadata !== null && Buffer.byteLength(entry.metadata) > this.settings.offsetMetadataMaxBytes;
      if (!tooLarge) accepted.push(entry);
      results.push({ topic: entry.topic, partition: entry.partition, errorCode: tooLarge ? ErrorCode.OFFSET_METADATA_TOO_LARGE : ErrorCode.NONE });
    }
    const values = accepted.map((entry) => ({
      offset: entry.offset,
      leaderEpoch: entry.leaderEpoch,
      metadata: entry.metadata ?? '',
      commitTimestamp: now,
      expireTimestamp,
    }));
    if (accepted.length > 0) {
      try {
        await this.io.append(accepted.map((entry, index) => ({
          key: offsetKeyBytes(call.groupId, entry.topic, entry.partition),
          value: offsetValueBytes({ ...values[index]!, commitTimestamp: BigInt(now), expireTimestamp: BigInt(expireTimestamp) }),
        })));
      } catch (error) {
        const errorCode = storageErrorCode(error);
        this.io.log.error({ err: error, group: call.groupId }, 'writing committed offsets failed');
        return answer(ErrorCode.NONE, results.map((result) => (result.errorCode === ErrorCode.NONE ? { ...result, errorCode } : result)));
      }
      accepted.forEach((entry, index) => this.offsets.set(call.groupId, entry.topic, entry.partition, values[index]!));
    }
    return answer(ErrorCode.NONE, results);
  }

  private fetchOffsets(groupId: string, topics: readonly TopicPartitions[] | null): FetchedOffset[] {
    if (topics === null) {
      const all: FetchedOffset[] = [];
      for (const [topic, partitions] of this.offsets.topicsOf(groupId)) {
        for (const [partition, committed] of partitions) all.push({ topic, partition, offset: committed.offset, leaderEpoch: committed.leaderEpoch, metadata: committed.metadata });
      }
      return all;
    }
    return topics.flatMap(({ topic, partitions }) => partitions.map((partition): FetchedOffset => {
      const committed = this.offsets.get(groupId, topic, partition);
      return committed
        ? { topic, partition, offset: committed.offset, leaderEpoch: committed.leaderEpoch, metadata: committed.metadata }
        : { topic, partition, offset: -1n, leaderEpoch: -1, metadata: '' };
    }));
  }

  private describe(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, groupId, state: 'Dead', protocolType: '', protocolName: '', members: [] };
    const stable = group.state === 'Stable';
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolName: stable ? group.protocolName ?? '' : '',
      members: [...group.members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        metadata: stable ? group.metadataFor(member) : new Uint8Array(0),
        assignment: stable ? member.assignment : new Uint8Array(0),
      })),
    };
  }

  private list(statesFilter: readonly string[]): ListedGroup[] {
    const wanted = new Set(statesFilter.map((state) => state.toLowerCase()));
    return [...this.groups.values()]
      .filter((group) => group.state !== 'Dead' && (wanted.size === 0 || wanted.has(group.state.toLowerCase())))
      .map((group) => ({ groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state }));
  }

  private async deleteGroup(groupId: string, now: number): Promise<number> {
    const group = this.groups.get(groupId);
    if (!group || group.state === 'Dead') return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
    const records = this.offsets.keysOf(groupId).map((key) => tombstone(offsetKeyBytes(groupId, key.topic, key.partition)));
    records.push(tombstone(groupKeyBytes(groupId)));
    try {
      await this.io.append(records);
    } catch (error) {
      this.io.log.error({ err: error, group: groupId }, 'writing a group deletion failed');
      return storageErrorCode(error);
    }
    this.offsets.deleteGroup(groupId);
    group.markDead(now);
    this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  private async deleteOffsets(groupId: string, topics: readonly TopicPartitions[]): Promise<GroupAnswer> {
    const group = this.groups.get(groupId);
    if (!group || group.state === 'Dead') return { op: 'offset-delete', errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    if (group.state !== 'Empty' && group.protocolType !== 'consumer') return { op: 'offset-delete', errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
    const subscribed = group.state === 'Empty' ? new Set<string>() : group.subscribedTopics();
    const deleted: OffsetKey[] = [];
    const partitions: PartitionError[] = [];
    for (const { topic, partitions: indexes } of topics) {
      for (const partition of indexes) {
        const errorCode = subscribed.has(topic) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE;
        if (errorCode === ErrorCode.NONE && this.offsets.get(groupId, topic, partition)) deleted.push({ topic, partition });
        partitions.push({ topic, partition, errorCode });
      }
    }
    if (deleted.length > 0) {
      try {
        await this.io.append(deleted.map((key) => tombstone(offsetKeyBytes(groupId, key.topic, key.partition))));
      } catch (error) {
        this.io.log.error({ err: error, group: groupId }, 'writing offset deletions failed');
        return { op: 'offset-delete', errorCode: storageErrorCode(error), partitions: [] };
      }
      for (const key of deleted) this.offsets.delete(groupId, key.topic, key.partition);
    }
    return { op: 'offset-delete', errorCode: ErrorCode.NONE, partitions };
  }
}

function tombstone(key: Uint8Array): OffsetsRecord {
  return { key, value: null };
}

function storedValue(group: StoredGroup) {
  return {
    protocolType: group.protocolType,
    generation: group.generation,
    protocol: group.protocol,
    leader: group.leader,
    currentStateTimestamp: BigInt(group.currentStateTimestamp),
    members: group.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      rebalanceTimeout: member.rebalanceTimeoutMs,
      sessionTimeout: member.sessionTimeoutMs,
      subscription: member.subscription,
      assignment: member.assignment,
    })),
  };
}

/** What a failed write of the coordinator's records tells the client, as Kafka maps it. */
function storageErrorCode(error: unknown): number {
  if (error instanceof KafkaError) {
    if (error.code === ErrorCode.MESSAGE_TOO_LARGE || error.code === ErrorCode.RECORD_LIST_TOO_LARGE) return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    if (error.code === ErrorCode.NOT_LEADER_OR_FOLLOWER) return ErrorCode.NOT_COORDINATOR;
  }
  return ErrorCode.COORDINATOR_NOT_AVAILABLE;
}
