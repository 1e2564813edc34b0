/**
 * What a broker's request handlers ask of a group coordinator actor, and what it answers. The
 * coordinator of a __consumer_offsets partition runs on the broker leading that partition (a
 * child actor of the broker actor, same thread), so these travel through its mailbox:
 *
 *   broker actor ── {type: 'call', requestId, call} ──▶ coordinator
 *   broker actor ◀── {type: 'answer', requestId, answer} ── coordinator   (JoinGroup and
 *                                                      SyncGroup answers may be held a while)
 *
 * Answers use Kafka error codes; the handlers turn them into each API version's response.
 */
import type { JoinRequest, JoinResult, SyncRequest, SyncResult } from './classic-group.js';

export interface CommitEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export type GroupCall =
  | ({ readonly op: 'join'; readonly groupId: string } & Omit<JoinRequest, 'replyId' | 'newMemberSuffix'>)
  | ({ readonly op: 'sync'; readonly groupId: string } & Omit<SyncRequest, 'replyId'>)
  | { readonly op: 'heartbeat'; readonly groupId: string; readonly memberId: string; readonly groupInstanceId: string | null; readonly generationId: number }
  | { readonly op: 'leave'; readonly groupId: string; readonly members: readonly { readonly memberId: string; readonly groupInstanceId: string | null }[] }
  | {
      readonly op: 'commit';
      readonly groupId: string;
      readonly memberId: string;
      readonly groupInstanceId: string | null;
      readonly generationId: number;
      /** OffsetCommit v2-4 retention_time_ms; -1: the broker's offsets.retention.minutes. */
      readonly retentionTimeMs: number;
      readonly offsets: readonly CommitEntry[];
    }
  /** topics null: every committed offset of the group. */
  | { readonly op: 'fetch-offsets'; readonly groupId: string; readonly topics: readonly TopicPartitions[] | null }
  | { readonly op: 'describe'; readonly groupId: string }
  | { readonly op: 'list'; readonly statesFilter: readonly string[] }
  | { readonly op: 'delete'; readonly groupId: string }
  | { readonly op: 'offset-delete'; readonly groupId: string; readonly topics: readonly TopicPartitions[] };

export interface PartitionError {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
}

export interface FetchedOffset {
  readonly topic: string;
  readonly partition: number;
  /** -1 when nothing is committed. */
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
}

export interface DescribedMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly metadata: Uint8Array;
  readonly assignment: Uint8Array;
}

export interface GroupDescription {
  readonly errorCode: number;
  readonly groupId: string;
  readonly state: string;
  readonly protocolType: string;
  readonly protocolName: string;
  readonly members: readonly DescribedMember[];
}

export interface ListedGroup {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: string;
}

export type GroupAnswer =
  | { readonly op: 'join'; readonly result: JoinResult }
  | { readonly op: 'sync'; readonly result: SyncResult }
  | { readonly op: 'heartbeat'; readonly errorCode: number }
  | { readonly op: 'leave'; readonly errorCode: number; readonly members: readonly { readonly memberId: string; readonly groupInstanceId: string | null; readonly errorCode: number }[] }
  | { readonly op: 'commit'; readonly errorCode: number; readonly partitions: readonly PartitionError[] }
  | { readonly op: 'fetch-offsets'; readonly errorCode: number; readonly offsets: readonly FetchedOffset[] }
  | { readonly op: 'describe'; readonly group: GroupDescription }
  | { readonly op: 'list'; readonly errorCode: number; readonly groups: readonly ListedGroup[] }
  | { readonly op: 'delete'; readonly errorCode: number }
  | { readonly op: 'offset-delete'; readonly errorCode: number; readonly partitions: readonly PartitionError[] };

export type ToCoordinator =
  | { readonly type: 'call'; readonly requestId: number; readonly call: GroupCall }
  /** A subscribed topic may have gained partitions (CreatePartitions). */
  | { readonly type: 'topic-grew'; readonly topic: string }
  | { readonly type: 'expire'; readonly groupId: string }
  | { readonly type: 'expire-offsets' };

export interface CoordinatorAnswerMessage {
  readonly type: 'answer';
  readonly requestId: number;
  readonly answer: GroupAnswer;
}
