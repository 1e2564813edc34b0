/** DeleteRecords over a real socket: the log start offset moves up, segments go, errors, durability. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_START_CHECKPOINT_FILE } from '../../src/log/log-directory.js';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { kafkajsBatch, kafkajsDecode } from '../log/kafkajs-batches.js';
import { deleteRecords } from './admin-requests.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, fetch, listOffsets, produce } from './requests.js';

let fixture: BrokerFixture;
/** clients[i] talks to broker i. */
let clients: RawKafkaClient[];

beforeAll(async () => {
  fixture = await startBrokers({ brokerCount: 2 });
  clients = [await RawKafkaClient.connect(fixture.port(0)), await RawKafkaClient.connect(fixture.port(1))];
  const created = await createTopics(clients[0]!, [
    // Small segments: each batch of two records rolls a new one.
    { name: 'trim', assignments: [[0], [1]], configs: { 'segment.bytes': '120' } },
    { name: 'compacted', assignments: [[0]], configs: { 'cleanup.policy': 'compact' } },
  ]);
  expect(created.topics.map((topic) => topic.errorCode)).toEqual([0, 0]);
  for (let i = 0; i < 4; i++) {
    const batch = await kafkajsBatch([{ key: null, value: Buffer.from(`record ${2 * i}`) }, { key: null, value: Buffer.from(`record ${2 * i + 1}`) }]);
    expect((await produce(clients[0]!, 'trim', 0, batch)).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
  }
});

afterAll(async () => {
  for (const client of clients) client.close();
  await fixture.stop();
  removeScratchDirectories();
});

const lowWatermark = async (offset: bigint, version = 2) => (await deleteRecords(clients[0]!, 'trim', [[0, offset]], version)).topics[0]!.partitions[0]!;

describe('DeleteRecords', () => {
  it('moves the log start offset up, deletes the segments below it, and answers the low watermark', async () => {
    const segmentsBefore = (await fixture.broker.partitionInfo('trim', 0))!.segmentCount;
    expect(segmentsBefore).toBeGreaterThanOrEqual(4);
    expect(await lowWatermark(5n)).toEqual({ partitionIndex: 0, lowWatermark: 5n, errorCode: 0 });
    expect((await fixture.broker.partitionInfo('trim', 0))!.segmentCount).toBeLessThan(segmentsBefore);
    expect((await listOffsets(clients[0]!, 'trim', 0, -2n)).topics[0]!.partitions[0]!.offset).toBe(5n);
    expect((await fetch(clients[0]!, [{ topic: 'trim', partition: 0, offset: 2 }])).responses[0]!.partitions[0]).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, logStartOffset: 5n });
    // Read to the end, a segment a fetch. Whole batches come back: the one holding offset 5
    // starts at 4, and a consumer skips the offsets below the one it asked for.
    const values: string[] = [];
    for (let offset = 5; offset < 8;) {
      const read = await fetch(clients[0]!, [{ topic: 'trim', partition: 0, offset }]);
      expect(read.responses[0]!.partitions[0]!.logStartOffset).toBe(5n);
      const records = await kafkajsDecode(read.responses[0]!.partitions[0]!.records!);
      expect(records.length).toBeGreaterThan(0);
      values.push(...records.filter((record) => Number(record.offset) >= offset).map((record) => record.value!.toString()));
      offset = Number(records[records.length - 1]!.offset) + 1;
    }
    expect(values).toEqual(['record 5', 'record 6', 'record 7']);
  });

  it('checkpoints the new start offset before answering', () => {
    const checkpoint = readFileSync(path.join(fixture.brokerDirectory(0), LOG_START_CHECKPOINT_FILE), 'utf8');
    expect(checkpoint.split('\n')).toContain('trim 0 5');
  });

  it('never moves the start offset down; -1 means the high watermark (v0, as kafkajs and librdkafka send it)', async () => {
    expect(await lowWatermark(2n, 0)).toEqual({ partitionIndex: 0, lowWatermark: 5n, errorCode: 0 });
    expect(await lowWatermark(-1n, 1)).toEqual({ partitionIndex: 0, lowWatermark: 8n, errorCode: 0 });
    expect((await listOffsets(clients[0]!, 'trim', 0, -2n)).topics[0]!.partitions[0]!.offset).toBe(8n);
  });

  it('answers each partition with its own error', async () => {
    expect(await lowWatermark(9n)).toEqual({ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
    expect(await lowWatermark(-2n)).toEqual({ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
    const response = await deleteRecords(clients[0]!, 'trim', [[1, 0n], [2, 0n]]);
    expect(response.topics[0]!.partitions.map((partition) => [partition.partitionIndex, partition.errorCode])).toEqual([
      [1, ErrorCode.NOT_LEADER_OR_FOLLOWER],
      [2, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect((await deleteRecords(clients[1]!, 'trim', [[1, 0n]])).topics[0]!.partitions[0]).toEqual({ partitionIndex: 1, lowWatermark: 0n, errorCode: 0 });
    expect((await deleteRecords(clients[0]!, 'missing', [[0, 0n]])).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await deleteRecords(clients[0]!, 'compacted', [[0, 0n]])).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
  });

  it('keeps the start offset across a restart', async () => {
    for (const client of clients) client.close();
    await fixture.restart();
    clients = [await RawKafkaClient.connect(fixture.port(0)), await RawKafkaClient.connect(fixture.port(1))];
    const offsets = await listOffsets(clients[0]!, 'trim', 0, -2n);
    expect(offsets.topics[0]!.partitions[0]!.offset).toBe(8n);
    expect((await listOffsets(clients[0]!, 'trim', 0, -1n)).topics[0]!.partitions[0]!.offset).toBe(8n);
  });
});
