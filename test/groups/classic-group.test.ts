import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClassicGroup, NEW_MEMBER_JOIN_TIMEOUT_MS } from '../../src/groups/classic-group.js';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { GroupDriver, SETTINGS } from './group-driver.js';

const bytes = (text: string) => Uint8Array.from(Buffer.from(text));

/** Two dynamic members through a whole rebalance: returns their ids and the generation. */
function twoStableMembers(driver: GroupDriver): { leader: string; follower: string; generation: number } {
  const a = driver.joinNew(); // no initial delay: the join completes at once
  const first = driver.joins.get(a.replyId)!;
  driver.sync(a.memberId, first.generationId, [{ memberId: a.memberId, assignment: bytes('a-all') }]);
  const b = driver.joinNew();
  const rejoin = driver.join(a.memberId);
  const joinedA = driver.joins.get(rejoin)!;
  const joinedB = driver.joins.get(b.replyId)!;
  expect(joinedA.generationId).toBe(2);
  const leader = joinedA.leader;
  const follower = leader === a.memberId ? b.memberId : a.memberId;
  const followerSync = driver.sync(follower, 2);
  driver.sync(leader, 2, [{ memberId: leader, assignment: bytes('L') }, { memberId: follower, assignment: bytes('F') }]);
  expect(driver.syncs.get(followerSync)!.assignment).toEqual(bytes('F'));
  expect(joinedB.generationId).toBe(2);
  return { leader, follower, generation: 2 };
}

describe('classic group state machine', () => {
  it('asks a new dynamic member for a member id, then completes its join as leader with every member', () => {
    const driver = new GroupDriver();
    const first = driver.join('');
    expect(driver.joins.get(first)).toMatchObject({ errorCode: ErrorCode.MEMBER_ID_REQUIRED, memberId: 'client-1' });
    const second = driver.join('client-1');
    const joined = driver.joins.get(second)!;
    expect(joined).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, leader: 'client-1', memberId: 'client-1', protocolName: 'range', protocolType: 'consumer' });
    expect(joined.members.map((member) => member.memberId)).toEqual(['client-1']);
    expect(driver.group.state).toBe('CompletingRebalance');
    const sync = driver.sync('client-1', 1, [{ memberId: 'client-1', assignment: bytes('x') }]);
    expect(driver.syncs.get(sync)).toMatchObject({ errorCode: ErrorCode.NONE, assignment: bytes('x') });
    expect(driver.group.state).toBe('Stable');
    expect(driver.stores).toBe(1);
  });

  it('holds a first join through group.initial.rebalance.delay.ms', () => {
    const driver = new GroupDriver({ ...SETTINGS, initialRebalanceDelayMs: 3_000 });
    const reply = driver.join('', { v4: false });
    expect(driver.joins.has(reply)).toBe(false);
    expect(driver.group.state).toBe('PreparingRebalance');
    expect(driver.group.nextDeadline()).toBe(3_000);
    driver.advance();
    expect(driver.joins.get(reply)).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1 });
  });

  it('rebalances when a member joins a stable group; followers wait in SyncGroup for the leader', () => {
    const driver = new GroupDriver();
    const { leader, follower } = twoStableMembers(driver);
    expect(driver.group.state).toBe('Stable');
    expect(driver.heartbeat(leader, 2)).toBe(ErrorCode.NONE);
    expect(driver.heartbeat(follower, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(driver.group.members.size).toBe(2);
  });

  it('holds the first sync of a follower until the leader syncs, and resets assignments when a rebalance interrupts', () => {
    const driver = new GroupDriver();
    const { leader, follower } = twoStableMembers(driver);
    driver.joinNew(); // a third member: everyone rejoins
    expect(driver.heartbeat(leader, 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const l = driver.join(leader);
    const f = driver.join(follower);
    expect(driver.joins.get(l)!.generationId).toBe(3);
    expect(driver.joins.get(f)!.generationId).toBe(3);
    const held = driver.sync(follower, 3);
    expect(driver.syncs.has(held)).toBe(false);
    driver.joinNew(); // yet another member before the leader synced
    expect(driver.syncs.get(held)!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(driver.group.state).toBe('PreparingRebalance');
  });

  it('expires a member that stops heartbeating, and the rest rebalance', () => {
    const driver = new GroupDriver();
    const { leader, follower } = twoStableMembers(driver);
    driver.now += 6_000;
    expect(driver.heartbeat(leader, 2)).toBe(ErrorCode.NONE);
    driver.now += 5_000; // follower silent for 11 s > 10 s session
    driver.apply(driver.group.expire(driver.now));
    expect(driver.group.members.has(follower)).toBe(false);
    expect(driver.group.state).toBe('PreparingRebalance');
    const rejoin = driver.join(leader);
    expect(driver.joins.get(rejoin)).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 3, leader });
    expect(driver.joins.get(rejoin)!.members).toHaveLength(1);
  });

  it('removes a dynamic member that does not rejoin within the rebalance timeout', () => {
    const driver = new GroupDriver();
    const { leader, follower } = twoStableMembers(driver);
    driver.joinNew({ rebalanceTimeoutMs: 5_000 });
    const l = driver.join(leader);
    // The follower keeps heartbeating but never rejoins.
    for (let step = 0; step < 4; step++) {
      driver.now += 1_000;
      expect(driver.heartbeat(follower, 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    expect(driver.joins.has(l)).toBe(false);
    driver.advance();
    expect(driver.joins.get(l)!.generationId).toBe(3);
    expect(driver.group.members.has(follower)).toBe(false);
    expect(driver.heartbeat(follower, 3)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('lets a leaving member go at once (LeaveGroup), and answers UNKNOWN_MEMBER_ID for a stranger', () => {
    const driver = new GroupDriver();
    const { leader, follower } = twoStableMembers(driver);
    const { outcomes, effects } = driver.group.leave([{ memberId: follower, groupInstanceId: null }, { memberId: 'nobody', groupInstanceId: null }], driver.now);
    driver.apply(effects);
    expect(outcomes.map((outcome) => outcome.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(driver.group.state).toBe('PreparingRebalance');
    const rejoin = driver.join(leader);
    expect(driver.joins.get(rejoin)!.generationId).toBe(3);
    // The last member leaving completes the join at once, with nobody: the group is empty.
    driver.apply(driver.group.leave([{ memberId: leader, groupInstanceId: null }], driver.now).effects);
    expect(driver.group.state).toBe('Empty');
    expect(driver.group.generationId).toBe(4);
  });

  it('gives a returning static member its assignment without a rebalance, and fences its old id', () => {
    const driver = new GroupDriver({ ...SETTINGS, initialRebalanceDelayMs: 1_000 });
    const a = driver.join('', { instanceId: 'alpha' });
    const b = driver.join('', { instanceId: 'beta' });
    driver.advance(); // the initial delay, extended once since two members came
    driver.advance();
    const ja = driver.joins.get(a)!;
    const jb = driver.joins.get(b)!;
    const leader = ja.leader;
    expect(leader).toBe(ja.memberId);
    driver.sync(jb.memberId, 1);
    driver.sync(leader, 1, [{ memberId: ja.memberId, assignment: bytes('A') }, { memberId: jb.memberId, assignment: bytes('B') }]);
    expect(driver.group.state).toBe('Stable');
    const storesBefore = driver.stores;
    // beta restarts: a fresh join with its instance id and no member id.
    const back = driver.join('', { instanceId: 'beta' });
    const rejoined = driver.joins.get(back)!;
    expect(rejoined).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, leader });
    expect(rejoined.memberId).not.toBe(jb.memberId);
    expect(driver.group.state).toBe('Stable');
    expect(driver.stores).toBe(storesBefore + 1);
    const sync = driver.sync(rejoined.memberId, 1, [], 'beta');
    expect(driver.syncs.get(sync)!.assignment).toEqual(bytes('B'));
    expect(driver.heartbeat(jb.memberId, 1, 'beta')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(driver.heartbeat(rejoined.memberId, 1, 'beta')).toBe(ErrorCode.NONE);
    // The old leader id with the leader's instance id but a stale member id is fenced.
    expect(driver.group.validateCommit(rejoined.memberId, 'alpha', 1, driver.now)).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });

  it('keeps static members that miss a rebalance, and a static member leaves by instance id', () => {
    const driver = new GroupDriver();
    const a = driver.join('', { instanceId: 'alpha', sessionTimeoutMs: 60_000 });
    const ja = driver.joins.get(a)!;
    driver.sync(ja.memberId, 1, [{ memberId: ja.memberId, assignment: bytes('A') }]);
    const newcomer = driver.joinNew({ rebalanceTimeoutMs: 1_000 });
    driver.advance(); // alpha never rejoins, but a static member is not removed at the deadline
    expect(driver.joins.get(newcomer.replyId)!.generationId).toBe(2);
    expect(driver.group.members.has(ja.memberId)).toBe(true);
    const { outcomes } = driver.group.leave([{ memberId: '', groupInstanceId: 'alpha' }], driver.now);
    expect(outcomes[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(driver.group.members.has(ja.memberId)).toBe(false);
  });

  it('refuses bad joins with the errors clients expect', () => {
    const driver = new GroupDriver();
    expect(driver.joins.get(driver.join('', { sessionTimeoutMs: 10 }))!.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(driver.joins.get(driver.join('', { sessionTimeoutMs: 120_000 }))!.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(driver.joins.get(driver.join('someone'))!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    twoStableMembers(driver);
    expect(driver.joins.get(driver.join('', { protocols: ['other'] }))!.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const full = new GroupDriver({ ...SETTINGS, maxSize: 1 });
    full.joinNew();
    expect(full.joins.get(full.join(''))!.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
  });

  it('chooses the protocol every member supports with the most votes', () => {
    const driver = new GroupDriver({ ...SETTINGS, initialRebalanceDelayMs: 1_000 });
    const a = driver.join('', { v4: false, protocols: ['cooperative-sticky', 'range'] });
    const b = driver.join('', { v4: false, protocols: ['range', 'roundrobin'] });
    const c = driver.join('', { v4: false, protocols: ['range', 'cooperative-sticky'] });
    driver.advance();
    driver.advance();
    for (const reply of [a, b, c]) expect(driver.joins.get(reply)!.protocolName).toBe('range');
  });

  it('waits group.initial.rebalance.delay.ms for more members, extending while they keep coming', () => {
    const driver = new GroupDriver({ ...SETTINGS, initialRebalanceDelayMs: 3_000 });
    const first = driver.join('', { v4: false, rebalanceTimeoutMs: 10_000 });
    driver.now += 2_000;
    const second = driver.join('', { v4: false, rebalanceTimeoutMs: 10_000 });
    driver.now = 3_000;
    driver.apply(driver.group.expire(driver.now));
    expect(driver.joins.has(first)).toBe(false); // a member arrived during the delay: extended
    driver.advance();
    expect(driver.now).toBe(6_000);
    expect(driver.joins.get(first)!.members).toHaveLength(2);
    expect(driver.joins.get(second)!.generationId).toBe(1);
  });

  it('rebalances a stable group when a topic it subscribes to grows, not for other topics', () => {
    const driver = new GroupDriver();
    twoStableMembers(driver);
    driver.apply(driver.group.topicGrew('unrelated', driver.now));
    expect(driver.group.state).toBe('Stable');
    driver.apply(driver.group.topicGrew('t', driver.now));
    expect(driver.group.state).toBe('PreparingRebalance');
  });

  it('validates commits: standalone on an empty group, members of the current generation otherwise', () => {
    const driver = new GroupDriver();
    expect(driver.group.validateCommit('', null, -1, 0)).toBe(ErrorCode.NONE);
    const { leader, follower } = twoStableMembers(driver);
    expect(driver.group.validateCommit('', null, -1, 0)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(driver.group.validateCommit(leader, null, 2, 0)).toBe(ErrorCode.NONE);
    expect(driver.group.validateCommit(follower, null, 1, 0)).toBe(ErrorCode.ILLEGAL_GENERATION);
    const joining = driver.joinNew();
    driver.join(leader);
    driver.join(follower);
    expect(driver.joins.get(joining.replyId)!.generationId).toBe(3);
    expect(driver.group.validateCommit(leader, null, 3, 0)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('expires a first-time member whose join waits longer than the new-member timeout', () => {
    const driver = new GroupDriver();
    const { leader } = twoStableMembers(driver);
    const newcomer = driver.joinNew({ rebalanceTimeoutMs: 600_000 });
    driver.now += NEW_MEMBER_JOIN_TIMEOUT_MS + 1;
    driver.heartbeat(leader, 2);
    driver.apply(driver.group.expire(driver.now));
    expect(driver.joins.get(newcomer.replyId)!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('stores and reloads a group with its members, assignments and generation', () => {
    const driver = new GroupDriver();
    const { leader, follower } = twoStableMembers(driver);
    const loaded = ClassicGroup.fromStored('g', driver.group.toStored(), SETTINGS, 50_000);
    expect(loaded.state).toBe('Stable');
    expect(loaded.generationId).toBe(2);
    expect(loaded.leaderId).toBe(leader);
    expect(loaded.members.get(follower)!.assignment).toEqual(bytes('F'));
    expect(loaded.heartbeat(follower, null, 2, 50_000)).toBe(ErrorCode.NONE);
    expect(loaded.nextDeadline()).toBe(60_000);
  });

  it('a second sync from a member while the leader has not synced answers the first with REBALANCE_IN_PROGRESS', () => {
    // The counterexample the random schedules below once found: join, join, rejoin, sync, sync.
    const driver = new GroupDriver();
    const first = driver.joinNew();
    const second = driver.joinNew();
    driver.join(first.memberId);
    expect(driver.group.state).toBe('CompletingRebalance');
    const follower = driver.group.leaderId === first.memberId ? second.memberId : first.memberId;
    const generation = driver.group.generationId;
    const earlier = driver.sync(follower, generation, []);
    expect(driver.syncs.has(earlier)).toBe(false); // held for the leader's assignment
    const later = driver.sync(follower, generation, []);
    expect(driver.syncs.get(earlier)?.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(driver.syncs.has(later)).toBe(false); // the one still held
  });

  it('answers every held join and sync exactly once, whatever members do (random schedules)', () => {
    type Op = { kind: 'join' | 'rejoin' | 'sync' | 'heartbeat' | 'leave' | 'wait'; who: number; ms: number };
    const op = fc.record({ kind: fc.constantFrom('join', 'rejoin', 'sync', 'heartbeat', 'leave', 'wait'), who: fc.nat(3), ms: fc.integer({ min: 0, max: 15_000 }) }) as fc.Arbitrary<Op>;
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const driver = new GroupDriver();
      const ids: (string | undefined)[] = [];
      const issued: number[] = [];
      for (const { kind, who, ms } of ops) {
        const id = ids[who];
        const generation = driver.group.generationId;
        if (kind === 'join') {
          const { replyId, memberId } = driver.joinNew();
          ids[who] = memberId;
          issued.push(replyId);
        } else if (kind === 'rejoin' && id) {
          issued.push(driver.join(id));
        } else if (kind === 'sync' && id) {
          issued.push(driver.sync(id, generation, [...driver.group.members.keys()].map((memberId) => ({ memberId, assignment: bytes(memberId) }))));
        } else if (kind === 'heartbeat' && id) {
          driver.heartbeat(id, generation);
        } else if (kind === 'leave' && id) {
          driver.apply(driver.group.leave([{ memberId: id, groupInstanceId: null }], driver.now).effects);
          ids[who] = undefined;
        } else {
          driver.advance(ms);
        }
        // Invariants after every step.
        const state = driver.group.state;
        if (state === 'Stable' || state === 'CompletingRebalance') expect(driver.group.leaderId).not.toBeNull();
        if (state === 'Stable') for (const member of driver.group.members.values()) expect(member.joinReply).toBeUndefined();
        if (state === 'Empty') expect(driver.group.members.size).toBe(0);
      }
      // Everyone leaves; time passes: nothing stays held.
      for (const id of ids) if (id) driver.apply(driver.group.leave([{ memberId: id, groupInstanceId: null }], driver.now).effects);
      driver.advance(NEW_MEMBER_JOIN_TIMEOUT_MS + 60_000);
      driver.advance(NEW_MEMBER_JOIN_TIMEOUT_MS + 60_000);
      for (const replyId of issued) expect(driver.joins.has(replyId) || driver.syncs.has(replyId), `reply ${replyId} never answered`).toBe(true);
    }), { numRuns: 300 });
  });
});
