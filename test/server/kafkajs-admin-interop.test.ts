/**
 * kafkajs's admin client against `samsa start` run as a user runs it (a child process, two
 * brokers): createTopics, createPartitions, describeConfigs, alterConfigs, deleteTopicRecords,
 * fetchTopicOffsets, describeCluster, deleteTopics, then a SIGTERM and a restart that keeps
 * every change. Auto-creation is off, so no metadata refresh can bring a deleted topic back.
 */
import { ConfigResourceTypes, Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const directories = new TemporaryDirectories();
const dataDirectory = directories.make('samsa-kafkajs-admin-');
const ARGS = ['--override', 'auto.create.topics.enable=false'];
let samsa: SamsaProcess;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  samsa = await startSamsa({ dataDirectory, brokerCount: 2, args: ARGS });
  kafka = new Kafka({ clientId: 'samsa-admin-interop', brokers: [`127.0.0.1:${samsa.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } });
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

async function topicConfigs(topic: string, configNames?: string[]): Promise<Map<string, { configValue: string; configSource: number; isDefault: boolean; readOnly: boolean }>> {
  const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames }], includeSynonyms: false });
  expect(described.resources[0]!.errorCode).toBe(0);
  return new Map(described.resources[0]!.configEntries.map((entry) => [entry.configName, entry as unknown as { configValue: string; configSource: number; isDefault: boolean; readOnly: boolean }]));
}

const partitionCount = async (topic: string) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;

describe('kafkajs admin', () => {
  it('creates topics with configs and describes the cluster', async () => {
    expect(await admin.createTopics({
      topics: [
        { topic: 'grown', numPartitions: 2 },
        { topic: 'configured', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '86400000' }] },
        { topic: 'doomed', numPartitions: 2 },
      ],
      waitForLeaders: true,
    })).toBe(true);
    expect((await admin.listTopics()).sort()).toEqual(['configured', 'doomed', 'grown']);
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((broker) => [broker.nodeId, broker.host, broker.port])).toEqual([[0, '127.0.0.1', samsa.port], [1, '127.0.0.1', samsa.port + 1]]);
    expect(cluster.controller).toBe(0);
    expect(cluster.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('adds partitions (createPartitions) and refuses to shrink', async () => {
    await admin.createPartitions({ topicPartitions: [{ topic: 'grown', count: 5 }] });
    const partitions = (await admin.fetchTopicMetadata({ topics: ['grown'] })).topics[0]!.partitions;
    expect(partitions.map((partition) => partition.partitionId).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(partitions.map((partition) => partition.leader))).toEqual(new Set([0, 1]));
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'grown', count: 3 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS' });
    await admin.createPartitions({ topicPartitions: [{ topic: 'grown', count: 6 }], validateOnly: true });
    expect(await partitionCount('grown')).toBe(5);
    // A new partition takes records.
    const [sent] = await producer.send({ topic: 'grown', messages: [{ partition: 4, value: 'in partition 4' }] });
    expect(sent).toMatchObject({ partition: 4, errorCode: 0, baseOffset: '0' });
  });

  it('describes topic and broker configs (describeConfigs)', async () => {
    const configs = await topicConfigs('configured');
    expect(configs.get('retention.ms')).toMatchObject({ configValue: '86400000', configSource: 1, isDefault: false, readOnly: false });
    expect(configs.get('cleanup.policy')).toMatchObject({ configValue: 'delete', configSource: 5, isDefault: true });
    expect(configs.size).toBe(12);
    const filtered = await topicConfigs('configured', ['segment.bytes']);
    expect([...filtered.keys()]).toEqual(['segment.bytes']);
    const broker = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: ['auto.create.topics.enable'] }], includeSynonyms: true });
    expect(broker.resources[0]!.configEntries).toEqual([expect.objectContaining({
      configName: 'auto.create.topics.enable', configValue: 'false', readOnly: true, configSource: 4,
      configSynonyms: [{ configName: 'auto.create.topics.enable', configValue: 'false', configSource: 4 }, { configName: 'auto.create.topics.enable', configValue: 'true', configSource: 5 }],
    })]);
    await expect(admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'missing' }], includeSynonyms: false })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('alters topic configs (alterConfigs), refusing bad values', async () => {
    await admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'configured', configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '65536' }] }], validateOnly: false });
    const configs = await topicConfigs('configured');
    expect(configs.get('cleanup.policy')).toMatchObject({ configValue: 'compact', configSource: 1 });
    expect(configs.get('segment.bytes')).toMatchObject({ configValue: '65536', configSource: 1 });
    // AlterConfigs replaces: retention.ms, not named, is back to the default.
    expect(configs.get('retention.ms')).toMatchObject({ configValue: '604800000', configSource: 5 });
    await expect(admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'configured', configEntries: [{ name: 'retention.ms', value: 'forever' }] }], validateOnly: false }))
      .rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    expect((await topicConfigs('configured')).get('cleanup.policy')!.configValue).toBe('compact');
    await admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'grown', configEntries: [{ name: 'retention.bytes', value: '10000000' }] }], validateOnly: false });
  });

  it('deletes records (deleteTopicRecords) and shows the new low watermark (fetchTopicOffsets)', async () => {
    await producer.send({ topic: 'grown', messages: Array.from({ length: 5 }, (_, i) => ({ partition: 0, value: `record ${i}` })) });
    expect((await admin.fetchTopicOffsets('grown')).find((offsets) => offsets.partition === 0)).toMatchObject({ low: '0', high: '5', offset: '5' });
    await admin.deleteTopicRecords({ topic: 'grown', partitions: [{ partition: 0, offset: '3' }] });
    expect((await admin.fetchTopicOffsets('grown')).find((offsets) => offsets.partition === 0)).toMatchObject({ low: '3', high: '5' });
    await admin.deleteTopicRecords({ topic: 'grown', partitions: [{ partition: 0, offset: '-1' }] });
    expect((await admin.fetchTopicOffsets('grown')).find((offsets) => offsets.partition === 0)).toMatchObject({ low: '5', high: '5' });
    // Past the high watermark: kafkajs reports the partition's OFFSET_OUT_OF_RANGE.
    await expect(admin.deleteTopicRecords({ topic: 'grown', partitions: [{ partition: 0, offset: '99' }] })).rejects.toMatchObject({
      cause: { name: 'KafkaJSDeleteTopicRecordsError', partitions: [{ partition: 0, error: { type: 'OFFSET_OUT_OF_RANGE' } }] },
    });
  });

  it('deletes topics (deleteTopics)', async () => {
    await admin.deleteTopics({ topics: ['doomed'] });
    expect((await admin.listTopics()).sort()).toEqual(['configured', 'grown']);
    await expect(admin.fetchTopicMetadata({ topics: ['doomed'] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('keeps every change across a SIGTERM and a restart', async () => {
    await producer.disconnect();
    await admin.disconnect();
    expect(await samsa.stop('SIGTERM')).toBe(0);
    samsa = await startSamsa({ dataDirectory, brokerCount: 2, port: samsa.port, args: ARGS });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    expect((await admin.listTopics()).sort()).toEqual(['configured', 'grown']);
    expect(await partitionCount('grown')).toBe(5);
    const configs = await topicConfigs('configured');
    expect(configs.get('cleanup.policy')).toMatchObject({ configValue: 'compact', configSource: 1 });
    expect(configs.get('segment.bytes')).toMatchObject({ configValue: '65536', configSource: 1 });
    expect((await topicConfigs('grown')).get('retention.bytes')).toMatchObject({ configValue: '10000000', configSource: 1 });
    const offsets = await admin.fetchTopicOffsets('grown');
    expect(offsets.find((entry) => entry.partition === 0)).toMatchObject({ low: '5', high: '5' });
    expect(offsets.find((entry) => entry.partition === 4)).toMatchObject({ low: '0', high: '1' });
  });
});
