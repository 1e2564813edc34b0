/**
 * Consumer groups with kafkajs against `samsa start` (two brokers, a child process):
 * - three consumers of one group over a six-partition topic, committing by hand after each
 *   record: every record is processed exactly once across the group and the committed offsets
 *   end at the log end offsets;
 * - a consumer joining and one leaving cleanly (disconnect: LeaveGroup): the rebalances complete,
 *   every assignment a consumer is given (GROUP_JOIN) changes and they always cover every
 *   partition once;
 * - its admin client: describeGroups (state, protocol, members and their assignments),
 *   listGroups, fetchOffsets, deleteGroups (refused while the group has members), setOffsets
 *   that a consumer then resumes from; OffsetDelete, which kafkajs
 *   has no call for, is sent raw and checked with fetchOffsets;
 * - a broker restart (SIGTERM, then a start on the same data directory): the group is listed,
 *   fetchOffsets answers the same offsets, and a consumer of the group resumes from them.
 */
import { AssignerProtocol, type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import type { FindCoordinatorResponse, OffsetDeleteResponse } from '../../src/protocol/generated/messages/index.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { assignmentsAre, committedOffsets, connectKafkajs, countKeys, FAST_GROUP_ARGS, logEndOffsets, waitUntil } from './group-members.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const PARTITIONS = 6;
const ARGS = [...FAST_GROUP_ARGS, '--override', 'auto.create.topics.enable=false'];
const directories = new TemporaryDirectories();
const dataDirectory = directories.make('samsa-groups-kafkajs-');
let samsa: SamsaProcess;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const consumers: KafkajsMember[] = [];

interface ProcessedRecord {
  partition: number;
  offset: number;
  key: string;
}

/** A kafkajs consumer in a group: commits each record's offset after processing it. */
class KafkajsMember {
  readonly records: ProcessedRecord[] = [];
  /** Each assignment GROUP_JOIN reported, in order. */
  readonly assignments: number[][] = [];
  readonly consumer: Consumer;
  private stopped = false;

  constructor(readonly name: string, readonly topic: string, groupId: string) {
    this.consumer = kafka.consumer({ groupId, sessionTimeout: 3000, heartbeatInterval: 300, rebalanceTimeout: 6000, maxWaitTimeInMs: 100, retry: { retries: 5, initialRetryTime: 100 } });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => this.assignments.push([...(event.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b)));
  }

  static async start(name: string, topic: string, groupId: string): Promise<KafkajsMember> {
    const member = new KafkajsMember(name, topic, groupId);
    consumers.push(member);
    await member.consumer.connect();
    await member.consumer.subscribe({ topics: [topic], fromBeginning: true });
    await member.consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        member.records.push({ partition, offset: Number(message.offset), key: message.key!.toString() });
        await member.consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
      },
    });
    return member;
  }

  assignment(): Set<number> {
    return this.stopped ? new Set() : new Set(this.assignments.at(-1) ?? []);
  }

  /** Disconnects: a clean leave (LeaveGroup). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer.disconnect();
  }
}

async function connectClients(): Promise<void> {
  ({ kafka, admin, producer } = await connectKafkajs(samsa.port, 'samsa-groups-kafkajs'));
}

beforeAll(async () => {
  samsa = await startSamsa({ dataDirectory, brokerCount: 2, args: ARGS });
  await connectClients();
  const topics = ['shared', 'rebalanced', 'administered'];
  expect(await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true })).toBe(true);
});

afterAll(async () => {
  await Promise.all(consumers.map((consumer) => consumer.stop().catch(() => undefined)));
  await producer?.disconnect();
  await admin?.disconnect();
  await samsa?.stop('SIGKILL');
  directories.removeAll();
});

const keysFrom = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

async function produce(topic: string, keys: string[]): Promise<void> {
  await producer.send({ topic, acks: -1, messages: keys.map((key) => ({ key, value: `value of ${key}` })) });
}

const sortedEntries = (offsets: Map<number, number>) => [...offsets].sort(([a], [b]) => a - b);

/** OffsetDelete (kafkajs has no call for it), sent raw to the group's coordinator. */
async function offsetDelete(groupId: string, topic: string, partitions: number[]): Promise<OffsetDeleteResponse> {
  const bootstrap = await RawKafkaClient.connect(samsa.port);
  const found = await bootstrap.request<FindCoordinatorResponse>(10, 4, { keyType: 0, coordinatorKeys: [groupId] });
  bootstrap.close();
  expect(found.coordinators![0]!.errorCode).toBe(0);
  const coordinator = await RawKafkaClient.connect(found.coordinators![0]!.port);
  try {
    return await coordinator.request<OffsetDeleteResponse>(47, 0, { groupId, topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex })) }] });
  } finally {
    coordinator.close();
  }
}

describe('kafkajs consumer groups', () => {
  let shared: KafkajsMember[] = [];

  it('three consumers over six partitions, manual commits: every record processed exactly once, committed offsets at the log end', async () => {
    const early = keysFrom('early', 60);
    await produce('shared', early);
    shared = await Promise.all([1, 2, 3].map((i) => KafkajsMember.start(`shared-${i}`, 'shared', 'shared')));
    await waitUntil('the three consumers hold two partitions each', () => assignmentsAre(shared, PARTITIONS, [2, 2, 2]));
    const late = keysFrom('late', 120);
    await produce('shared', late);
    const total = early.length + late.length;
    const logEnd = await logEndOffsets(admin, 'shared');
    expect([...logEnd.values()].every((offset) => offset > 0), 'every partition has records').toBe(true);
    await waitUntil('every record processed', () => shared.flatMap((member) => member.records).length >= total);
    await expect.poll(async () => sortedEntries(await committedOffsets(admin, 'shared', 'shared')), { timeout: 10_000 }).toEqual(sortedEntries(logEnd));

    const processed = shared.flatMap((member) => member.records);
    expect(processed.length).toBe(total);
    expect(countKeys(processed)).toEqual(new Map([...early, ...late].map((key) => [key, 1])));
    for (const member of shared) {
      const lateRecords = member.records.filter((record) => record.key.startsWith('late'));
      expect(lateRecords.length, `${member.name} processed some`).toBeGreaterThan(0);
      for (const record of lateRecords) expect(member.assignment().has(record.partition)).toBe(true);
    }
  });

  it('admin: describeGroups, listGroups and fetchOffsets show the group; deleteGroups refuses while it has members', async () => {
    const [described] = (await admin.describeGroups(['shared'])).groups;
    expect(described).toMatchObject({ groupId: 'shared', state: 'Stable', protocolType: 'consumer', protocol: 'RoundRobinAssigner', errorCode: 0 });
    const assigned = described!.members.map((member) => AssignerProtocol.MemberAssignment.decode(member.memberAssignment)!.assignment.shared!.sort());
    expect(assigned.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(assigned.map((partitions) => partitions.length)).toEqual([2, 2, 2]);
    expect(described!.members.map((member) => member.clientId)).toEqual(['samsa-groups-kafkajs', 'samsa-groups-kafkajs', 'samsa-groups-kafkajs']);
    expect((await admin.listGroups()).groups).toContainEqual({ groupId: 'shared', protocolType: 'consumer' });
    expect(sortedEntries(await committedOffsets(admin, 'shared', 'shared'))).toEqual(sortedEntries(await logEndOffsets(admin, 'shared')));
    await expect(admin.deleteGroups(['shared'])).rejects.toMatchObject({ name: 'KafkaJSDeleteGroupsError', groups: [{ groupId: 'shared', errorCode: ErrorCode.NON_EMPTY_GROUP }] });
    // The members subscribe to the topic: its offsets may not be deleted under them.
    const refused = await offsetDelete('shared', 'shared', [0]);
    expect(refused.errorCode).toBe(0);
    expect(refused.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);

    await Promise.all(shared.map((member) => member.stop()));
    expect((await admin.describeGroups(['shared'])).groups[0]).toMatchObject({ state: 'Empty', members: [] });
    expect(sortedEntries(await committedOffsets(admin, 'shared', 'shared'))).toEqual(sortedEntries(await logEndOffsets(admin, 'shared')));
  });

  it('a consumer joining and one leaving cleanly trigger rebalances that complete and cover every partition', async () => {
    const one = await KafkajsMember.start('rebalanced-1', 'rebalanced', 'rebalanced');
    await waitUntil('the first consumer holds all six', () => assignmentsAre([one], PARTITIONS, [6]));
    const two = await KafkajsMember.start('rebalanced-2', 'rebalanced', 'rebalanced');
    await waitUntil('two consumers share six', () => assignmentsAre([one, two], PARTITIONS, [3, 3]));
    const three = await KafkajsMember.start('rebalanced-3', 'rebalanced', 'rebalanced');
    await waitUntil('three consumers share six', () => assignmentsAre([one, two, three], PARTITIONS, [2, 2, 2]));
    const heldByTwo = [...two.assignment()];
    await two.stop();
    await waitUntil('the two left share six', () => assignmentsAre([one, three], PARTITIONS, [3, 3]));
    for (const partition of heldByTwo) expect(one.assignment().has(partition) || three.assignment().has(partition)).toBe(true);
    // The first consumer went through each rebalance: 6, then 3, then 2, then 3 partitions.
    expect(one.assignments.map((partitions) => partitions.length)).toEqual([6, 3, 2, 3]);

    const keys = keysFrom('after-leave', 60);
    await produce('rebalanced', keys);
    await waitUntil('the remaining consumers consume what is sent after the leave', () => [one, three].flatMap((member) => member.records).length >= keys.length);
    expect(countKeys([one, three].flatMap((member) => member.records))).toEqual(new Map(keys.map((key) => [key, 1])));
    await Promise.all([one.stop(), three.stop()]);
    expect(sortedEntries(await committedOffsets(admin, 'rebalanced', 'rebalanced'))).toEqual(sortedEntries(await logEndOffsets(admin, 'rebalanced')));
  });

  it('a broker restart keeps the group and its offsets; a consumer resumes from them', async () => {
    const before = await committedOffsets(admin, 'shared', 'shared');
    await producer.disconnect();
    await admin.disconnect();
    expect(await samsa.stop('SIGTERM')).toBe(0);
    samsa = await startSamsa({ dataDirectory, brokerCount: 2, port: samsa.port, args: ARGS });
    await connectClients();
    expect((await admin.listGroups()).groups).toEqual(expect.arrayContaining([{ groupId: 'shared', protocolType: 'consumer' }, { groupId: 'rebalanced', protocolType: 'consumer' }]));
    expect(sortedEntries(await committedOffsets(admin, 'shared', 'shared'))).toEqual(sortedEntries(before));
    expect((await admin.describeGroups(['shared'])).groups[0]).toMatchObject({ state: 'Empty', protocolType: 'consumer', members: [] });

    const resumed = await KafkajsMember.start('resumed', 'shared', 'shared');
    const keys = keysFrom('after-restart', 30);
    await produce('shared', keys);
    await waitUntil('the resumed consumer processes what was sent after the restart', () => resumed.records.length >= keys.length);
    // Only the new records, each partition from the offset committed before the restart.
    expect(countKeys(resumed.records)).toEqual(new Map(keys.map((key) => [key, 1])));
    for (const [partition, offset] of before) {
      const first = resumed.records.find((record) => record.partition === partition);
      if (first) expect(first.offset).toBe(offset);
    }
    await resumed.stop();
    expect(sortedEntries(await committedOffsets(admin, 'shared', 'shared'))).toEqual(sortedEntries(await logEndOffsets(admin, 'shared')));
  });

  it('admin: setOffsets is resumed from, OffsetDelete removes offsets, deleteGroups removes the group', async () => {
    await produce('administered', keysFrom('administered', 60));
    const logEnd = await logEndOffsets(admin, 'administered');
    // setOffsets joins the (empty) group with a paused consumer, seeks and commits as it stops
    // (it then waits out kafkajs's maxWaitTimeInMs, 5 s): each partition two records from its end.
    const set = new Map([...logEnd].map(([partition, end]) => [partition, Math.max(0, end - 2)]));
    await admin.setOffsets({ groupId: 'administered', topic: 'administered', partitions: [...set].map(([partition, offset]) => ({ partition, offset: String(offset) })) });
    expect(sortedEntries(await committedOffsets(admin, 'administered', 'administered'))).toEqual(sortedEntries(set));

    const consumer = await KafkajsMember.start('administered', 'administered', 'administered');
    const expected = [...logEnd].reduce((sum, [partition, end]) => sum + end - set.get(partition)!, 0);
    await waitUntil('the consumer processes from the offsets set', () => consumer.records.length >= expected);
    await consumer.stop();
    expect(consumer.records.length).toBe(expected);
    for (const record of consumer.records) expect(record.offset).toBeGreaterThanOrEqual(set.get(record.partition)!);

    const deleted = await offsetDelete('administered', 'administered', [0, 1]);
    expect(deleted).toMatchObject({ errorCode: 0, topics: [{ name: 'administered', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }] }] });
    const remaining = await committedOffsets(admin, 'administered', 'administered');
    expect(sortedEntries(remaining)).toEqual(sortedEntries(new Map([...logEnd].map(([partition, end]) => [partition, partition <= 1 ? -1 : end]))));

    await admin.deleteGroups(['administered']);
    expect((await admin.listGroups()).groups.map((group) => group.groupId)).not.toContain('administered');
    expect([...(await committedOffsets(admin, 'administered', 'administered')).values()]).toEqual([-1, -1, -1, -1, -1, -1]);
    expect((await admin.describeGroups(['administered'])).groups[0]).toMatchObject({ state: 'Dead', members: [] });
    await expect(admin.deleteGroups(['administered'])).rejects.toMatchObject({ groups: [{ groupId: 'administered', errorCode: ErrorCode.GROUP_ID_NOT_FOUND }] });
  });
});
