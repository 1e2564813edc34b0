/**
 * Drives a ClassicGroup the way clients and the coordinator do, for the state machine's tests:
 * joins and syncs get reply ids, effects are collected into the answers each reply id received
 * (exactly one is allowed), and `store` effects are counted.
 */
import { expect } from 'vitest';
import { ClassicGroup, type GroupEffect, type GroupSettings, type JoinResult, type SyncResult } from '../../src/groups/classic-group.js';

export const SETTINGS: GroupSettings = { minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000, initialRebalanceDelayMs: 0, maxSize: 100 };

/** ConsumerProtocolSubscription v0: int16 version, [topic], null user data. */
export function subscription(...topics: string[]): Uint8Array {
  const parts: number[] = [0, 0, 0, 0, 0, topics.length];
  for (const topic of topics) {
    const bytes = Buffer.from(topic);
    parts.push(bytes.length >> 8, bytes.length & 0xff, ...bytes);
  }
  parts.push(0xff, 0xff, 0xff, 0xff);
  return Uint8Array.from(parts);
}

export class GroupDriver {
  readonly group: ClassicGroup;
  now = 0;
  stores = 0;
  private nextReply = 1;
  private suffix = 0;
  readonly joins = new Map<number, JoinResult>();
  readonly syncs = new Map<number, SyncResult>();

  constructor(settings: GroupSettings = SETTINGS, groupId = 'g') {
    this.group = new ClassicGroup(groupId, settings, this.now);
  }

  apply(effects: readonly GroupEffect[]): void {
    for (const effect of effects) {
      if (effect.kind === 'store') {
        this.stores++;
      } else if (effect.kind === 'join-reply') {
        expect(this.joins.has(effect.replyId), `join reply ${effect.replyId} answered twice`).toBe(false);
        this.joins.set(effect.replyId, effect.result);
      } else {
        expect(this.syncs.has(effect.replyId), `sync reply ${effect.replyId} answered twice`).toBe(false);
        this.syncs.set(effect.replyId, effect.result);
      }
    }
  }

  /** Sends a JoinGroup; returns its reply id (look the answer up in `joins`). */
  join(memberId: string, options: { instanceId?: string | null; topics?: string[]; protocols?: string[]; sessionTimeoutMs?: number; rebalanceTimeoutMs?: number; v4?: boolean } = {}): number {
    const replyId = this.nextReply++;
    const metadata = subscription(...(options.topics ?? ['t']));
    this.apply(this.group.join({
      replyId,
      memberId,
      groupInstanceId: options.instanceId ?? null,
      clientId: 'client',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 20_000,
      protocolType: 'consumer',
      protocols: (options.protocols ?? ['range']).map((name) => ({ name, metadata })),
      requireKnownMemberId: options.v4 ?? true,
      newMemberSuffix: String(++this.suffix),
    }, this.now));
    return replyId;
  }

  /** A new dynamic member's two-step join (MEMBER_ID_REQUIRED, then the join); returns the held join's reply id and the member id. */
  joinNew(options: Parameters<GroupDriver['join']>[1] = {}): { replyId: number; memberId: string } {
    const first = this.join('', options);
    const answer = this.joins.get(first)!;
    if (options.instanceId) return { replyId: first, memberId: '' };
    expect(answer.errorCode).toBe(79); // MEMBER_ID_REQUIRED
    return { replyId: this.join(answer.memberId, options), memberId: answer.memberId };
  }

  sync(memberId: string, generationId: number, assignments: { memberId: string; assignment: Uint8Array }[] = [], instanceId: string | null = null): number {
    const replyId = this.nextReply++;
    this.apply(this.group.sync({ replyId, memberId, groupInstanceId: instanceId, generationId, protocolType: 'consumer', protocolName: null, assignments }, this.now));
    return replyId;
  }

  heartbeat(memberId: string, generationId: number, instanceId: string | null = null): number {
    return this.group.heartbeat(memberId, instanceId, generationId, this.now);
  }

  /** Moves time to the group's next deadline (or by `ms`) and expires what is due. */
  advance(ms?: number): void {
    const deadline = this.group.nextDeadline();
    this.now = ms === undefined ? Math.max(this.now, deadline ?? this.now) : this.now + ms;
    this.apply(this.group.expire(this.now));
  }
}
