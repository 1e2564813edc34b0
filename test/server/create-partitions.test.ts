/** CreatePartitions over a real socket: growth, placement, validateOnly, errors, restart. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { kafkajsBatch, kafkajsDecode } from '../log/kafkajs-batches.js';
import { createPartitions } from './admin-requests.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, fetch, metadata, produce } from './requests.js';

let fixture: BrokerFixture;
let client: RawKafkaClient;

beforeAll(async () => {
  fixture = await startBrokers({ brokerCount: 3 });
  client = await RawKafkaClient.connect(fixture.port(0));
  const created = await createTopics(client, [{ name: 'grow', numPartitions: 1 }, { name: 'placed', assignments: [[0]] }]);
  expect(created.topics.map((topic) => topic.errorCode)).toEqual([0, 0]);
});

afterAll(async () => {
  client.close();
  await fixture.stop();
  removeScratchDirectories();
});

const leaders = async (topic: string) => (await metadata(client, [topic], false)).topics[0]!.partitions.map((partition) => partition.leaderId);

describe('CreatePartitions', () => {
  it('grows a topic, placing new partitions round robin and creating their logs', async () => {
    const response = await createPartitions(client, [{ name: 'grow', count: 4 }]);
    expect(response).toEqual({ throttleTimeMs: 0, results: [{ name: 'grow', errorCode: 0, errorMessage: null }] });
    const placed = await leaders('grow');
    expect(placed.length).toBe(4);
    expect(new Set(placed)).toEqual(new Set([0, 1, 2]));
    for (let partition = 0; partition < 4; partition++) expect(existsSync(path.join(fixture.brokerDirectory(placed[partition]!), `grow-${partition}`))).toBe(true);
    // A new partition takes records at its leader.
    const leader = placed[3]!;
    const atLeader = await RawKafkaClient.connect(fixture.port(leader));
    const produced = await produce(atLeader, 'grow', 3, await kafkajsBatch([{ key: null, value: Buffer.from('in a new partition') }]));
    expect(produced.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0n });
    atLeader.close();
  });

  it('places new partitions on the brokers the request assigns (v0, as librdkafka and kafkajs send it)', async () => {
    const response = await createPartitions(client, [{ name: 'placed', count: 3, assignments: [[2, 1], [1]] }], false, 0);
    expect(response.results[0]!.errorCode).toBe(0);
    expect(await leaders('placed')).toEqual([0, 2, 1]);
  });

  it('validates without creating when validateOnly is set', async () => {
    const response = await createPartitions(client, [{ name: 'grow', count: 8 }], true);
    expect(response.results[0]).toEqual({ name: 'grow', errorCode: 0, errorMessage: null });
    expect((await leaders('grow')).length).toBe(4);
    for (let nodeId = 0; nodeId < 3; nodeId++) expect(existsSync(path.join(fixture.brokerDirectory(nodeId), 'grow-4'))).toBe(false);
  });

  it('answers each topic with its own error', async () => {
    await createTopics(client, [{ name: 'dup' }]);
    const response = await createPartitions(client, [
      { name: 'grow', count: 2 },
      { name: 'placed', count: 3 },
      { name: 'missing', count: 5 },
      { name: 'dup', count: 2 },
      { name: 'dup', count: 3 },
      { name: 'placed', count: 5, assignments: [[0]] },
    ]);
    expect(response.results.map((result) => [result.name, result.errorCode, result.errorMessage])).toEqual([
      ['grow', ErrorCode.INVALID_PARTITIONS, 'topic currently has 4 partitions, which is higher than the requested 2'],
      ['placed', ErrorCode.INVALID_REQUEST, expect.stringMatching(/more than once/)],
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "topic 'missing' does not exist"],
      ['dup', ErrorCode.INVALID_REQUEST, expect.stringMatching(/more than once/)],
      ['dup', ErrorCode.INVALID_REQUEST, expect.stringMatching(/more than once/)],
      ['placed', ErrorCode.INVALID_REQUEST, expect.stringMatching(/more than once/)],
    ]);
    const single = async (name: string, count: number, assignments?: number[][]) => (await createPartitions(client, [{ name, count, assignments }])).results[0]!;
    expect(await single('placed', 3)).toMatchObject({ errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'topic already has 3 partitions' });
    expect(await single('placed', 5, [[0]])).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'increasing the number of partitions by 2 but 1 assignments provided' });
    expect(await single('placed', 4, [[7]])).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'broker 7 does not exist' });
    expect(await single('placed', 4, [[]])).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT });
    expect(await single('placed', 4, [[1, 1]])).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT });
    expect(await single('placed', 20_000)).toMatchObject({ errorCode: ErrorCode.INVALID_PARTITIONS });
    expect(await leaders('placed')).toEqual([0, 2, 1]);
  });

  it('keeps added partitions, their leaders and their records across a restart', async () => {
    const before = await metadata(client, ['grow', 'placed'], false);
    client.close();
    await fixture.restart();
    client = await RawKafkaClient.connect(fixture.port(0));
    const after = await metadata(client, ['grow', 'placed'], false);
    expect(after.topics).toEqual(before.topics);
    const leader = after.topics[0]!.partitions[3]!.leaderId;
    const atLeader = await RawKafkaClient.connect(fixture.port(leader));
    const fetched = await fetch(atLeader, [{ topic: 'grow', partition: 3, offset: 0 }]);
    atLeader.close();
    const records = await kafkajsDecode(fetched.responses[0]!.partitions[0]!.records!);
    expect(records.map((record) => record.value!.toString())).toEqual(['in a new partition']);
  });
});
