/**
 * A consumer group member at the protocol level, for bench/groups.ts: what a Kafka consumer's
 * coordinator client does, without fetching. One connection to the group coordinator each.
 *
 *   join:  JoinGroup v7 (MEMBER_ID_REQUIRED: again with the id given) ──▶ the leader assigns
 *          (round robin over the subscribed topic's partitions, members by id) ──▶ SyncGroup v5
 *          ──▶ stable: Heartbeat v4 every heartbeatIntervalMs
 *   a heartbeat answered REBALANCE_IN_PROGRESS ──▶ join again (same member id), no heartbeats
 *          while the join is held (responses come in request order, a held join would block them)
 *   leave: LeaveGroup v5
 *
 * Each step stamps performance.now(), so the bench can tell when a rebalance started (a join
 * sent) and ended (every member's SyncGroup answered).
 */
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { CONSUMER_PROTOCOL_TYPE, decodeConsumerAssignment, encodeConsumerAssignment, encodeConsumerSubscription } from '../../src/groups/consumer-protocol.js';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { decodeConsumerProtocolSubscription, type HeartbeatResponse, type JoinGroupResponse, type LeaveGroupResponse, type SyncGroupResponse } from '../../src/protocol/generated/messages/index.js';
import { ProtocolReader } from '../../src/protocol/reader.js';

export const JOIN_GROUP = { apiKey: 11, version: 7 } as const;
export const HEARTBEAT = { apiKey: 12, version: 4 } as const;
export const LEAVE_GROUP = { apiKey: 13, version: 5 } as const;
export const SYNC_GROUP = { apiKey: 14, version: 5 } as const;
const ASSIGNOR = 'roundrobin';

export interface MemberOptions {
  readonly groupId: string;
  readonly topic: string;
  readonly partitionCount: number;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** Called after every change of the member's generation or assignment. */
  readonly changed: () => void;
  /** Called when the member fails (an error code it does not handle). */
  readonly failed: (error: Error) => void;
}

export class BenchMember {
  memberId = '';
  generation = -1;
  assignment: number[] = [];
  /** performance.now() when the last JoinGroup was sent / the last SyncGroup answered. */
  joinSentAt = 0;
  syncedAt = 0;
  joining = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly subscription: Uint8Array;

  constructor(private readonly connection: KafkaConnection, private readonly options: MemberOptions) {
    this.subscription = encodeConsumerSubscription({ topics: [options.topic], userData: null }, 0);
  }

  get stable(): boolean {
    return !this.joining && this.generation >= 0 && this.syncedAt > 0;
  }

  /** Joins (or rejoins) and syncs; resolves once the member holds its assignment. */
  async join(): Promise<void> {
    this.joining = true;
    this.clearHeartbeat();
    try {
      for (let attempt = 0; !this.stopped; attempt++) {
        if (attempt > 20) throw new Error(`${this.options.groupId}: no stable generation after 20 joins`);
        this.joinSentAt = performance.now();
        const joined = await this.connection.request<JoinGroupResponse>(JOIN_GROUP.apiKey, JOIN_GROUP.version, {
          groupId: this.options.groupId,
          sessionTimeoutMs: this.options.sessionTimeoutMs,
          rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId: null,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocols: [{ name: ASSIGNOR, metadata: this.subscription }],
        }, 0);
        if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
          this.memberId = joined.memberId;
          continue;
        }
        if (joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
          this.memberId = '';
          continue;
        }
        if (joined.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
        if (joined.errorCode !== ErrorCode.NONE) throw new Error(`${this.options.groupId}: JoinGroup error ${joined.errorCode}`);
        this.memberId = joined.memberId;
        const assignments = joined.leader === joined.memberId ? this.assign(joined.members) : [];
        const synced = await this.connection.request<SyncGroupResponse>(SYNC_GROUP.apiKey, SYNC_GROUP.version, {
          groupId: this.options.groupId,
          generationId: joined.generationId,
          memberId: this.memberId,
          groupInstanceId: null,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocolName: joined.protocolName,
          assignments,
        }, 0);
        if (synced.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || synced.errorCode === ErrorCode.ILLEGAL_GENERATION) continue;
        if (synced.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
          this.memberId = '';
          continue;
        }
        if (synced.errorCode !== ErrorCode.NONE) throw new Error(`${this.options.groupId}: SyncGroup error ${synced.errorCode}`);
        this.syncedAt = performance.now();
        this.generation = joined.generationId;
        this.assignment = decodeConsumerAssignment(synced.assignment).partitions.flatMap((entry) => entry.partitions);
        this.joining = false;
        this.scheduleHeartbeat();
        this.options.changed();
        return;
      }
    } catch (error) {
      this.joining = false;
      if (!this.stopped) this.options.failed(error as Error);
    }
  }

  /** LeaveGroup; the member stops heartbeating first. */
  async leave(): Promise<void> {
    this.stopped = true;
    this.clearHeartbeat();
    const left = await this.connection.request<LeaveGroupResponse>(LEAVE_GROUP.apiKey, LEAVE_GROUP.version, {
      groupId: this.options.groupId,
      members: [{ memberId: this.memberId, groupInstanceId: null }],
    });
    if (left.errorCode !== ErrorCode.NONE) throw new Error(`${this.options.groupId}: LeaveGroup error ${left.errorCode}`);
  }

  close(): void {
    this.stopped = true;
    this.clearHeartbeat();
    this.connection.close();
  }

  /** Round robin over the partitions, members sorted by id (what the roundrobin assignor does for one topic). */
  private assign(members: readonly { memberId: string; metadata: Uint8Array }[]): { memberId: string; assignment: Uint8Array }[] {
    const ids = members.map((member) => {
      const reader = new ProtocolReader(member.metadata);
      const version = reader.readInt16();
      const subscribed = decodeConsumerProtocolSubscription(reader, Math.min(version, 2)).topics;
      if (!subscribed.includes(this.options.topic)) throw new Error(`member ${member.memberId} does not subscribe to ${this.options.topic}`);
      return member.memberId;
    }).sort();
    const owned = new Map(ids.map((id) => [id, [] as number[]]));
    for (let partition = 0; partition < this.options.partitionCount; partition++) owned.get(ids[partition % ids.length]!)!.push(partition);
    return ids.map((memberId) => ({ memberId, assignment: encodeConsumerAssignment({ assignedPartitions: [{ topic: this.options.topic, partitions: owned.get(memberId)! }], userData: null }) }));
  }

  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), this.options.heartbeatIntervalMs);
  }

  private clearHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private async heartbeat(): Promise<void> {
    this.heartbeatTimer = undefined;
    if (this.stopped || this.joining) return;
    let answer: HeartbeatResponse;
    try {
      answer = await this.connection.request<HeartbeatResponse>(HEARTBEAT.apiKey, HEARTBEAT.version, { groupId: this.options.groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: null });
    } catch (error) {
      if (!this.stopped) this.options.failed(error as Error);
      return;
    }
    if (this.stopped || this.joining) return;
    switch (answer.errorCode) {
      case ErrorCode.NONE:
        this.scheduleHeartbeat();
        return;
      case ErrorCode.REBALANCE_IN_PROGRESS:
      case ErrorCode.ILLEGAL_GENERATION:
        void this.join();
        return;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.memberId = '';
        void this.join();
        return;
      default:
        this.options.failed(new Error(`${this.options.groupId}: Heartbeat error ${answer.errorCode}`));
    }
  }
}
