/**
 * The group coordinator actor under the deterministic runtime (virtual time, seeded order) over
 * a real partition log on disk: calls go through its mailbox as the broker sends them, session
 * timeouts and offsets expiry run on the virtual clock, and a new coordinator on the reopened
 * log finds every group and committed offset again.
 */
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { coordinatorActor, type CoordinatorActorArgs } from '../../src/groups/coordinator-actor.js';
import type { GroupAnswer, GroupCall, ToCoordinator } from '../../src/groups/group-calls.js';
import { decodeOffsetsKey } from '../../src/groups/offsets-records.js';
import { DEFAULT_LOG_CONFIG, withTopicConfigs } from '../../src/log/log-config.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { decodeBatchRecords } from '../../src/log/records.js';
import { parseBatches } from '../../src/log/record-batch.js';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import type { ActorFactory, Address } from '../../src/runtime/actor.js';
import { DeterministicRuntime } from '../../src/runtime/deterministic-runtime.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { subscription } from './group-driver.js';

const silent = pino({ level: 'silent' });
const directories = new TemporaryDirectories();
afterAll(() => directories.removeAll());

const SETTINGS = { minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000, initialRebalanceDelayMs: 0, maxSize: 100, offsetsRetentionMs: 60_000, offsetMetadataMaxBytes: 16 };

/** Stands in for the broker actor: forwards calls and keeps the answers by request id. */
const brokerStandIn: ActorFactory = (context, init) => {
  const { coordinator, answers } = init.args as { coordinator: () => Address; answers: Map<number, GroupAnswer> };
  return {
    async receive(message) {
      const body = message.body as { type: 'ask'; requestId: number; call: GroupCall } | { type: 'answer'; requestId: number; answer: GroupAnswer };
      if (body.type === 'ask') await context.send(coordinator(), { type: 'call', requestId: body.requestId, call: body.call } satisfies ToCoordinator);
      else answers.set(body.requestId, body.answer);
    },
  };
};

class Harness {
  readonly runtime = new DeterministicRuntime({ seed: 7, log: silent });
  readonly answers = new Map<number, GroupAnswer>();
  readonly log: PartitionLog;
  readonly coordinator: Address;
  readonly broker: Address;
  private nextRequest = 1;

  constructor(readonly directory: string) {
    this.log = new PartitionLog({ directory, config: withTopicConfigs(DEFAULT_LOG_CONFIG, { 'cleanup.policy': 'compact' }), now: () => this.runtime.nowMs });
    // As the partition's leader actor appends: written, then the high watermark moves past it.
    const append = async (batch: Uint8Array) => {
      const result = await this.log.append(batch);
      this.log.setHighWatermark(result.lastOffset + 1);
    };
    const args: CoordinatorActorArgs = { partition: 0, log: this.log, append, settings: SETTINGS, retentionCheckIntervalMs: 10_000 };
    this.broker = this.runtime.spawn(brokerStandIn, { coordinator: () => this.coordinator, answers: this.answers });
    this.coordinator = this.runtime.spawn(coordinatorActor, args);
  }

  /** Sends a call and runs until it is answered (or `untilMs` of virtual time passes). */
  async ask<Op extends GroupAnswer['op']>(call: GroupCall & { op: Op }, untilMs = this.runtime.nowMs): Promise<Extract<GroupAnswer, { op: Op }> | undefined> {
    const requestId = this.nextRequest++;
    await this.runtime.send(this.broker, { type: 'ask', requestId, call });
    await this.runtime.run({ untilMs });
    return this.answers.get(requestId) as Extract<GroupAnswer, { op: Op }> | undefined;
  }

  async send(call: GroupCall): Promise<number> {
    const requestId = this.nextRequest++;
    await this.runtime.send(this.broker, { type: 'ask', requestId, call });
    return requestId;
  }

  join(memberId: string, groupInstanceId: string | null = null): GroupCall & { op: 'join' } {
    return {
      op: 'join', groupId: 'orders', memberId, groupInstanceId, clientId: 'app', clientHost: '/127.0.0.1', sessionTimeoutMs: 5_000, rebalanceTimeoutMs: 5_000,
      protocolType: 'consumer', protocols: [{ name: 'range', metadata: subscription('t') }], requireKnownMemberId: false,
    };
  }

  commit(memberId: string, generationId: number, offsets: [string, number, bigint][], groupId = 'orders'): GroupCall & { op: 'commit' } {
    return { op: 'commit', groupId, memberId, groupInstanceId: null, generationId, retentionTimeMs: -1, offsets: offsets.map(([topic, partition, offset]) => ({ topic, partition, offset, leaderEpoch: 3, metadata: 'm' })) };
  }

  /** Every record in the partition: [key kind, group, tombstone?]. */
  records(): { kind: string; group: string; tombstone: boolean }[] {
    const read = this.log.read(0, 1 << 24, this.log.logEndOffset);
    return parseBatches(read.bytes).flatMap((header) => decodeBatchRecords(read.bytes.subarray(header.position, header.position + header.sizeBytes)).records.map((record) => {
      expect([record.key![0], record.key![1]]).toEqual([0, decodeOffsetsKey(record.key!)!.kind === 'offset' ? 1 : 2]);
      if (record.value) expect([record.value[0], record.value[1]]).toEqual([0, decodeOffsetsKey(record.key!)!.kind === 'offset' && record.value[1] === 1 ? 1 : 3]);
      const key = decodeOffsetsKey(record.key!)!;
      return { kind: key.kind, group: key.group, tombstone: record.value === null };
    }));
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}

describe('group coordinator actor', () => {
  it('runs a group through join, sync, commits and a member timing out, on virtual time', async () => {
    const harness = new Harness(path.join(directories.make('samsa-groups-'), '__consumer_offsets-0'));
    const first = await harness.ask(harness.join(''));
    expect(first!.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1 });
    const a = first!.result.memberId;
    await harness.ask({ op: 'sync', groupId: 'orders', memberId: a, groupInstanceId: null, generationId: 1, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: a, assignment: Uint8Array.of(1) }] });
    // A second member: its join is held until the first rejoins.
    const heldJoin = await harness.send(harness.join(''));
    await harness.runtime.run({ untilMs: 100 });
    expect(harness.answers.has(heldJoin)).toBe(false);
    expect((await harness.ask({ op: 'heartbeat', groupId: 'orders', memberId: a, groupInstanceId: null, generationId: 1 }))!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoin = await harness.ask(harness.join(a));
    expect(rejoin!.result.generationId).toBe(2);
    const b = (harness.answers.get(heldJoin) as Extract<GroupAnswer, { op: 'join' }>).result.memberId;
    const leader = rejoin!.result.leader;
    const follower = leader === a ? b : a;
    const followerSync = await harness.send({ op: 'sync', groupId: 'orders', memberId: follower, groupInstanceId: null, generationId: 2, protocolType: null, protocolName: null, assignments: [] });
    await harness.ask({ op: 'sync', groupId: 'orders', memberId: leader, groupInstanceId: null, generationId: 2, protocolType: null, protocolName: null, assignments: [{ memberId: follower, assignment: Uint8Array.of(9) }] });
    expect((harness.answers.get(followerSync) as Extract<GroupAnswer, { op: 'sync' }>).result.assignment).toEqual(Uint8Array.of(9));

    const commit = await harness.ask(harness.commit(leader, 2, [['t', 0, 42n], ['t', 1, 7n]]));
    expect(commit).toEqual({ op: 'commit', errorCode: ErrorCode.NONE, partitions: [{ topic: 't', partition: 0, errorCode: 0 }, { topic: 't', partition: 1, errorCode: 0 }] });
    const stale = await harness.ask(harness.commit(leader, 1, [['t', 0, 99n]]));
    expect(stale!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    const tooLong = await harness.ask({ ...harness.commit(leader, 2, [['t', 2, 5n]]), offsets: [{ topic: 't', partition: 2, offset: 5n, leaderEpoch: -1, metadata: 'x'.repeat(17) }] });
    expect(tooLong!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_METADATA_TOO_LARGE);

    // Only the leader keeps heartbeating; the follower expires after its 5 s session.
    for (let at = 1_000; at <= 6_000; at += 1_000) {
      await harness.runtime.run({ untilMs: harness.runtime.nowMs + 1_000 });
      await harness.ask({ op: 'heartbeat', groupId: 'orders', memberId: leader, groupInstanceId: null, generationId: 2 });
    }
    const described = await harness.ask({ op: 'describe', groupId: 'orders' });
    expect(described!.group.state).toBe('PreparingRebalance');
    expect(described!.group.members.map((member) => member.memberId)).toEqual([leader]);

    const fetched = await harness.ask({ op: 'fetch-offsets', groupId: 'orders', topics: [{ topic: 't', partitions: [0, 1, 2] }] });
    expect(fetched!.offsets.map((offset) => offset.offset)).toEqual([42n, 7n, -1n]);
    expect(harness.records().map((record) => record.kind)).toEqual(['group', 'group', 'offset', 'offset']);
    await harness.close();
  });

  it('finds groups and offsets again after a restart, deletes groups with tombstones, and expires offsets', async () => {
    const directory = path.join(directories.make('samsa-groups-'), '__consumer_offsets-0');
    const before = new Harness(directory);
    const joined = await before.ask(before.join('', 'static-1'));
    const member = joined!.result.memberId;
    await before.ask({ op: 'sync', groupId: 'orders', memberId: member, groupInstanceId: 'static-1', generationId: 1, protocolType: null, protocolName: null, assignments: [{ memberId: member, assignment: Uint8Array.of(5) }] });
    await before.ask(before.commit(member, 1, [['t', 0, 10n]]));
    await before.ask(before.commit('', -1, [['t', 0, 3n]], 'standalone'));
    await before.close();

    const after = new Harness(directory);
    const described = await after.ask({ op: 'describe', groupId: 'orders' });
    expect(described!.group).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocolName: 'range' });
    expect(described!.group.members).toMatchObject([{ memberId: member, groupInstanceId: 'static-1' }]);
    expect([...described!.group.members[0]!.assignment]).toEqual([5]);
    expect((await after.ask({ op: 'fetch-offsets', groupId: 'orders', topics: null }))!.offsets).toEqual([{ topic: 't', partition: 0, offset: 10n, leaderEpoch: 3, metadata: 'm' }]);
    const listed = await after.ask({ op: 'list', statesFilter: [] });
    expect(listed!.groups.map((group) => [group.groupId, group.state]).sort()).toEqual([['orders', 'Stable'], ['standalone', 'Empty']]);
    // The restored member heartbeats with its generation; a restarted static member gets its assignment back.
    expect((await after.ask({ op: 'heartbeat', groupId: 'orders', memberId: member, groupInstanceId: 'static-1', generationId: 1 }))!.errorCode).toBe(ErrorCode.NONE);
    const back = await after.ask(after.join('', 'static-1'));
    expect(back!.result).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1 });
    const sync = await after.ask({ op: 'sync', groupId: 'orders', memberId: back!.result.memberId, groupInstanceId: 'static-1', generationId: 1, protocolType: null, protocolName: null, assignments: [] });
    expect([...sync!.result.assignment]).toEqual([5]);

    expect((await after.ask({ op: 'delete', groupId: 'orders' }))!.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
    expect((await after.ask({ op: 'delete', groupId: 'nobody' }))!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    expect((await after.ask({ op: 'delete', groupId: 'standalone' }))!.errorCode).toBe(ErrorCode.NONE);
    expect(after.records().filter((record) => record.group === 'standalone').map((record) => record.tombstone)).toEqual([false, true, true]);
    // The static member leaves; 60 s later (offsets.retention) the emptied group's offsets expire.
    await after.ask({ op: 'leave', groupId: 'orders', members: [{ memberId: '', groupInstanceId: 'static-1' }] });
    await after.runtime.run({ untilMs: after.runtime.nowMs + 80_000 });
    expect((await after.ask({ op: 'fetch-offsets', groupId: 'orders', topics: null }))!.offsets).toEqual([]);
    await after.close();

    const third = new Harness(directory);
    expect((await third.ask({ op: 'list', statesFilter: [] }))!.groups).toEqual([]);
    expect((await third.ask({ op: 'fetch-offsets', groupId: 'standalone', topics: [{ topic: 't', partitions: [0] }] }))!.offsets[0]!.offset).toBe(-1n);
    await third.close();
  });

  it('keeps an explicit retention time (OffsetCommit v2-4) across a restart', async () => {
    const directory = path.join(directories.make('samsa-groups-'), '__consumer_offsets-0');
    const before = new Harness(directory);
    await before.ask({ ...before.commit('', -1, [['t', 0, 5n]], 'short'), retentionTimeMs: 20_000 });
    await before.ask(before.commit('', -1, [['t', 0, 6n]], 'default'));
    await before.close();
    const after = new Harness(directory);
    await after.runtime.run({ untilMs: 35_000 }); // past 20 s, before the 60 s default retention
    const offset = async (groupId: string) => (await after.ask({ op: 'fetch-offsets', groupId, topics: [{ topic: 't', partitions: [0] }] }))!.offsets[0]!.offset;
    expect(await offset('short')).toBe(-1n);
    expect(await offset('default')).toBe(6n);
    await after.close();
  });
});
