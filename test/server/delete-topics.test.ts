/** DeleteTopics over a real socket: by name and by id, errors, logs removed, restarts. */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { ZERO_UUID } from '../../src/protocol/uuid.js';
import { kafkajsBatch } from '../log/kafkajs-batches.js';
import { deleteTopics, deleteTopicsV6 } from './admin-requests.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, fetch, listOffsets, metadata, produce } from './requests.js';

let fixture: BrokerFixture;
let client: RawKafkaClient;

beforeAll(async () => {
  // No auto-creation: a Metadata request must not bring a deleted topic back.
  fixture = await startBrokers({ brokerCount: 2, settings: { 'auto.create.topics.enable': 'false' } });
  client = await RawKafkaClient.connect(fixture.port(0));
});

afterAll(async () => {
  client.close();
  await fixture.stop();
  removeScratchDirectories();
});

const batch = (value: string) => kafkajsBatch([{ key: null, value: Buffer.from(value) }]);

describe('DeleteTopics', () => {
  it('deletes the topic and its partition logs; a topic created again under the name starts empty', async () => {
    expect((await createTopics(client, [{ name: 'doomed', assignments: [[0], [0]] }])).topics[0]!.errorCode).toBe(0);
    expect((await produce(client, 'doomed', 0, await batch('old'))).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    const directory = path.join(fixture.brokerDirectory(0), 'doomed-0');
    expect(existsSync(directory)).toBe(true);

    const response = await deleteTopics(client, ['doomed']);
    expect(response.responses).toEqual([{ name: 'doomed', topicId: ZERO_UUID, errorCode: 0, errorMessage: null }]);
    expect((await metadata(client, ['doomed'], false)).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(existsSync(directory)).toBe(false);
    expect(existsSync(path.join(fixture.brokerDirectory(0), 'doomed-1'))).toBe(false);
    expect(await fixture.broker.partitionInfo('doomed', 0)).toBeUndefined();
    expect((await produce(client, 'doomed', 0, await batch('late'))).responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    expect((await createTopics(client, [{ name: 'doomed', assignments: [[0]] }])).topics[0]!.errorCode).toBe(0);
    expect((await listOffsets(client, 'doomed', 0, -1n)).topics[0]!.partitions[0]!.offset).toBe(0n);
    expect((await fetch(client, [{ topic: 'doomed', partition: 0, offset: 0 }])).responses[0]!.partitions[0]!.records!.byteLength).toBe(0);
  });

  it('answers each topic with its own error (v1, as kafkajs and librdkafka send it)', async () => {
    await createTopics(client, [{ name: 'one' }, { name: 'two' }]);
    const response = await deleteTopics(client, ['one', 'missing', 'two', 'two', 'bad name'], 1);
    expect(response.responses.map((result) => [result.name, result.errorCode])).toEqual([
      ['one', 0],
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['two', ErrorCode.INVALID_REQUEST],
      ['two', ErrorCode.INVALID_REQUEST],
      ['bad name', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(response.throttleTimeMs).toBe(0);
    expect(fixture.broker.controller.topic('two')).toBeDefined();
    expect(fixture.broker.controller.topic('one')).toBeUndefined();
  });

  it('v6 deletes by topic id and answers the name; refuses unknown ids, both or neither', async () => {
    await createTopics(client, [{ name: 'by-id', numPartitions: 2 }]);
    const topicId = fixture.broker.controller.topic('by-id')!.topicId;
    const response = await deleteTopicsV6(client, [
      { name: null, topicId },
      { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
      { name: 'two', topicId: fixture.broker.controller.topic('two')!.topicId },
      { name: null },
      { name: 'missing' },
    ]);
    expect(response.responses).toEqual([
      { name: 'by-id', topicId, errorCode: 0, errorMessage: null },
      { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: expect.stringMatching(/no topic has id/) },
      expect.objectContaining({ name: 'two', errorCode: ErrorCode.INVALID_REQUEST }),
      expect.objectContaining({ name: null, errorCode: ErrorCode.INVALID_REQUEST }),
      { name: 'missing', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "topic 'missing' does not exist" },
    ]);
    expect(fixture.broker.controller.topicById(topicId)).toBeUndefined();
    expect(fixture.broker.controller.topic('two')).toBeDefined();
  });

  it('wakes a fetch waiting on a deleted partition, which then finds it gone', async () => {
    await createTopics(client, [{ name: 'polled', assignments: [[0]] }]);
    const waiting = fetch(client, [{ topic: 'polled', partition: 0, offset: 0 }], { maxWaitMs: 20_000, minBytes: 1 });
    const other = await RawKafkaClient.connect(fixture.port(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    expect((await deleteTopics(other, ['polled'])).responses[0]!.errorCode).toBe(0);
    other.close();
    const answer = await waiting;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answer.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('a deleted topic stays deleted after a restart; leftovers of a deletion cut short are removed', async () => {
    await createTopics(client, [{ name: 'stray', assignments: [[0]] }, { name: 'kept', assignments: [[1]] }]);
    expect((await produce(client, 'stray', 0, await batch('stray record'))).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    client.close();
    await fixture.restart();
    // Keep a copy of stray-0 as a crash after the metadata record, before the rmdir, leaves it.
    const copy = path.join(mkdtempSync(path.join(tmpdir(), 'samsa-stray-')), 'stray-0');
    cpSync(path.join(fixture.brokerDirectory(0), 'stray-0'), copy, { recursive: true });
    client = await RawKafkaClient.connect(fixture.port(0));
    expect((await deleteTopics(client, ['stray'])).responses[0]!.errorCode).toBe(0);
    client.close();
    await fixture.stop();
    cpSync(copy, path.join(fixture.brokerDirectory(0), 'stray-0'), { recursive: true });
    // A directory the metadata log never heard of is kept: deleting data on a guess is worse.
    cpSync(copy, path.join(fixture.brokerDirectory(0), 'unknown-0'), { recursive: true });
    await fixture.restart();
    client = await RawKafkaClient.connect(fixture.port(0));
    expect(existsSync(path.join(fixture.brokerDirectory(0), 'stray-0'))).toBe(false);
    expect(existsSync(path.join(fixture.brokerDirectory(0), 'unknown-0'))).toBe(true);
    const topics = (await metadata(client, null)).topics.map((topic) => topic.name).sort();
    expect(topics).toEqual(['doomed', 'kept', 'two']);
    expect((await metadata(client, ['stray'], false)).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    rmSync(path.dirname(copy), { recursive: true, force: true });
  });
});
