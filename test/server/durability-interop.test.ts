/**
 * Durability with a real client: `samsa start --override log.flush.interval.messages=1` (every
 * append fsynced before it is acknowledged), kafkajs producers sending with acks=all from several
 * concurrent loops, plain and gzip, then `kill -9` of the broker process while requests are in
 * flight. After a restart on the same data directory every acknowledged record is read back at
 * the offset its acknowledgement gave (ListOffsets latest, raw Fetch decoded by kafkajs), nothing
 * that was never sent appears, and appends carry on from the recovered log end. Then a SIGTERM
 * and a restart keep the log byte for byte (kafkajs-interop.test.ts covers SIGTERM more).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEAN_SHUTDOWN_FILE } from '../../src/log/log-directory.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { kafkajsDecode, type DecodedRecord } from '../log/kafkajs-batches.js';
import { readStored, type StoredPartition } from './interop-records.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, listOffsets, metadata } from './requests.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const TOPIC = 'durable';
const PARTITIONS = 3;
const ARGS = ['--override', 'log.flush.interval.messages=1'];
const directories = new TemporaryDirectories();
const dataDirectory = directories.make('samsa-durability-');
let samsa: SamsaProcess;

interface Sent {
  key: string;
  value: string;
  header: string;
}
/** Acknowledged records by partition and offset. */
const acknowledged = new Map<string, Sent>();
/** Every record ever handed to a producer, acknowledged or not, by value (values are unique). */
const sent = new Map<string, Sent>();
const at = (partition: number, offset: number) => `${partition}/${offset}`;

beforeAll(async () => {
  samsa = await startSamsa({ dataDirectory, brokerCount: 2, args: ARGS });
  const client = await RawKafkaClient.connect(samsa.port);
  expect((await createTopics(client, [{ name: TOPIC, numPartitions: PARTITIONS }])).topics[0]!.errorCode).toBe(0);
  client.close();
});

afterAll(async () => {
  await samsa?.stop('SIGKILL');
  directories.removeAll();
});

function kafka(port: number): Kafka {
  return new Kafka({ clientId: 'samsa-durability', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1_000, requestTimeout: 5_000 });
}

/** Each stored record of each partition, decoded by kafkajs. */
async function readRecords(): Promise<{ stored: StoredPartition[]; records: DecodedRecord[][] }> {
  const stored = await readStored(samsa.port, TOPIC);
  const records: DecodedRecord[][] = [];
  for (const partition of stored) records[partition.partition] = await kafkajsDecode(partition.bytes);
  return { stored, records };
}

/** One loop: sends of 1-3 records to one partition, acks=all, until told to stop or a send fails. */
async function produceLoop(producer: Producer, loop: number, shouldStop: () => boolean): Promise<void> {
  for (let i = 0; !shouldStop(); i++) {
    const partition = (loop + i) % PARTITIONS;
    const batch: Sent[] = Array.from({ length: 1 + (i % 3) }, (_, j) => ({ key: `loop-${loop}`, value: `loop ${loop} send ${i} record ${j} `.padEnd(120 + ((i * 37) % 300), '.'), header: `${loop}.${i}.${j}` }));
    for (const record of batch) sent.set(record.value, record);
    let answer;
    try {
      answer = await producer.send({
        topic: TOPIC,
        acks: -1,
        compression: i % 2 === 0 ? CompressionTypes.None : CompressionTypes.GZIP,
        messages: batch.map((record) => ({ partition, key: record.key, value: record.value, headers: { at: record.header } })),
      });
    } catch {
      return; // the broker is gone; this send may or may not have been stored
    }
    const [metadata] = answer;
    expect(metadata!.errorCode).toBe(0);
    expect(metadata!.partition).toBe(partition);
    batch.forEach((record, j) => acknowledged.set(at(partition, Number(metadata!.baseOffset) + j), record));
  }
}

/** Every acknowledged record is where its acknowledgement said; every stored record was sent. */
function expectAcknowledgedKept(records: DecodedRecord[][]): void {
  for (const [partition, list] of records.entries()) {
    expect(list.map((record) => Number(record.offset)), `offsets of partition ${partition}`).toEqual(list.map((_, i) => i));
    for (const record of list) {
      const value = record.value!.toString();
      const original = sent.get(value);
      expect(original, `partition ${partition} offset ${record.offset} holds a record that was never sent`).toBeDefined();
      expect(record.key!.toString()).toBe(original!.key);
      expect(record.headers.at!.toString()).toBe(original!.header);
    }
  }
  for (const [where, record] of acknowledged) {
    const [partition, offset] = where.split('/').map(Number) as [number, number];
    const stored = records[partition]![offset];
    expect(stored?.value?.toString(), `acknowledged record at ${where} after restart`).toBe(record.value);
  }
}

describe('kill -9 with log.flush.interval.messages=1', () => {
  it('keeps every acknowledged record at its offset across a kill -9 in mid-produce', async () => {
    const client = kafka(samsa.port);
    const producer = client.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    let killed = false;
    const loops = Array.from({ length: 6 }, (_, loop) => produceLoop(producer, loop, () => killed));
    // Let the loops acknowledge a good number of records, then kill the broker with sends in flight:
    // the loops keep sending until the kill (each starts its next send in the same turn as it takes an
    // acknowledgement), so whenever the kill lands every loop has a send out; they stop on its failure.
    await expect.poll(() => acknowledged.size, { timeout: 20_000, interval: 20 }).toBeGreaterThan(600);
    await samsa.stop('SIGKILL');
    killed = true;
    expect(samsa.child.signalCode).toBe('SIGKILL');
    await Promise.all(loops);
    await Promise.race([producer.disconnect(), new Promise((resolve) => setTimeout(resolve, 2_000))]);
    expect(existsSync(path.join(dataDirectory, CLEAN_SHUTDOWN_FILE)), 'no clean-shutdown marker after kill -9').toBe(false);

    samsa = await startSamsa({ dataDirectory, brokerCount: 2, port: samsa.port, args: ARGS });
    const { stored, records } = await readRecords();
    // Sends were in flight at the kill (each loop had one out, unacknowledged, when the broker died).
    expect(sent.size).toBeGreaterThan(acknowledged.size);
    // The restart went through recovery (the warning is logged at the default test log level).
    if (process.env.SAMSA_TEST_LOG_LEVEL === undefined) expect(samsa.stderr).toContain('previous stop was unclean; logs recovered');
    expectAcknowledgedKept(records);
    const highestAcknowledged = new Map<number, number>();
    for (const where of acknowledged.keys()) {
      const [partition, offset] = where.split('/').map(Number) as [number, number];
      highestAcknowledged.set(partition, Math.max(highestAcknowledged.get(partition) ?? -1, offset));
    }
    expect(highestAcknowledged.size).toBe(PARTITIONS);
    for (const partition of stored) {
      // ListOffsets latest (the high watermark) covers every acknowledged offset and is the log end.
      expect(partition.highWatermark).toBeGreaterThan(highestAcknowledged.get(partition.partition)!);
      expect(partition.highWatermark).toBe(records[partition.partition]!.length);
    }
  });

  it('appends carry on from the recovered log end, on the partition leaders', async () => {
    const before = await readRecords();
    const producer = kafka(samsa.port).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const record: Sent = { key: 'after', value: `after restart ${partition}`, header: 'after' };
      sent.set(record.value, record);
      const [answer] = await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition, key: record.key, value: record.value, headers: { at: record.header } }] });
      expect(Number(answer!.baseOffset)).toBe(before.records[partition]!.length);
      acknowledged.set(at(partition, Number(answer!.baseOffset)), record);
    }
    await producer.disconnect();
    const bootstrap = await RawKafkaClient.connect(samsa.port);
    const described = await metadata(bootstrap, [TOPIC], false);
    bootstrap.close();
    for (const partition of described.topics[0]!.partitions) {
      const leader = described.brokers.find((broker) => broker.nodeId === partition.leaderId)!;
      const client = await RawKafkaClient.connect(leader.port);
      const latest = await listOffsets(client, TOPIC, partition.partitionIndex, -1n);
      client.close();
      expect(Number(latest.topics[0]!.partitions[0]!.offset)).toBe(before.records[partition.partitionIndex]!.length + 1);
    }
    expectAcknowledgedKept((await readRecords()).records);
  });

  it('a SIGTERM and a restart keep the log byte for byte', async () => {
    const before = await readRecords();
    expect(await samsa.stop('SIGTERM')).toBe(0);
    expect(existsSync(path.join(dataDirectory, CLEAN_SHUTDOWN_FILE))).toBe(true);
    samsa = await startSamsa({ dataDirectory, brokerCount: 2, port: samsa.port, args: ARGS });
    const after = await readRecords();
    expect(after.stored.map((partition) => partition.bytes.equals(before.stored[partition.partition]!.bytes))).toEqual([true, true, true]);
    expectAcknowledgedKept(after.records);
  });
});
