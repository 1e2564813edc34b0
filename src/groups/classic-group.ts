/**
 * One consumer group under Kafka's classic protocol, as a pure state machine: no I/O, no timers,
 * no randomness of its own. Every input carries the time (`now`, ms) and what it needs (a fresh
 * member id suffix); every output is a returned value or an effect for the coordinator actor to
 * carry out: answer a held JoinGroup or SyncGroup, or store the group's metadata (the effects
 * after a `store` are delivered once it is written). The coordinator asks `nextDeadline()` when
 * to call `expire(now)` next.
 *
 *           join (new member)             all members joined (or rebalance timeout)
 *   Empty ─────────────────▶ Preparing ──────────────────────────▶ Completing ──leader's sync──▶ Stable
 *     ▲                      Rebalance ◀── join, leave, death ──── Rebalance ◀── join, leave, ──┘
 *     └── join completes with no members                                          death, topic grows
 *   Dead: deleted (DeleteGroups, expired offsets) or its coordinator moved away.
 *
 * What Kafka's GroupCoordinator does, kept: generations; a leader that assigns; joins held until
 * every member rejoined or the rebalance timeout passed (then the missing dynamic members are
 * removed); group.initial.rebalance.delay.ms for a group starting empty, extended while members
 * keep arriving; MEMBER_ID_REQUIRED on a dynamic member's first join (v4+); static members
 * (group.instance.id) that rejoin under a new member id without a rebalance while the group is
 * stable, and fence the old id (FENCED_INSTANCE_ID); members expire without heartbeats (unless a
 * join or sync of theirs is held, as Kafka keeps them alive then).
 */
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { CONSUMER_PROTOCOL_TYPE, subscribedTopics } from './consumer-protocol.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface GroupSettings {
  /** group.min.session.timeout.ms / group.max.session.timeout.ms: the range a member may ask. */
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms */
  readonly initialRebalanceDelayMs: number;
  /** group.max.size */
  readonly maxSize: number;
}

/** How long a member that joined for the first time may wait for its join to complete. */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000;

export interface Protocol {
  readonly name: string;
  readonly metadata: Uint8Array;
}

export interface JoinRequest {
  readonly replyId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly Protocol[];
  /** JoinGroup v4+: a dynamic member's first join is answered MEMBER_ID_REQUIRED. */
  readonly requireKnownMemberId: boolean;
  /** A fresh unique suffix for a new member id (the coordinator's randomness). */
  readonly newMemberSuffix: string;
}

export interface JoinedMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Uint8Array;
}

export interface JoinResult {
  readonly errorCode: number;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leader: string;
  readonly memberId: string;
  /** Every member's metadata for the chosen protocol, for the leader; empty for the others. */
  readonly members: readonly JoinedMember[];
}

export interface SyncRequest {
  readonly replyId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: readonly { readonly memberId: string; readonly assignment: Uint8Array }[];
}

export interface SyncResult {
  readonly errorCode: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Uint8Array;
}

export type GroupEffect =
  | { readonly kind: 'join-reply'; readonly replyId: number; readonly result: JoinResult }
  | { readonly kind: 'sync-reply'; readonly replyId: number; readonly result: SyncResult }
  /** Write the group's metadata (toStored()); the effects after it wait for the write. */
  | { readonly kind: 'store' };

export interface Member {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: readonly Protocol[];
  assignment: Uint8Array;
  /** A held JoinGroup's reply id. */
  joinReply: number | undefined;
  /** A held SyncGroup's reply id. */
  syncReply: number | undefined;
  lastHeartbeatMs: number;
  /** Joined but not yet through a completed join (its join may wait NEW_MEMBER_JOIN_TIMEOUT_MS). */
  isNew: boolean;
}

/** A group as stored in __consumer_offsets (GroupMetadataValue), to rebuild it on load. */
export interface StoredGroup {
  readonly protocolType: string;
  readonly generation: number;
  readonly protocol: string | null;
  readonly leader: string | null;
  readonly currentStateTimestamp: number;
  readonly members: readonly {
    readonly memberId: string;
    readonly groupInstanceId: string | null;
    readonly clientId: string;
    readonly clientHost: string;
    readonly rebalanceTimeoutMs: number;
    readonly sessionTimeoutMs: number;
    readonly subscription: Uint8Array;
    readonly assignment: Uint8Array;
  }[];
}

export interface LeaveOutcome {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly errorCode: number;
}

const EMPTY = new Uint8Array(0);

export class ClassicGroup {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** When the group last changed state (Kafka's currentStateTimestamp; offsets expiry uses it). */
  stateSinceMs: number;
  readonly members = new Map<string, Member>();
  /** group.instance.id -> member id. */
  private readonly staticMembers = new Map<string, string>();
  /** Dynamic members told MEMBER_ID_REQUIRED, by id, with the time they expire. */
  private readonly pendingMembers = new Map<string, number>();
  private joinDeadlineMs: number | undefined;
  /** Set while the first rebalance of an empty group waits group.initial.rebalance.delay.ms. */
  private initialDelay: { remainingMs: number; newMemberAdded: boolean } | undefined;
  private effects: GroupEffect[] = [];

  constructor(readonly groupId: string, private readonly settings: GroupSettings, now: number) {
    this.stateSinceMs = now;
  }

  // ---- JoinGroup ----------------------------------------------------------------------------

  join(request: JoinRequest, now: number): GroupEffect[] {
    const fail = (errorCode: number) => this.joinError(request.replyId, request.memberId, errorCode);
    if (this.state === 'Dead') return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (request.sessionTimeoutMs < this.settings.minSessionTimeoutMs || request.sessionTimeoutMs > this.settings.maxSessionTimeoutMs) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    if (request.protocolType === '' || request.protocols.length === 0 || !this.supportsProtocols(request.protocolType, request.protocols)) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (request.memberId === '') return this.joinUnknownMember(request, now);
    return this.joinKnownMember(request, now);
  }

  private joinUnknownMember(request: JoinRequest, now: number): GroupEffect[] {
    const instanceId = request.groupInstanceId;
    if (instanceId !== null && this.staticMembers.has(instanceId)) return this.replaceStaticMember(request, instanceId, now);
    if (this.members.size + this.pendingMembers.size >= this.settings.maxSize) return this.joinError(request.replyId, '', ErrorCode.GROUP_MAX_SIZE_REACHED);
    const memberId = `${instanceId ?? request.clientId}-${request.newMemberSuffix}`;
    if (instanceId === null && request.requireKnownMemberId) {
      // The client retries at once with this id; until then it counts as a member about to join.
      this.pendingMembers.set(memberId, now + request.sessionTimeoutMs);
      return this.joinError(request.replyId, memberId, ErrorCode.MEMBER_ID_REQUIRED);
    }
    this.addMemberAndRebalance(request, memberId, now);
    return this.flush();
  }

  private joinKnownMember(request: JoinRequest, now: number): GroupEffect[] {
    const { memberId } = request;
    if (this.pendingMembers.has(memberId)) {
      this.pendingMembers.delete(memberId);
      this.addMemberAndRebalance(request, memberId, now);
      return this.flush();
    }
    const member = this.members.get(memberId);
    if (!member) return this.joinError(request.replyId, memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    if (this.isFenced(member, request.groupInstanceId)) return this.joinError(request.replyId, memberId, ErrorCode.FENCED_INSTANCE_ID);
    switch (this.state) {
      case 'PreparingRebalance':
        this.updateMemberAndRebalance(member, request, now);
        break;
      case 'CompletingRebalance':
      case 'Stable':
        if (this.sameProtocols(member, request.protocols) && (this.state === 'CompletingRebalance' || memberId !== this.leaderId)) {
          // Nothing changed for this member: it gets the current generation again.
          member.lastHeartbeatMs = now;
          this.effects.push({ kind: 'join-reply', replyId: request.replyId, result: this.joinResultFor(member) });
        } else {
          this.updateMemberAndRebalance(member, request, now);
        }
        break;
      default:
        return this.joinError(request.replyId, memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    }
    return this.flush();
  }

  /** A static member back under a new member id: the old id is fenced. */
  private replaceStaticMember(request: JoinRequest, instanceId: string, now: number): GroupEffect[] {
    const oldId = this.staticMembers.get(instanceId)!;
    const member = this.members.get(oldId)!;
    const newId = `${instanceId}-${request.newMemberSuffix}`;
    const leaderBefore = this.leaderId;
    if (member.joinReply !== undefined) this.effects.push({ kind: 'join-reply', replyId: member.joinReply, result: this.errorJoinResult(oldId, ErrorCode.FENCED_INSTANCE_ID) });
    if (member.syncReply !== undefined) this.effects.push({ kind: 'sync-reply', replyId: member.syncReply, result: this.errorSyncResult(ErrorCode.FENCED_INSTANCE_ID) });
    member.joinReply = undefined;
    member.syncReply = undefined;
    this.members.delete(oldId);
    member.memberId = newId;
    this.members.set(newId, member);
    this.staticMembers.set(instanceId, newId);
    if (this.leaderId === oldId) this.leaderId = newId;
    const protocolsChanged = !this.sameProtocols(member, request.protocols);
    this.updateMember(member, request, now);
    if (this.state === 'Stable' && !protocolsChanged) {
      // No rebalance: the member gets the current generation and, through SyncGroup, its
      // assignment. It is told the leader from before, so a returning leader does not assign.
      this.effects.push({ kind: 'store' });
      this.effects.push({ kind: 'join-reply', replyId: request.replyId, result: { ...this.joinResultFor(member), leader: leaderBefore ?? '', members: [] } });
      return this.flush();
    }
    member.joinReply = request.replyId;
    if (this.state === 'PreparingRebalance') this.tryCompleteJoin(now);
    else this.prepareRebalance(now);
    return this.flush();
  }

  private addMemberAndRebalance(request: JoinRequest, memberId: string, now: number): void {
    const member: Member = {
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
      assignment: EMPTY,
      joinReply: request.replyId,
      syncReply: undefined,
      lastHeartbeatMs: now,
      isNew: true,
    };
    this.members.set(memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, memberId);
    this.protocolType ??= request.protocolType;
    this.leaderId ??= memberId;
    if (this.initialDelay) this.initialDelay.newMemberAdded = true;
    if (this.state === 'PreparingRebalance') this.tryCompleteJoin(now);
    else this.prepareRebalance(now);
  }

  private updateMemberAndRebalance(member: Member, request: JoinRequest, now: number): void {
    if (member.joinReply !== undefined && member.joinReply !== request.replyId) {
      // A second join from the same member replaces the first, which is told to rejoin.
      this.effects.push({ kind: 'join-reply', replyId: member.joinReply, result: this.errorJoinResult(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS) });
    }
    this.updateMember(member, request, now);
    member.joinReply = request.replyId;
    if (this.state === 'PreparingRebalance') this.tryCompleteJoin(now);
    else this.prepareRebalance(now);
  }

  private updateMember(member: Member, request: JoinRequest, now: number): void {
    member.clientId = request.clientId;
    member.clientHost = request.clientHost;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    member.protocols = request.protocols;
    member.lastHeartbeatMs = now;
  }

  // ---- SyncGroup ----------------------------------------------------------------------------

  sync(request: SyncRequest, now: number): GroupEffect[] {
    const fail = (errorCode: number) => {
      this.effects.push({ kind: 'sync-reply', replyId: request.replyId, result: this.errorSyncResult(errorCode) });
      return this.flush();
    };
    if (this.state === 'Dead') return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const member = this.members.get(request.memberId);
    if (!member) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (this.isFenced(member, request.groupInstanceId)) return fail(ErrorCode.FENCED_INSTANCE_ID);
    if (request.generationId !== this.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
    if ((request.protocolType !== null && request.protocolType !== this.protocolType) || (request.protocolName !== null && request.protocolName !== this.protocolName)) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    member.lastHeartbeatMs = now;
    switch (this.state) {
      case 'Empty':
        return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return fail(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        this.effects.push({ kind: 'sync-reply', replyId: request.replyId, result: this.syncResult(member.assignment) });
        return this.flush();
      default:
        break;
    }
    if (member.syncReply !== undefined && member.syncReply !== request.replyId) {
      // A second sync from the same member replaces the first, which is told to rejoin (as a second join is).
      this.effects.push({ kind: 'sync-reply', replyId: member.syncReply, result: this.errorSyncResult(ErrorCode.REBALANCE_IN_PROGRESS) });
    }
    member.syncReply = request.replyId;
    if (member.memberId === this.leaderId) {
      const given = new Map(request.assignments.map((entry) => [entry.memberId, entry.assignment]));
      for (const each of this.members.values()) each.assignment = given.get(each.memberId) ?? EMPTY;
      this.setState('Stable', now);
      this.effects.push({ kind: 'store' });
      for (const each of this.members.values()) {
        if (each.syncReply === undefined) continue;
        this.effects.push({ kind: 'sync-reply', replyId: each.syncReply, result: this.syncResult(each.assignment) });
        each.syncReply = undefined;
      }
    }
    return this.flush();
  }

  // ---- Heartbeat, LeaveGroup, commits -------------------------------------------------------

  heartbeat(memberId: string, groupInstanceId: string | null, generationId: number, now: number): number {
    if (this.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const member = this.members.get(memberId);
    if (this.state === 'Empty' || !member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (this.isFenced(member, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    member.lastHeartbeatMs = now;
    return this.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** LeaveGroup: one outcome per member named (by member id, or by instance id alone, v3+). */
  leave(leaving: readonly { memberId: string; groupInstanceId: string | null }[], now: number): { outcomes: LeaveOutcome[]; effects: GroupEffect[] } {
    const outcomes = leaving.map(({ memberId, groupInstanceId }): LeaveOutcome => {
      const outcome = (errorCode: number) => ({ memberId, groupInstanceId, errorCode });
      if (this.state === 'Dead') return outcome(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      if (memberId === '' && groupInstanceId !== null) {
        const staticId = this.staticMembers.get(groupInstanceId);
        if (staticId === undefined) return outcome(ErrorCode.UNKNOWN_MEMBER_ID);
        this.removeMember(this.members.get(staticId)!, now);
        return outcome(ErrorCode.NONE);
      }
      if (this.pendingMembers.delete(memberId)) {
        if (this.state === 'PreparingRebalance') this.tryCompleteJoin(now);
        return outcome(ErrorCode.NONE);
      }
      const member = this.members.get(memberId);
      if (!member) return outcome(ErrorCode.UNKNOWN_MEMBER_ID);
      if (this.isFenced(member, groupInstanceId)) return outcome(ErrorCode.FENCED_INSTANCE_ID);
      this.removeMember(member, now);
      return outcome(ErrorCode.NONE);
    });
    return { outcomes, effects: this.flush() };
  }

  /**
   * Whether an OffsetCommit may be written: generation -1 with no members is a standalone
   * consumer (or an admin); otherwise it must come from a member of the current generation.
   */
  validateCommit(memberId: string, groupInstanceId: string | null, generationId: number, now: number): number {
    if (this.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (generationId < 0 && this.state === 'Empty') return ErrorCode.NONE;
    const member = this.members.get(memberId);
    if (member && this.isFenced(member, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (this.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    member.lastHeartbeatMs = now;
    return ErrorCode.NONE;
  }

  /** A subscribed topic gained partitions: the members must rebalance to get them. */
  topicGrew(topic: string, now: number): GroupEffect[] {
    if ((this.state === 'Stable' || this.state === 'CompletingRebalance') && this.subscribedTopics().has(topic)) this.prepareRebalance(now);
    return this.flush();
  }

  /** Topics any member subscribes to (consumer protocol only). */
  subscribedTopics(): Set<string> {
    const topics = new Set<string>();
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return topics;
    for (const member of this.members.values()) {
      const metadata = this.protocolName === null ? member.protocols[0]?.metadata : this.metadataFor(member, this.protocolName);
      if (metadata) for (const topic of subscribedTopics(metadata)) topics.add(topic);
    }
    return topics;
  }

  /** The group is being deleted or unloaded: held requests are answered, then it is Dead. */
  markDead(now: number, errorCode: number = ErrorCode.COORDINATOR_NOT_AVAILABLE): GroupEffect[] {
    for (const member of this.members.values()) {
      if (member.joinReply !== undefined) this.effects.push({ kind: 'join-reply', replyId: member.joinReply, result: this.errorJoinResult(member.memberId, errorCode) });
      if (member.syncReply !== undefined) this.effects.push({ kind: 'sync-reply', replyId: member.syncReply, result: this.errorSyncResult(errorCode) });
      member.joinReply = undefined;
      member.syncReply = undefined;
    }
    this.setState('Dead', now);
    this.joinDeadlineMs = undefined;
    this.initialDelay = undefined;
    return this.flush();
  }

  // ---- time ---------------------------------------------------------------------------------

  /** The earliest time something may expire (a member, a pending member, the join phase). */
  nextDeadline(): number | undefined {
    let next = this.joinDeadlineMs;
    const consider = (at: number) => {
      if (next === undefined || at < next) next = at;
    };
    for (const at of this.pendingMembers.values()) consider(at);
    for (const member of this.members.values()) {
      if (member.syncReply !== undefined) continue;
      consider(member.lastHeartbeatMs + (member.joinReply !== undefined ? (member.isNew ? NEW_MEMBER_JOIN_TIMEOUT_MS : Infinity) : member.sessionTimeoutMs));
    }
    return next === Infinity ? undefined : next;
  }

  expire(now: number): GroupEffect[] {
    for (const [memberId, at] of this.pendingMembers) if (at <= now) this.pendingMembers.delete(memberId);
    for (const member of [...this.members.values()]) {
      if (this.members.get(member.memberId) !== member || this.keepsAlive(member, now)) continue;
      this.removeMember(member, now);
    }
    if (this.state === 'PreparingRebalance' && this.joinDeadlineMs !== undefined && this.joinDeadlineMs <= now) this.onJoinDeadline(now);
    else if (this.state === 'PreparingRebalance') this.tryCompleteJoin(now);
    return this.flush();
  }

  // ---- describing and storing ---------------------------------------------------------------

  isEmpty(): boolean {
    return this.members.size === 0;
  }

  /** The metadata of the chosen protocol for each member (what DescribeGroups and the store show). */
  metadataFor(member: Member, protocolName: string | null = this.protocolName): Uint8Array {
    return member.protocols.find((protocol) => protocol.name === protocolName)?.metadata ?? EMPTY;
  }

  toStored(): StoredGroup {
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: this.stateSinceMs,
      members: [...this.members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        sessionTimeoutMs: member.sessionTimeoutMs,
        subscription: this.metadataFor(member),
        assignment: member.assignment,
      })),
    };
  }

  /** Rebuilds the group from its stored metadata (coordinator load): Stable with its members, or Empty. */
  static fromStored(groupId: string, stored: StoredGroup, settings: GroupSettings, now: number): ClassicGroup {
    const group = new ClassicGroup(groupId, settings, stored.currentStateTimestamp >= 0 ? stored.currentStateTimestamp : now);
    group.generationId = stored.generation;
    group.protocolType = stored.protocolType === '' ? null : stored.protocolType;
    group.protocolName = stored.protocol;
    group.leaderId = stored.leader;
    for (const entry of stored.members) {
      group.members.set(entry.memberId, {
        memberId: entry.memberId,
        groupInstanceId: entry.groupInstanceId,
        clientId: entry.clientId,
        clientHost: entry.clientHost,
        sessionTimeoutMs: entry.sessionTimeoutMs,
        rebalanceTimeoutMs: entry.rebalanceTimeoutMs,
        protocolType: stored.protocolType,
        protocols: [{ name: stored.protocol ?? '', metadata: entry.subscription }],
        assignment: entry.assignment,
        joinReply: undefined,
        syncReply: undefined,
        // Members get a whole session from the load to heartbeat again.
        lastHeartbeatMs: now,
        isNew: false,
      });
      if (entry.groupInstanceId !== null) group.staticMembers.set(entry.groupInstanceId, entry.memberId);
    }
    group.state = group.members.size > 0 ? 'Stable' : 'Empty';
    return group;
  }

  // ---- internals ----------------------------------------------------------------------------

  private prepareRebalance(now: number): void {
    if (this.state === 'CompletingRebalance') {
      for (const member of this.members.values()) {
        member.assignment = EMPTY;
        if (member.syncReply !== undefined) this.effects.push({ kind: 'sync-reply', replyId: member.syncReply, result: this.errorSyncResult(ErrorCode.REBALANCE_IN_PROGRESS) });
        member.syncReply = undefined;
      }
    }
    const rebalanceTimeoutMs = Math.max(0, ...[...this.members.values()].map((member) => member.rebalanceTimeoutMs));
    if (this.state === 'Empty' && this.settings.initialRebalanceDelayMs > 0) {
      const delay = this.settings.initialRebalanceDelayMs;
      this.initialDelay = { remainingMs: Math.max(rebalanceTimeoutMs - delay, 0), newMemberAdded: false };
      this.joinDeadlineMs = now + delay;
    } else {
      this.initialDelay = undefined;
      this.joinDeadlineMs = now + rebalanceTimeoutMs;
    }
    this.setState('PreparingRebalance', now);
    this.tryCompleteJoin(now);
  }

  /** Completes the join phase once every member rejoined (not during the initial delay). */
  private tryCompleteJoin(now: number): void {
    if (this.state !== 'PreparingRebalance' || this.initialDelay) return;
    const allJoined = this.pendingMembers.size === 0 && [...this.members.values()].every((member) => member.joinReply !== undefined);
    if (allJoined) this.completeJoin(now);
  }

  private onJoinDeadline(now: number): void {
    const delay = this.initialDelay;
    if (delay && delay.newMemberAdded && delay.remainingMs > 0) {
      // Members keep arriving: wait a little longer, within the rebalance timeout.
      const extension = Math.min(this.settings.initialRebalanceDelayMs, delay.remainingMs);
      this.initialDelay = { remainingMs: delay.remainingMs - extension, newMemberAdded: false };
      this.joinDeadlineMs = now + extension;
      return;
    }
    this.completeJoin(now);
  }

  private completeJoin(now: number): void {
    this.initialDelay = undefined;
    this.joinDeadlineMs = undefined;
    for (const member of [...this.members.values()]) {
      if (member.joinReply === undefined && member.groupInstanceId === null) this.dropMember(member);
    }
    this.pendingMembers.clear();
    this.generationId++;
    if (this.members.size === 0) {
      // The protocol type stays: offsets of an emptied group expire from when it became empty.
      this.protocolName = null;
      this.leaderId = null;
      this.setState('Empty', now);
      this.effects.push({ kind: 'store' });
      return;
    }
    this.protocolName = this.selectProtocol();
    const leader = this.leaderId !== null ? this.members.get(this.leaderId) : undefined;
    if (!leader || leader.joinReply === undefined) {
      this.leaderId = [...this.members.values()].find((member) => member.joinReply !== undefined)?.memberId ?? [...this.members.keys()][0]!;
    }
    this.setState('CompletingRebalance', now);
    for (const member of this.members.values()) {
      if (member.joinReply === undefined) continue;
      this.effects.push({ kind: 'join-reply', replyId: member.joinReply, result: this.joinResultFor(member) });
      member.joinReply = undefined;
      member.isNew = false;
      member.lastHeartbeatMs = now;
    }
  }

  private joinResultFor(member: Member): JoinResult {
    const isLeader = member.memberId === this.leaderId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? '',
      memberId: member.memberId,
      members: isLeader
        ? [...this.members.values()].map((each) => ({ memberId: each.memberId, groupInstanceId: each.groupInstanceId, metadata: this.metadataFor(each) }))
        : [],
    };
  }

  /** The protocol every member supports with the most first-choice votes (ties: the leader's order). */
  private selectProtocol(): string {
    const members = [...this.members.values()];
    const candidates = members[0]!.protocols.map((protocol) => protocol.name).filter((name) => members.every((member) => member.protocols.some((protocol) => protocol.name === name)));
    const votes = new Map(candidates.map((name) => [name, 0]));
    for (const member of members) {
      const choice = member.protocols.find((protocol) => votes.has(protocol.name));
      if (choice) votes.set(choice.name, votes.get(choice.name)! + 1);
    }
    let best = candidates[0]!;
    for (const name of candidates) if (votes.get(name)! > votes.get(best)!) best = name;
    return best;
  }

  /** Whether a joining member's protocols can live with the group's members. */
  private supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.members.size === 0) return true;
    if (protocolType !== this.protocolType) return false;
    return protocols.some((protocol) => [...this.members.values()].every((member) => member.protocols.some((each) => each.name === protocol.name)));
  }

  private sameProtocols(member: Member, protocols: readonly Protocol[]): boolean {
    if (member.protocols.length !== protocols.length) return false;
    return member.protocols.every((protocol, index) => protocol.name === protocols[index]!.name && equalBytes(protocol.metadata, protocols[index]!.metadata));
  }

  private keepsAlive(member: Member, now: number): boolean {
    if (member.syncReply !== undefined) return true;
    if (member.joinReply !== undefined) return !member.isNew || member.lastHeartbeatMs + NEW_MEMBER_JOIN_TIMEOUT_MS > now;
    return member.lastHeartbeatMs + member.sessionTimeoutMs > now;
  }

  /** A member leaves or dies: the others rebalance. */
  private removeMember(member: Member, now: number): void {
    if (member.joinReply !== undefined) this.effects.push({ kind: 'join-reply', replyId: member.joinReply, result: this.errorJoinResult(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID) });
    if (member.syncReply !== undefined) this.effects.push({ kind: 'sync-reply', replyId: member.syncReply, result: this.errorSyncResult(ErrorCode.UNKNOWN_MEMBER_ID) });
    this.dropMember(member);
    if (this.state === 'Stable' || this.state === 'CompletingRebalance') this.prepareRebalance(now);
    else if (this.state === 'PreparingRebalance') this.tryCompleteJoin(now);
  }

  private dropMember(member: Member): void {
    this.members.delete(member.memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === member.memberId) this.staticMembers.delete(member.groupInstanceId);
    if (this.leaderId === member.memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  private isFenced(member: Member, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    return this.staticMembers.get(groupInstanceId) !== member.memberId;
  }

  private setState(state: GroupState, now: number): void {
    if (this.state !== state) this.stateSinceMs = now;
    this.state = state;
  }

  private joinError(replyId: number, memberId: string, errorCode: number): GroupEffect[] {
    this.effects.push({ kind: 'join-reply', replyId, result: this.errorJoinResult(memberId, errorCode) });
    return this.flush();
  }

  private errorJoinResult(memberId: string, errorCode: number): JoinResult {
    return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] };
  }

  private syncResult(assignment: Uint8Array): SyncResult {
    return { errorCode: ErrorCode.NONE, protocolType: this.protocolType, protocolName: this.protocolName, assignment };
  }

  private errorSyncResult(errorCode: number): SyncResult {
    return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
  }

  private flush(): GroupEffect[] {
    const effects = this.effects;
    this.effects = [];
    return effects;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let index = 0; index < a.byteLength; index++) if (a[index] !== b[index]) return false;
  return true;
}
