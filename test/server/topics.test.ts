/** CreateTopics and Metadata over a real socket: validation errors, auto-creation, placement. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, metadata } from './requests.js';

let fixture: BrokerFixture;
let client: RawKafkaClient;

beforeAll(async () => {
  fixture = await startBrokers({ brokerCount: 3, settings: { 'num.partitions': '2' } });
  client = await RawKafkaClient.connect(fixture.port(1));
});

afterAll(async () => {
  client.close();
  await fixture.stop();
  removeScratchDirectories();
});

describe('CreateTopics', () => {
  it('creates topics with partitions spread round robin over the brokers', async () => {
    const response = await createTopics(client, [{ name: 'orders', numPartitions: 4 }, { name: 'defaults' }]);
    expect(response.topics.map((topic) => [topic.name, topic.errorCode, topic.numPartitions])).toEqual([['orders', 0, 4], ['defaults', 0, 1]]);
    expect(response.topics[0]!.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(response.topics[0]!.configs!.find((config) => config.name === 'retention.ms')).toMatchObject({ value: '604800000', configSource: 5 });
    const described = await metadata(client, ['orders']);
    const leaders = described.topics[0]!.partitions.map((partition) => partition.leaderId);
    expect(new Set(leaders)).toEqual(new Set([0, 1, 2]));
    expect(described.topics[0]!.partitions[0]).toMatchObject({ replicaNodes: [leaders[0]], isrNodes: [leaders[0]], leaderEpoch: 0 });
  });

  it('answers each topic with its own error', async () => {
    const response = await createTopics(client, [
      { name: 'orders' },
      { name: 'zero', numPartitions: 0 },
      { name: 'bad config', numPartitions: 1 },
      { name: 'bad-config', configs: { 'retention.ms': 'soon' } },
      { name: 'unknown-config', configs: { 'no.such.config': '1' } },
      { name: 'null-config', configs: { 'retention.ms': null } },
      { name: 'too-replicated', replicationFactor: 4 },
      { name: 'dup' },
      { name: 'dup' },
      { name: 'bad-assignment', assignments: [[7]] },
    ]);
    expect(response.topics.map((topic) => [topic.name, topic.errorCode])).toEqual([
      ['orders', ErrorCode.TOPIC_ALREADY_EXISTS],
      ['zero', ErrorCode.INVALID_PARTITIONS],
      ['bad config', ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['bad-config', ErrorCode.INVALID_CONFIG],
      ['unknown-config', ErrorCode.INVALID_CONFIG],
      ['null-config', ErrorCode.INVALID_CONFIG],
      ['too-replicated', ErrorCode.INVALID_REPLICATION_FACTOR],
      ['dup', ErrorCode.INVALID_REQUEST],
      ['dup', ErrorCode.INVALID_REQUEST],
      ['bad-assignment', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
    ]);
    expect(response.topics[3]!.errorMessage).toMatch(/retention.ms/);
  });

  it('validates without creating when validateOnly is set', async () => {
    const response = await createTopics(client, [{ name: 'dry-run', numPartitions: 3, configs: { 'cleanup.policy': 'compact' } }], true);
    expect(response.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 3 });
    expect((await metadata(client, ['dry-run'], false)).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('takes an explicit replica assignment (older version, v2)', async () => {
    const response = await createTopics(client, [{ name: 'assigned', assignments: [[2], [2], [0]] }], false, 2);
    expect(response.topics[0]!.errorCode).toBe(0);
    expect((await metadata(client, ['assigned'])).topics[0]!.partitions.map((partition) => partition.leaderId)).toEqual([2, 2, 0]);
  });
});

describe('Metadata', () => {
  it('lists every broker with its own port, the cluster id and the controller', async () => {
    const response = await metadata(client, null);
    expect(response.brokers).toEqual([0, 1, 2].map((nodeId) => ({ nodeId, host: '127.0.0.1', port: fixture.port(nodeId), rack: null })));
    expect(response.clusterId).toBe(fixture.broker.controller.clusterId);
    expect(response.controllerId).toBe(0);
    expect(response.topics.map((topic) => topic.name).sort()).toEqual(['assigned', 'defaults', 'orders']);
  });

  it('v0 treats an empty topic list as every topic', async () => {
    const response = await client.request<{ topics: { name: string }[] }>(3, 0, { topics: [] });
    expect(response.topics.length).toBe(3);
  });

  it('auto-creates unknown topics with num.partitions unless the request or the broker forbids it', async () => {
    expect((await metadata(client, ['not-allowed'], false)).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const created = await metadata(client, ['auto']);
    expect(created.topics[0]).toMatchObject({ errorCode: 0, name: 'auto' });
    expect(created.topics[0]!.partitions.length).toBe(2);
    expect((await metadata(client, ['bad/name'])).topics[0]!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  it('looks topics up by id (v10+)', async () => {
    const id = fixture.broker.controller.topic('orders')!.topicId;
    const response = await client.request<{ topics: { name: string | null; errorCode: number }[] }>(3, 12, { topics: [{ name: null, topicId: id }, { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }] });
    expect(response.topics.map((topic) => [topic.name, topic.errorCode])).toEqual([['orders', 0], [null, ErrorCode.UNKNOWN_TOPIC_ID]]);
  });

  it('keeps topics across a restart', async () => {
    const before = await metadata(client, null);
    client.close();
    await fixture.restart();
    client = await RawKafkaClient.connect(fixture.port(0));
    const after = await metadata(client, null);
    const strip = (response: typeof before) => response.topics.map((topic) => ({ ...topic })).sort((a, b) => a.name!.localeCompare(b.name!));
    expect(strip(after)).toEqual(strip(before));
    expect(after.clusterId).toBe(before.clusterId);
  });

  it('honours auto.create.topics.enable=false', async () => {
    const other = await startBrokers({ brokerCount: 1, settings: { 'auto.create.topics.enable': 'false' } });
    const otherClient = await RawKafkaClient.connect(other.port(0));
    expect((await metadata(otherClient, ['nope'])).topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    otherClient.close();
    await other.stop();
  });
});
