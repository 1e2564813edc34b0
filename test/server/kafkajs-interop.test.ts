/**
 * kafkajs against `samsa start` run as a user runs it (a child process, two brokers): its admin
 * creates a topic, its producer writes keyed, unkeyed, null-valued records with headers, plain
 * and gzip, with every acks setting; the records are read back with Fetch and decoded by kafkajs's
 * own decoder, byte for byte, each in the partition kafkajs's murmur2 partitioner chose. After a
 * SIGTERM and a restart every record is still at its offset.
 *
 * (Reading is done with raw Fetch here; kafkajs consumer groups are tested in groups-kafkajs-interop.)
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CompressionTypes, Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAN_SHUTDOWN_FILE } from '../../src/log/log-directory.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { kafkajsDecode, type DecodedRecord } from '../log/kafkajs-batches.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { fetch, metadata } from './requests.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const require = createRequire(import.meta.url);
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;
const expectedPartition = (key: string, partitionCount: number) => (murmur2(key) & 0x7fffffff) % partitionCount;

const TOPIC = 'interop';
const PARTITIONS = 3;
const directories = new TemporaryDirectories();
const dataDirectory = directories.make('samsa-kafkajs-');
let samsa: SamsaProcess;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  samsa = await startSamsa({ dataDirectory, brokerCount: 2 });
  kafka = new Kafka({ clientId: 'samsa-interop', brokers: [`127.0.0.1:${samsa.port}`], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
  admin = kafka.admin();
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await samsa?.stop('SIGKILL');
  directories.removeAll();
});

/** Every record of every partition, read from each partition's leader with raw Fetch. */
async function readAll(port: number): Promise<DecodedRecord[][]> {
  const bootstrap = await RawKafkaClient.connect(port);
  const described = await metadata(bootstrap, [TOPIC], false);
  bootstrap.close();
  const partitions: DecodedRecord[][] = [];
  for (const partition of described.topics[0]!.partitions) {
    const leader = described.brokers.find((broker) => broker.nodeId === partition.leaderId)!;
    const client = await RawKafkaClient.connect(leader.port);
    const response = await fetch(client, [{ topic: TOPIC, partition: partition.partitionIndex, offset: 0 }], { maxBytes: 10 << 20, partitionMaxBytes: 10 << 20 });
    client.close();
    expect(response.responses[0]!.partitions[0]!.errorCode).toBe(0);
    partitions[partition.partitionIndex] = await kafkajsDecode(response.responses[0]!.partitions[0]!.records!);
  }
  return partitions;
}

const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);

describe('kafkajs', () => {
  it('creates a topic with partitions led by both brokers', async () => {
    expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }], waitForLeaders: true })).toBe(true);
    const described = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    const leaders = described.topics[0]!.partitions.map((partition) => partition.leader);
    expect(leaders.length).toBe(PARTITIONS);
    expect(new Set(leaders)).toEqual(new Set([0, 1]));
  });

  it('produces keyed records to the murmur2 partition, plain and gzip, with acks -1, 1 and 0', async () => {
    const sent = async (acks: number, compression: CompressionTypes, slice: string[]) => producer.send({
      topic: TOPIC,
      acks,
      compression,
      messages: slice.map((key, i) => ({ key, value: i % 5 === 4 ? null : `value of ${key}`, headers: { index: String(i), source: 'kafkajs' } })),
    });
    const all = await sent(-1, CompressionTypes.None, keys.slice(0, 10));
    const leader = await sent(1, CompressionTypes.GZIP, keys.slice(10, 20));
    for (const metadata of [...all, ...leader]) expect(metadata.errorCode).toBe(0);
    await sent(0, CompressionTypes.None, keys.slice(20, 30));
    await producer.send({ topic: TOPIC, messages: [{ key: null, value: 'no key' }, { key: null, value: 'no key either' }] });
    // acks=0 has no answer: wait until its records are visible.
    await expect.poll(async () => (await readAll(samsa.port)).flat().length, { timeout: 5_000 }).toBe(32);
    const partitions = await readAll(samsa.port);
    for (const [partition, records] of partitions.entries()) {
      expect(records.map((record) => Number(record.offset))).toEqual(records.map((_, i) => i));
      for (const record of records) {
        if (record.key === null) continue;
        const key = record.key.toString();
        const i = keys.indexOf(key) % 10;
        expect(expectedPartition(key, PARTITIONS)).toBe(partition);
        expect(record.value === null ? null : record.value.toString()).toBe(i % 5 === 4 ? null : `value of ${key}`);
        expect(Object.fromEntries(Object.entries(record.headers).map(([name, value]) => [name, value.toString()]))).toEqual({ index: String(i), source: 'kafkajs' });
      }
    }
    expect(partitions.flat().filter((record) => record.key === null).map((record) => record.value!.toString()).sort()).toEqual(['no key', 'no key either']);
  });

  it('finds offsets by timestamp (ListOffsets through kafkajs admin)', async () => {
    await admin.createTopics({ topics: [{ topic: 'timed', numPartitions: 1 }], waitForLeaders: true });
    for (const timestamp of [1_000, 2_000, 3_000]) {
      await producer.send({ topic: 'timed', messages: [{ value: `at ${timestamp}`, timestamp: String(timestamp) }, { value: `also at ${timestamp}`, timestamp: String(timestamp) }] });
    }
    const at = async (timestamp: number) => (await admin.fetchTopicOffsetsByTimestamp('timed', timestamp))[0]!.offset;
    expect(await at(500)).toBe('0');
    expect(await at(1_500)).toBe('2');
    expect(await at(3_000)).toBe('4');
    // Past the last record, kafkajs answers the high watermark.
    expect(await at(9_000)).toBe('6');
    expect((await admin.fetchTopicOffsets('timed'))[0]).toMatchObject({ offset: '6', low: '0', high: '6' });
  });

  it('keeps every record at its offset across a SIGTERM and a restart', async () => {
    const before = await readAll(samsa.port);
    await producer.disconnect();
    await admin.disconnect();
    expect(await samsa.stop('SIGTERM')).toBe(0);
    expect(samsa.stdout).toContain('samsa: stopped');
    expect(existsSync(path.join(dataDirectory, CLEAN_SHUTDOWN_FILE))).toBe(true);
    samsa = await startSamsa({ dataDirectory, brokerCount: 2, port: samsa.port });
    expect(await readAll(samsa.port)).toEqual(before);
    admin = kafka.admin();
    await admin.connect();
    expect((await admin.listTopics()).sort()).toEqual(['interop', 'timed']);
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const [appended] = await producer.send({ topic: TOPIC, messages: [{ key: keys[0], value: 'after restart' }] });
    expect(appended!.baseOffset).toBe(String(before[expectedPartition(keys[0]!, PARTITIONS)]!.length));
  });
});
