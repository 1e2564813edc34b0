/**
 * Consumer-group members for the interop tests: Python clients (kafka-python, confluent-kafka
 * with librdkafka) each run as their own process (python/group_member.py), so one can be killed
 * with SIGKILL; what each reports (assignments, records, commits) is gathered as events. Also the
 * broker settings that keep group tests fast, and the checks several test files share, made
 * through kafkajs's admin client (committed offsets, log end offsets).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { expect } from 'vitest';
import { decodeGroupValue, decodeOffsetsKey } from '../../src/groups/offsets-records.js';
import { OFFSETS_TOPIC, partitionForKey } from '../../src/groups/internal-topics.js';
import { lastOffsetOf, parseBatches } from '../../src/log/record-batch.js';
import { decodeBatchRecords } from '../../src/log/records.js';
import type { GroupMetadataValue } from '../../src/protocol/generated/messages/index.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { fetch, listOffsets, metadata } from './requests.js';

export const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'group_member.py');

/**
 * Broker overrides for group tests: the first rebalance of a group does not wait the default
 * 3 s, and members may ask for sessions down to 1 s (Kafka's minimum is 6 s).
 */
export const FAST_GROUP_ARGS = ['--override', 'group.initial.rebalance.delay.ms=0', '--override', 'group.min.session.timeout.ms=1000'];

export type PythonClient = 'kafka-python' | 'confluent';

/** A kafkajs admin and producer (no topic auto-creation) connected to the broker at `port`: the tests' side door for topics, records and offsets. */
export async function connectKafkajs(port: number, clientId: string): Promise<{ kafka: Kafka; admin: Admin; producer: Producer }> {
  const kafka = new Kafka({ clientId, brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
  return { kafka, admin, producer };
}
export const PYTHON_MODULES: Record<PythonClient, string> = { 'kafka-python': 'kafka', confluent: 'confluent_kafka' };

export function expectPythonClient(client: PythonClient): void {
  const module = PYTHON_MODULES[client];
  expect(spawnSync(PYTHON, ['-c', `import ${module}`]).status, `${module} must be importable by ${PYTHON} (apt-get install -y python3-kafka python3-confluent-kafka)`).toBe(0);
}

export interface MemberOptions {
  session_timeout_ms?: number;
  heartbeat_interval_ms?: number;
  max_poll_interval_ms?: number;
  /** confluent only: partition.assignment.strategy */
  strategy?: string;
  /** confluent only: group.instance.id */
  instance_id?: string;
}

export type MemberEvent =
  | { event: 'assigned'; partitions: number[] }
  | { event: 'revoked'; partitions: number[] }
  | { event: 'lost'; partitions: number[] }
  | { event: 'record'; partition: number; offset: number; key: string | null }
  | { event: 'committed'; offsets: [number, number][] }
  | { event: 'commit-failed'; error: string }
  | { event: 'error'; error: string }
  | { event: 'commits-paused' }
  | { event: 'closed' };

export type RecordEvent = Extract<MemberEvent, { event: 'record' }>;

const DEFAULT_WAIT_MS = 20_000;
const STOP_WAIT_MS = 15_000;

export class PythonGroupMember {
  readonly events: MemberEvent[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(readonly name: string, readonly client: PythonClient, port: number, topic: string, group: string, options: MemberOptions = {}) {
    this.child = spawn(PYTHON, [SCRIPT, client, String(port), topic, group, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let pending = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          this.events.push(JSON.parse(line) as MemberEvent);
        } catch {
          this.stderr += `(stdout) ${line}\n`; // not one of the script's events: kept for the failure message
        }
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve((this.exitCode = code))));
  }

  /** The partitions it holds now: what its callbacks assigned and did not revoke or lose since. */
  assignment(): Set<number> {
    const held = new Set<number>();
    for (const event of this.events) {
      if (event.event === 'assigned') for (const partition of event.partitions) held.add(partition);
      if (event.event === 'revoked' || event.event === 'lost') for (const partition of event.partitions) held.delete(partition);
    }
    return held;
  }

  records(): RecordEvent[] {
    return this.events.filter((event): event is RecordEvent => event.event === 'record');
  }

  /** Partition -> the offset after the last record it committed there. */
  committed(): Map<number, number> {
    const committed = new Map<number, number>();
    for (const event of this.events) if (event.event === 'committed') for (const [partition, offset] of event.offsets) committed.set(partition, offset);
    return committed;
  }

  eventsOf<K extends MemberEvent['event']>(kind: K): Extract<MemberEvent, { event: K }>[] {
    return this.events.filter((event): event is Extract<MemberEvent, { event: K }> => event.event === kind);
  }

  command(line: 'pause-commits' | 'stop'): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Closes its consumer (a clean leave, unless static) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.command('stop');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_WAIT_MS);
    const code = await this.exited;
    clearTimeout(timer);
    expect(code, `${this.name} exits cleanly after stop: ${this.stderr}`).toBe(0);
    expect(this.events.at(-1)).toEqual({ event: 'closed' });
  }

  /** kill -9: no LeaveGroup, no last commit. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** For afterAll: gone, whatever state it is in. */
  async dispose(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }
}

/** Polls `check` until it holds; fails with `description` and the members' stderr if it does not. */
export async function waitUntil(description: string, check: () => boolean, members: readonly PythonGroupMember[] = [], timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    const died = members.find((member) => !member.running && member.events.at(-1)?.event !== 'closed');
    if (died || Date.now() > deadline) {
      const why = died ? `${died.name} exited` : `not within ${timeoutMs} ms`;
      const details = members.map((member) => `${member.name}: holds [${[...member.assignment()]}], ${member.records().length} records, committed ${JSON.stringify([...member.committed()])}, ${JSON.stringify(member.events.filter((event) => event.event !== 'record' && event.event !== 'committed'))}\n${member.stderr.slice(-2000)}`).join('\n');
      throw new Error(`${description}: ${why}\n${details}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Each member holds `sizes[i]` partitions and together they hold all `partitionCount`, once each. */
export function assignmentsAre(members: readonly { assignment(): Set<number> }[], partitionCount: number, sizes?: readonly number[]): boolean {
  const held = members.map((member) => [...member.assignment()]);
  const all = held.flat();
  if (all.length !== partitionCount || new Set(all).size !== partitionCount) return false;
  return sizes === undefined || held.every((partitions, index) => partitions.length === sizes[index]);
}

/** Partition -> the highest offset any of the members committed there. */
export function committedByMembers(members: readonly PythonGroupMember[]): Map<number, number> {
  const committed = new Map<number, number>();
  for (const member of members) for (const [partition, offset] of member.committed()) committed.set(partition, Math.max(offset, committed.get(partition) ?? 0));
  return committed;
}

/** Partition -> committed offset of a group (kafkajs admin: OffsetFetch). */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(fetched!.partitions.map((partition) => [partition.partition, Number(partition.offset)]));
}

/** Partition -> log end offset (kafkajs admin: ListOffsets latest). */
export async function logEndOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((partition) => [partition.partition, Number(partition.high)]));
}

/** Keys and how many times each was seen. */
export function countKeys(records: readonly { key: string | null }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of records) counts.set(record.key!, (counts.get(record.key!) ?? 0) + 1);
  return counts;
}

/**
 * The group's metadata as the coordinator last stored it in __consumer_offsets (generation,
 * leader, members with their instance ids and assignments), read with raw Fetch from the
 * group's partition; null after a tombstone, undefined when never stored.
 */
export async function storedGroup(port: number, groupId: string): Promise<GroupMetadataValue | null | undefined> {
  const bootstrap = await RawKafkaClient.connect(port);
  const described = await metadata(bootstrap, [OFFSETS_TOPIC], false);
  bootstrap.close();
  const partitions = described.topics[0]!.partitions;
  const partition = partitions.find((each) => each.partitionIndex === partitionForKey(groupId, partitions.length))!;
  const leader = described.brokers.find((broker) => broker.nodeId === partition.leaderId)!;
  const client = await RawKafkaClient.connect(leader.port);
  let latest: GroupMetadataValue | null | undefined;
  try {
    const end = Number((await listOffsets(client, OFFSETS_TOPIC, partition.partitionIndex, -1n)).topics[0]!.partitions[0]!.offset);
    for (let offset = 0; offset < end;) {
      const answer = (await fetch(client, [{ topic: OFFSETS_TOPIC, partition: partition.partitionIndex, offset }], { maxBytes: 8 << 20, partitionMaxBytes: 8 << 20 })).responses[0]!.partitions[0]!;
      expect(answer.errorCode).toBe(0);
      const bytes = answer.records ?? new Uint8Array(0);
      const headers = parseBatches(bytes);
      expect(headers.length).toBeGreaterThan(0);
      for (const header of headers) {
        const batch = decodeBatchRecords(bytes.subarray(header.position, header.position + header.sizeBytes));
        for (const record of batch.records) {
          const key = record.key === null ? undefined : decodeOffsetsKey(record.key);
          if (key?.kind === 'group' && key.group === groupId) latest = record.value === null ? null : decodeGroupValue(record.value);
        }
        offset = lastOffsetOf(header) + 1;
      }
    }
  } finally {
    client.close();
  }
  return latest;
}
