/**
 * Group membership under failure and change, with members as Python processes of their own
 * (group_member.py) against `samsa start` (two brokers, a child process):
 * - a member killed with SIGKILL (kafka-python and confluent-kafka): after its session timeout
 *   its partitions move to the others, which resume from its last committed offsets: what it
 *   processed after its last commit is processed again, nothing is skipped, nothing is lost;
 * - confluent-kafka with partition.assignment.strategy=cooperative-sticky: members joining and
 *   one leaving move only the partitions that must move; the others stay assigned throughout
 *   (incremental on_revoke of a few partitions, never of all of them);
 * - confluent-kafka static members (group.instance.id): one restarted within its session timeout
 *   gets its partitions back with no rebalance: the generation stored in __consumer_offsets is
 *   unchanged and the other member sees no revocation. (kafka-python 2.0.2 and kafkajs have no
 *   static membership.)
 * A missing client is a failure, not a skip.
 */
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import {
  assignmentsAre, committedByMembers, committedOffsets, connectKafkajs, countKeys, expectPythonClient, FAST_GROUP_ARGS, logEndOffsets, PythonGroupMember, storedGroup, waitUntil,
  type MemberOptions, type PythonClient,
} from './group-members.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 2000;
const directories = new TemporaryDirectories();
const members: PythonGroupMember[] = [];
let samsa: SamsaProcess;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  samsa = await startSamsa({ dataDirectory: directories.make('samsa-groups-membership-'), brokerCount: 2, args: [...FAST_GROUP_ARGS, '--override', 'auto.create.topics.enable=false'] });
  ({ admin, producer } = await connectKafkajs(samsa.port, 'samsa-groups-membership'));
  const topics = ['kafka-python-killed', 'confluent-killed', 'cooperative', 'static'];
  expect(await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS })), waitForLeaders: true })).toBe(true);
});

afterAll(async () => {
  await Promise.all(members.map((member) => member.dispose()));
  await producer?.disconnect();
  await admin?.disconnect();
  await samsa?.stop('SIGKILL');
  directories.removeAll();
});

function member(name: string, client: PythonClient, topic: string, options: MemberOptions = {}): PythonGroupMember {
  const started = new PythonGroupMember(name, client, samsa.port, topic, topic, { session_timeout_ms: SESSION_TIMEOUT_MS, ...options });
  members.push(started);
  return started;
}

const keysFrom = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

async function produce(topic: string, keys: string[]): Promise<void> {
  await producer.send({ topic, acks: -1, messages: keys.map((key) => ({ key, value: `value of ${key}` })) });
}

/** Waits until the members committed up to the log end of every partition. */
async function waitCommittedAtLogEnd(topic: string, group: readonly PythonGroupMember[]): Promise<Map<number, number>> {
  const logEnd = await logEndOffsets(admin, topic);
  await waitUntil('the members commit up to the log end', () => {
    const committed = committedByMembers(group);
    return [...logEnd].every(([partition, end]) => end === 0 || committed.get(partition) === end);
  }, group);
  return logEnd;
}

for (const client of ['kafka-python', 'confluent'] as const) {
  it(`${client}: a member killed with SIGKILL loses its partitions to the others after the session timeout; they resume from its last commit`, async () => {
    expectPythonClient(client);
    const topic = `${client}-killed`;
    const group = [1, 2, 3].map((i) => member(`${client}-killed-${i}`, client, topic));
    await waitUntil('three members hold two partitions each', () => assignmentsAre(group, PARTITIONS, [2, 2, 2]), group);
    const committedKeys = keysFrom('committed', 60);
    await produce(topic, committedKeys);
    await waitCommittedAtLogEnd(topic, group);

    // The victim keeps processing but stops committing, then dies: what it processed since is
    // not committed, and must be processed again by whoever takes its partitions.
    const [survivorA, victim, survivorB] = group as [PythonGroupMember, PythonGroupMember, PythonGroupMember];
    victim.command('pause-commits');
    await waitUntil('the victim stops committing', () => victim.eventsOf('commits-paused').length === 1, group);
    const victimPartitions = [...victim.assignment()];
    const victimCommitted = new Map(victimPartitions.map((partition) => [partition, victim.committed().get(partition)!]));
    const uncommittedKeys = keysFrom('uncommitted', 60);
    await produce(topic, uncommittedKeys);
    await waitUntil('every record processed once more', () => group.flatMap((each) => each.records()).length === committedKeys.length + uncommittedKeys.length, group);
    const processedByVictimOnly = victim.records().filter((record) => record.key!.startsWith('uncommitted'));
    expect(processedByVictimOnly.length, 'the victim processed records it never committed').toBeGreaterThan(0);
    expect(await committedOffsets(admin, topic, topic)).toEqual(new Map([...committedByMembers(group)]));
    for (const [partition, offset] of victimCommitted) expect((await committedOffsets(admin, topic, topic)).get(partition)).toBe(offset);

    const survivors = [survivorA, survivorB];
    const before = survivors.map((each) => each.records().length);
    const killedAt = Date.now();
    await victim.kill();
    await waitUntil('the survivors take over the victim\'s partitions', () => assignmentsAre(survivors, PARTITIONS, [3, 3]), survivors, 15_000);
    // Nothing noticed the death before the session timed out (a little slack for the clocks).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 200);
    await waitUntil('the survivors re-process what the victim did not commit', () => {
      const keys = new Set(survivors.flatMap((each) => each.records().map((record) => record.key)));
      return processedByVictimOnly.every((record) => keys.has(record.key));
    }, survivors);
    for (const [partition, offset] of victimCommitted) {
      // The new owner starts exactly where the victim last committed: nothing skipped.
      const owner = survivors.find((each) => each.assignment().has(partition))!;
      const firstAfter = owner.records().slice(before[survivors.indexOf(owner)]).find((record) => record.partition === partition);
      expect(firstAfter?.offset, `first record of partition ${partition} after the takeover`).toBe(offset);
    }

    const laterKeys = keysFrom('later', 30);
    await produce(topic, laterKeys);
    const everyKey = [...committedKeys, ...uncommittedKeys, ...laterKeys];
    const allProcessed = () => countKeys(group.flatMap((each) => each.records()));
    await waitUntil('every record produced is processed at least once', () => everyKey.every((key) => allProcessed().has(key)), survivors);
    // Only the victim's uncommitted records were processed twice.
    const twice = [...allProcessed()].filter(([, count]) => count > 1).map(([key]) => key).sort();
    expect(twice).toEqual(processedByVictimOnly.map((record) => record.key).sort());
    expect(Math.max(...allProcessed().values())).toBe(2);
    await waitCommittedAtLogEnd(topic, survivors);
    await Promise.all(survivors.map((each) => each.stop()));
    expect(await committedOffsets(admin, topic, topic)).toEqual(await logEndOffsets(admin, topic));
  });
}

describe('confluent-kafka (librdkafka)', () => {
  it('cooperative-sticky: a join and a leave move only the partitions that must move', async () => {
    expectPythonClient('confluent');
    const cooperative: MemberOptions = { strategy: 'cooperative-sticky' };
    const one = member('cooperative-1', 'confluent', 'cooperative', cooperative);
    await waitUntil('the first member holds all six', () => assignmentsAre([one], PARTITIONS, [6]), [one]);
    const two = member('cooperative-2', 'confluent', 'cooperative', cooperative);
    await waitUntil('two members share six', () => assignmentsAre([one, two], PARTITIONS, [3, 3]), [one, two]);
    const three = member('cooperative-3', 'confluent', 'cooperative', cooperative);
    await waitUntil('three members share six', () => assignmentsAre([one, two, three], PARTITIONS, [2, 2, 2]), [one, two, three]);
    const described = (await admin.describeGroups(['cooperative'])).groups[0]!;
    expect(described).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocol: 'cooperative-sticky' });
    const oneBeforeLeave = [...one.assignment()];
    const threeBeforeLeave = [...three.assignment()];
    const eventsBeforeLeave = [one.events.length, three.events.length];
    const twoEventsBeforeLeave = two.events.length;
    await two.stop();
    await waitUntil('the two left share six', () => assignmentsAre([one, three], PARTITIONS, [3, 3]), [one, three]);

    // Each revoke took only some of what the member held (the leaver's own on close aside).
    const eventsBeforeClose = new Map([[one, one.events.length], [two, twoEventsBeforeLeave], [three, three.events.length]]);
    for (const [each, count] of eventsBeforeClose) {
      const held = new Set<number>();
      for (const event of each.events.slice(0, count)) {
        if (event.event === 'assigned') for (const partition of event.partitions) held.add(partition);
        if (event.event !== 'revoked' && event.event !== 'lost') continue;
        expect(event.event, `${each.name} never loses its partitions`).toBe('revoked');
        for (const partition of event.partitions) expect(held.delete(partition), `${each.name} revoked ${partition}, which it held`).toBe(true);
        expect(held.size, `${each.name} kept some partitions through a rebalance`).toBeGreaterThan(0);
      }
    }
    // The first member kept two of its six from the start: those were never revoked.
    expect(one.eventsOf('revoked').flatMap((event) => event.partitions)).toHaveLength(4);
    // The leave only added partitions to the others: no revoke, the earlier ones kept.
    for (const [index, each] of [one, three].entries()) {
      const after = each.events.slice(eventsBeforeLeave[index]);
      expect(after.filter((event) => event.event === 'revoked' || event.event === 'lost'), `${each.name} revokes nothing when another leaves`).toEqual([]);
      expect([...each.assignment()]).toEqual(expect.arrayContaining(index === 0 ? oneBeforeLeave : threeBeforeLeave));
    }

    // And the group goes on consuming.
    const keys = keysFrom('cooperative', 60);
    await produce('cooperative', keys);
    const processed = () => [one, two, three].flatMap((each) => each.records());
    await waitUntil('the remaining members consume what is sent', () => processed().length >= keys.length, [one, three]);
    expect(countKeys(processed())).toEqual(new Map(keys.map((key) => [key, 1])));
    await Promise.all([one.stop(), three.stop()]);
  });

  it('static membership: a member restarted within its session timeout gets its partitions back with no rebalance', async () => {
    expectPythonClient('confluent');
    const staticMember = (instance: string): MemberOptions => ({ instance_id: instance, session_timeout_ms: 10_000, max_poll_interval_ms: 20_000 });
    const first = member('static-1', 'confluent', 'static', staticMember('static-1'));
    const second = member('static-2', 'confluent', 'static', staticMember('static-2'));
    await waitUntil('two static members share six', () => assignmentsAre([first, second], PARTITIONS, [3, 3]), [first, second]);
    const keys = keysFrom('before-restart', 60);
    await produce('static', keys);
    await waitCommittedAtLogEnd('static', [first, second]);
    const storedBefore = (await storedGroup(samsa.port, 'static'))!;
    expect(storedBefore.members.map((each) => each.groupInstanceId).sort()).toEqual(['static-1', 'static-2']);
    const held = [...first.assignment()].sort();
    const committedBefore = first.committed();
    const secondEvents = second.events.length;

    // A static member's close sends no LeaveGroup: the group keeps it, Stable, until its session ends.
    await first.stop();
    const describedWhileAway = (await admin.describeGroups(['static'])).groups[0]!;
    expect(describedWhileAway.state).toBe('Stable');
    expect(describedWhileAway.members.map((each) => each.memberId).sort()).toEqual(storedBefore.members.map((each) => each.memberId).sort());
    const restarted = member('static-1-restarted', 'confluent', 'static', staticMember('static-1'));
    await waitUntil('the restarted member gets its partitions back', () => [...restarted.assignment()].sort().join() === held.join(), [restarted, second]);

    const after = keysFrom('after-restart', 60);
    await produce('static', after);
    await waitCommittedAtLogEnd('static', [restarted, second]);
    // It resumed from its committed offsets, and the other member saw no rebalance at all.
    for (const partition of held) {
      const firstRecord = restarted.records().find((record) => record.partition === partition);
      if (firstRecord) expect(firstRecord.offset).toBe(committedBefore.get(partition));
    }
    expect(countKeys([...first.records(), ...second.records(), ...restarted.records()])).toEqual(new Map([...keys, ...after].map((key) => [key, 1])));
    expect(second.events.slice(secondEvents).filter((event) => event.event !== 'record' && event.event !== 'committed')).toEqual([]);
    expect(restarted.eventsOf('assigned')).toEqual([{ event: 'assigned', partitions: held }]);
    // The coordinator stored the new member id under the same generation.
    const storedAfter = (await storedGroup(samsa.port, 'static'))!;
    expect(storedAfter.generation).toBe(storedBefore.generation);
    const byInstance = (stored: typeof storedBefore) => new Map(stored.members.map((each) => [each.groupInstanceId, each.memberId]));
    expect(byInstance(storedAfter).get('static-2')).toBe(byInstance(storedBefore).get('static-2'));
    expect(byInstance(storedAfter).get('static-1')).not.toBe(byInstance(storedBefore).get('static-1'));
    const described = (await admin.describeGroups(['static'])).groups[0]!;
    expect(described.state).toBe('Stable');
    expect(described.members.map((each) => each.memberId).sort()).toEqual([...byInstance(storedAfter).values()].sort());
    await Promise.all([restarted.stop(), second.stop()]);
  });
});
