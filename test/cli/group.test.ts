/**
 * `samsa group list` and `samsa group describe`: the pure parts (consumer protocol assignment
 * decoding, lag math, row order, the printed layout, arguments) and the whole command against
 * `samsa start` run as a user runs it (a child process, two brokers) with a real consumer group:
 * a kafkajs consumer that joined, was assigned every partition and committed known offsets.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssignerProtocol, Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/client/admin-client.js';
import { consumerLag, partitionLags, totalLag, type GroupMemberAssignment } from '../../src/client/consumer-lag.js';
import { formatGroupDescription, formatGroupList, parseGroupArgs, runGroup } from '../../src/cli/group.js';
import { decodeConsumerAssignment, encodeConsumerAssignment } from '../../src/groups/consumer-protocol.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { startSamsa, type SamsaProcess } from '../server/samsa-process.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/samsa.js');

const offsets = (entries: [string, number, bigint][]) => {
  const map = new Map<string, Map<number, bigint>>();
  for (const [topic, partition, offset] of entries) {
    if (!map.has(topic)) map.set(topic, new Map());
    map.get(topic)!.set(partition, offset);
  }
  return map;
};

describe('consumer protocol assignment', () => {
  it('decodes what kafkajs encodes: version, topics with partitions, user data', () => {
    const bytes = AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { orders: [2, 0], audit: [1] }, userData: Buffer.from('hi') });
    const decoded = decodeConsumerAssignment(bytes);
    expect(decoded.version).toBe(1);
    expect(decoded.partitions).toEqual([{ topic: 'orders', partitions: [2, 0] }, { topic: 'audit', partitions: [1] }]);
    expect(Buffer.from(decoded.userData!).toString()).toBe('hi');
  });

  it('round-trips its own encoding, and reads an empty assignment as nothing', () => {
    const bytes = encodeConsumerAssignment({ assignedPartitions: [{ topic: 't', partitions: [0, 1, 2] }], userData: null });
    expect(Buffer.from(bytes).readInt16BE(0)).toBe(0);
    expect(decodeConsumerAssignment(bytes)).toEqual({ version: 0, partitions: [{ topic: 't', partitions: [0, 1, 2] }], userData: null });
    expect(decodeConsumerAssignment(new Uint8Array(0))).toEqual({ version: 0, partitions: [], userData: null });
  });

  it('reads a newer version as the newest it knows (fields are only appended), refuses garbage', () => {
    const v2 = Buffer.from(encodeConsumerAssignment({ assignedPartitions: [{ topic: 't', partitions: [7] }], userData: null }, 2));
    v2.writeInt16BE(5, 0);
    expect(decodeConsumerAssignment(Buffer.concat([v2, Buffer.from([1, 2, 3])])).partitions).toEqual([{ topic: 't', partitions: [7] }]);
    expect(() => decodeConsumerAssignment(Uint8Array.from([0, 0, 0, 0, 0, 9, 0]))).toThrow();
    expect(() => decodeConsumerAssignment(Uint8Array.from([0xff, 0xff, 0, 0, 0, 0]))).toThrow(/version -1/);
  });
});

describe('consumer lag', () => {
  it('is log end offset minus committed offset, unknown unless both are known', () => {
    expect(consumerLag(7n, 10n)).toBe(3n);
    expect(consumerLag(10n, 10n)).toBe(0n);
    expect(consumerLag(undefined, 10n)).toBeUndefined();
    expect(consumerLag(-1n, 10n)).toBeUndefined();
    expect(consumerLag(4n, undefined)).toBeUndefined();
    expect(consumerLag(12n, 10n)).toBe(-2n);
  });

  it('rows: members holding most first, their partitions sorted, then committed partitions nobody holds', () => {
    const member = (memberId: string, assignment: GroupMemberAssignment['assignment']): GroupMemberAssignment => ({ memberId, groupInstanceId: null, clientId: `${memberId}-client`, clientHost: '/10.0.0.1', assignment });
    const members = [member('a', [{ topic: 't', partitions: [3] }]), member('b', [{ topic: 'u', partitions: [1] }, { topic: 't', partitions: [2, 0] }]), member('idle', [])];
    const committed = offsets([['t', 0, 5n], ['t', 3, 1n], ['t', 9, 4n], ['old', 0, 8n]]);
    const logEnd = offsets([['t', 0, 5n], ['t', 2, 6n], ['t', 3, 11n], ['t', 9, 4n], ['u', 1, 2n]]);
    const rows = partitionLags(members, committed, logEnd);
    expect(rows.map((row) => [row.topic, row.partition, row.currentOffset, row.logEndOffset, row.lag, row.memberId])).toEqual([
      ['t', 0, 5n, 5n, 0n, 'b'],
      ['t', 2, undefined, 6n, undefined, 'b'],
      ['u', 1, undefined, 2n, undefined, 'b'],
      ['t', 3, 1n, 11n, 10n, 'a'],
      ['old', 0, 8n, undefined, undefined, undefined],
      ['t', 9, 4n, 4n, 0n, undefined],
    ]);
    expect(totalLag(rows)).toBe(10n);
    expect(totalLag([])).toBeUndefined();
  });
});

describe('samsa group output', () => {
  const coordinator = { nodeId: 0, host: 'localhost', port: 9092 };

  it('lists like kafka-consumer-groups --list --state, with the protocol type', () => {
    expect(formatGroupList([{ groupId: 'a-rather-long-group-name', state: 'Stable', protocolType: 'consumer', coordinator: 0 }, { groupId: 'g', state: 'Empty', protocolType: '', coordinator: 1 }])).toEqual([
      'GROUP                    STATE           PROTOCOL-TYPE',
      'a-rather-long-group-name Stable          consumer',
      'g                        Empty           -',
    ]);
    expect(formatGroupList([])).toEqual(['GROUP           STATE           PROTOCOL-TYPE']);
  });

  it('describes like kafka-consumer-groups --describe', () => {
    const printed = formatGroupDescription({
      groupId: 'g', state: 'Stable', protocolType: 'consumer', protocol: 'range', coordinator, members: [],
      partitions: [
        { topic: 'orders', partition: 0, currentOffset: 7n, logEndOffset: 10n, lag: 3n, memberId: 'client-1-0a1b2c3d-4e5f', clientHost: '/127.0.0.1', clientId: 'client-1' },
        { topic: 'orders', partition: 1, currentOffset: undefined, logEndOffset: 0n, lag: undefined, memberId: undefined, clientHost: undefined, clientId: undefined },
      ],
    });
    expect(printed).toEqual({
      exists: true,
      err: [],
      out: [
        '',
        'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID            HOST            CLIENT-ID',
        'g               orders          0          7               10              3               client-1-0a1b2c3d-4e5f /127.0.0.1      client-1',
        'g               orders          1          -               0               -               -                      -               -',
      ],
    });
  });

  it("notes an empty, a rebalancing and a missing group as Kafka's tool does", () => {
    const base = { groupId: 'g', protocolType: 'consumer', protocol: '', coordinator, members: [], partitions: [] };
    expect(formatGroupDescription({ ...base, state: 'Empty' })).toEqual({ exists: true, out: [], err: ["Consumer group 'g' has no active members."] });
    expect(formatGroupDescription({ ...base, state: 'PreparingRebalance' }).err).toEqual(["Warning: Consumer group 'g' is rebalancing."]);
    expect(formatGroupDescription({ ...base, state: 'Dead' })).toEqual({ exists: false, out: [], err: ["Error: Consumer group 'g' does not exist."] });
  });

  it('reads its arguments', () => {
    expect(parseGroupArgs(['list'])).toEqual({ action: 'list', group: undefined, bootstrapServer: 'localhost:9092', timeoutMs: 10_000 });
    expect(parseGroupArgs(['describe', 'g', '--bootstrap-server', 'h:1', '--timeout', '500'])).toEqual({ action: 'describe', group: 'g', bootstrapServer: 'h:1', timeoutMs: 500 });
    expect(() => parseGroupArgs(['describe'])).toThrow(/exactly one group/);
    expect(() => parseGroupArgs(['lsit'])).toThrow(/unknown group command/);
    expect(() => parseGroupArgs(['list', '--bootstrap'])).toThrow(/unknown option/);
    expect(() => parseGroupArgs(['list', '--timeout', 'x'])).toThrow(/--timeout/);
  });
});

// ---- against a running broker ---------------------------------------------------------------

const TOPIC = 'cli-orders';
const GROUP = 'cli-group';
const CLIENT_ID = 'cli-consumer';
const directories = new TemporaryDirectories();
let samsa: SamsaProcess;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let consumer: Consumer | undefined;
let memberId = '';

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runGroup([...argv, '--bootstrap-server', `127.0.0.1:${samsa.port}`], { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

/** The printed rows, split into columns. */
const cells = (lines: string[]) => lines.filter((line) => line.trim() !== '').slice(1).map((line) => line.trim().split(/\s+/));

function runBin(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('samsa group against a broker', () => {
  beforeAll(async () => {
    samsa = await startSamsa({ dataDirectory: directories.make('samsa-group-cli-'), brokerCount: 2, args: ['--override', 'group.initial.rebalance.delay.ms=0'] });
    kafka = new Kafka({ clientId: CLIENT_ID, brokers: [`127.0.0.1:${samsa.port}`], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
    admin = kafka.admin();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await admin.connect();
    await producer.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true });
    // 10 records in partition 0, 7 in partition 1, none in partition 2.
    const records = (partition: number, count: number) => Array.from({ length: count }, (_, i) => ({ partition, value: `p${partition}-${i}` }));
    await producer.send({ topic: TOPIC, messages: [...records(0, 10), ...records(1, 7)] });

    consumer = kafka.consumer({ groupId: GROUP, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
    const joined = new Promise<void>((resolve) => consumer!.on(consumer!.events.GROUP_JOIN, (event) => {
      memberId = event.payload.memberId;
      resolve();
    }));
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;
    await consumer.commitOffsets([{ topic: TOPIC, partition: 0, offset: '4' }, { topic: TOPIC, partition: 1, offset: '7' }]);
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
    await samsa?.stop('SIGKILL');
    directories.removeAll();
  });

  it('lists the group as Stable, protocol type consumer', async () => {
    const { code, out, err } = await run('list');
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^GROUP\s+STATE\s+PROTOCOL-TYPE$/);
    expect(cells(out)).toEqual([[GROUP, 'Stable', 'consumer']]);
  });

  it('describes each partition: committed offset, log end offset, lag, and the kafkajs member holding it', async () => {
    const { code, out, err } = await run('describe', GROUP);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out[1]).toMatch(/^GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID$/);
    expect(memberId).toMatch(new RegExp(`^${CLIENT_ID}-`));
    expect(cells(out)).toEqual([
      [GROUP, TOPIC, '0', '4', '10', '6', memberId, '/127.0.0.1', CLIENT_ID],
      [GROUP, TOPIC, '1', '7', '7', '0', memberId, '/127.0.0.1', CLIENT_ID],
      [GROUP, TOPIC, '2', '-', '0', '-', memberId, '/127.0.0.1', CLIENT_ID],
    ]);
  });

  it('gives the same figures through the admin API, lag included', async () => {
    const client = await AdminClient.connect({ bootstrapServer: `127.0.0.1:${samsa.port}` });
    try {
      const group = await client.describeConsumerGroup(GROUP);
      expect(group).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocol: expect.any(String) });
      expect(group.members).toEqual([{ memberId, groupInstanceId: null, clientId: CLIENT_ID, clientHost: '/127.0.0.1', assignment: [{ topic: TOPIC, partitions: expect.arrayContaining([0, 1, 2]) }] }]);
      expect(totalLag(group.partitions)).toBe(6n);
    } finally {
      client.close();
    }
  });

  it('after the member left: the no-active-members note, and the offsets with their lag', async () => {
    await producer.send({ topic: TOPIC, messages: [{ partition: 1, value: 'late' }] });
    await consumer!.disconnect();
    consumer = undefined;
    const { code, out, err } = await run('describe', GROUP);
    expect(code).toBe(0);
    expect(err).toEqual([`Consumer group '${GROUP}' has no active members.`]);
    expect(cells(out)).toEqual([
      [GROUP, TOPIC, '0', '4', '10', '6', '-', '-', '-'],
      [GROUP, TOPIC, '1', '7', '8', '1', '-', '-', '-'],
    ]);
    expect(cells((await run('list')).out)).toEqual([[GROUP, 'Empty', 'consumer']]);
  });

  it('an unknown group: a clear message and exit code 1 (through bin/samsa.js)', async () => {
    const result = await runBin(['group', 'describe', 'no-such-group', '--bootstrap-server', `127.0.0.1:${samsa.port}`]);
    expect(result.stderr.trim()).toBe("Error: Consumer group 'no-such-group' does not exist.");
    expect(result.stdout).toBe('');
    expect(result.code).toBe(1);
    const listed = await runBin(['group', 'list', '--bootstrap-server', `127.0.0.1:${samsa.port}`]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${GROUP}\\s+Empty\\s+consumer$`, 'm'));
  });

  it('an unreachable broker: a clear message and exit code 1; bad usage: exit code 2', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as net.AddressInfo;
        server.close(() => resolve(free));
      });
    });
    const result = await runBin(['group', 'list', '--bootstrap-server', `127.0.0.1:${port}`]);
    expect(result.stderr.trim()).toBe(`Error: cannot connect to 127.0.0.1:${port}: ECONNREFUSED`);
    expect(result.code).toBe(1);
    const usage = await runBin(['group', 'describe']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/group describe needs exactly one group name/);
  });
});
