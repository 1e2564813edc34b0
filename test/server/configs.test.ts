/**
 * DescribeConfigs, AlterConfigs and IncrementalAlterConfigs over a real socket: values and
 * sources, synonyms, errors, changes applied to the partition logs at once and kept by a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG } from '../../src/log/log-config.js';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import type { DescribeConfigsResult } from '../../src/protocol/generated/messages/describe-configs-response.js';
import { ConfigSource, ConfigType } from '../../src/server/described-configs.js';
import { ConfigOperation } from '../../src/server/handlers/incremental-alter-configs.js';
import { kafkajsBatch } from '../log/kafkajs-batches.js';
import { alterConfigs, BROKER, describeConfigs, incrementalAlterConfigs, TOPIC } from './admin-requests.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, produce } from './requests.js';

const { SET, DELETE, APPEND, SUBTRACT } = ConfigOperation;
let fixture: BrokerFixture;
let client: RawKafkaClient;

beforeAll(async () => {
  fixture = await startBrokers({ brokerCount: 2, settings: { 'log.segment.bytes': '1048576', 'num.partitions': '2' } });
  client = await RawKafkaClient.connect(fixture.port(0));
  const created = await createTopics(client, [
    { name: 'described', assignments: [[0]], configs: { 'retention.ms': '1000', 'cleanup.policy': 'compact' } },
    { name: 'altered', assignments: [[0], [1]], configs: { 'retention.ms': '1000' } },
    { name: 'stepped', assignments: [[0]], configs: { 'segment.bytes': '4096', 'retention.ms': '5000' } },
  ]);
  expect(created.topics.map((topic) => topic.errorCode)).toEqual([0, 0, 0]);
});

afterAll(async () => {
  client.close();
  await fixture.stop();
  removeScratchDirectories();
});

function byName(result: DescribeConfigsResult) {
  return new Map(result.configs.map((config) => [config.name, config]));
}

async function topicConfigs(name: string) {
  const response = await describeConfigs(client, [{ type: TOPIC, name }]);
  expect(response.results[0]!.errorCode).toBe(0);
  return byName(response.results[0]!);
}

describe('DescribeConfigs', () => {
  it('describes every topic config with its value, source, synonyms, type and documentation (v4)', async () => {
    const response = await describeConfigs(client, [{ type: TOPIC, name: 'described' }], { includeSynonyms: true, includeDocumentation: true });
    expect(response.results[0]).toMatchObject({ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'described' });
    const configs = byName(response.results[0]!);
    expect([...configs.keys()].sort()).toEqual(['cleanup.policy', 'delete.retention.ms', 'flush.messages', 'flush.ms', 'index.interval.bytes', 'max.message.bytes',
      'message.timestamp.type', 'min.cleanable.dirty.ratio', 'retention.bytes', 'retention.ms', 'segment.bytes', 'segment.ms']);
    expect(configs.get('retention.ms')).toEqual({
      name: 'retention.ms', value: '1000', readOnly: false, isDefault: false, configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG, isSensitive: false,
      synonyms: [{ name: 'retention.ms', value: '1000', source: ConfigSource.DYNAMIC_TOPIC_CONFIG }, { name: 'log.retention.ms', value: '604800000', source: ConfigSource.DEFAULT_CONFIG }],
      configType: ConfigType.LONG, documentation: expect.stringMatching(/records are kept/),
    });
    expect(configs.get('segment.bytes')).toMatchObject({
      value: '1048576', configSource: ConfigSource.STATIC_BROKER_CONFIG,
      synonyms: [{ name: 'log.segment.bytes', value: '1048576', source: ConfigSource.STATIC_BROKER_CONFIG }, { name: 'log.segment.bytes', value: '1073741824', source: ConfigSource.DEFAULT_CONFIG }],
    });
    expect(configs.get('cleanup.policy')).toMatchObject({ value: 'compact', configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG, configType: ConfigType.LIST });
    expect(configs.get('max.message.bytes')).toMatchObject({ value: '1048588', configSource: ConfigSource.DEFAULT_CONFIG, readOnly: false, isSensitive: false });
  });

  it('leaves synonyms and documentation out unless asked, and lists only the keys named (v1 librdkafka, v2 kafkajs)', async () => {
    for (const version of [1, 2, 3, 4]) {
      const response = await describeConfigs(client, [{ type: TOPIC, name: 'described', keys: ['retention.ms', 'segment.ms', 'no.such.config'] }], { version });
      expect(response.results[0]!.configs.map((config) => [config.name, config.value, config.configSource, config.synonyms])).toEqual([
        ['segment.ms', '604800000', ConfigSource.DEFAULT_CONFIG, []],
        ['retention.ms', '1000', ConfigSource.DYNAMIC_TOPIC_CONFIG, []],
      ]);
      if (version >= 3) expect(response.results[0]!.configs[0]!.documentation).toBeNull();
    }
    expect((await describeConfigs(client, [{ type: TOPIC, name: 'described', keys: [] }])).results[0]!.configs).toEqual([]);
  });

  it('describes the broker settings, read-only, static when given', async () => {
    const response = await describeConfigs(client, [{ type: BROKER, name: '1' }, { type: BROKER, name: '' }], { includeSynonyms: true });
    expect(response.results.map((result) => [result.resourceName, result.errorCode])).toEqual([['1', 0], ['', 0]]);
    const configs = byName(response.results[0]!);
    expect(configs.get('num.partitions')).toMatchObject({ value: '2', readOnly: true, configSource: ConfigSource.STATIC_BROKER_CONFIG });
    expect(configs.get('log.segment.bytes')).toMatchObject({ value: '1048576', configSource: ConfigSource.STATIC_BROKER_CONFIG });
    expect(configs.get('auto.create.topics.enable')).toMatchObject({ value: 'true', configSource: ConfigSource.DEFAULT_CONFIG });
    expect(configs.get('log.retention.ms')).toMatchObject({ value: '604800000', configSource: ConfigSource.DEFAULT_CONFIG });
    // The cluster-wide default (""): there are no dynamic broker configs.
    expect(response.results[1]!.configs).toEqual([]);
  });

  it('answers each resource with its own error', async () => {
    const response = await describeConfigs(client, [
      { type: TOPIC, name: 'missing' },
      { type: TOPIC, name: 'bad name' },
      { type: BROKER, name: '7' },
      { type: BROKER, name: 'one' },
      { type: 8, name: '0' },
      { type: 99, name: 'x' },
      { type: TOPIC, name: 'described', keys: ['retention.ms'] },
    ]);
    expect(response.results.map((result) => [result.resourceName, result.errorCode, result.configs.length])).toEqual([
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ['bad name', ErrorCode.INVALID_TOPIC_EXCEPTION, 0],
      ['7', ErrorCode.INVALID_REQUEST, 0],
      ['one', ErrorCode.INVALID_REQUEST, 0],
      ['0', ErrorCode.INVALID_REQUEST, 0],
      ['x', ErrorCode.INVALID_REQUEST, 0],
      ['described', 0, 1],
    ]);
    expect(response.results[0]!.errorMessage).toBe("topic 'missing' does not exist");
  });
});

describe('AlterConfigs', () => {
  it('replaces the topic\'s configs: those not named go back to the broker\'s defaults', async () => {
    const response = await alterConfigs(client, [{ type: TOPIC, name: 'altered', configs: { 'segment.bytes': '2048', 'max.message.bytes': '200' } }]);
    expect(response).toEqual({ throttleTimeMs: 0, responses: [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'altered' }] });
    const configs = await topicConfigs('altered');
    expect(configs.get('segment.bytes')).toMatchObject({ value: '2048', configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    expect(configs.get('retention.ms')).toMatchObject({ value: '604800000', configSource: ConfigSource.DEFAULT_CONFIG });
    expect(fixture.broker.controller.topic('altered')!.configs).toEqual({ 'segment.bytes': '2048', 'max.message.bytes': '200' });
  });

  it('applies the change to the partition logs at once', async () => {
    for (const partition of [0, 1]) {
      expect((await fixture.broker.partitionInfo('altered', partition))!.config).toMatchObject({ segmentBytes: 2048, maxMessageBytes: 200, retentionMs: DEFAULT_LOG_CONFIG.retentionMs });
    }
    const large = await kafkajsBatch([{ key: null, value: Buffer.alloc(300, 1) }]);
    expect((await produce(client, 'altered', 0, large)).responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    await alterConfigs(client, [{ type: TOPIC, name: 'altered', configs: { 'segment.bytes': '2048', 'max.message.bytes': '1000' } }]);
    expect((await produce(client, 'altered', 0, large)).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
  });

  it('validates without changing anything when validateOnly is set (v0, as librdkafka sends it)', async () => {
    const response = await alterConfigs(client, [{ type: TOPIC, name: 'altered', configs: { 'retention.ms': '5' } }], true, 0);
    expect(response.responses[0]!.errorCode).toBe(0);
    expect((await topicConfigs('altered')).get('retention.ms')!.value).toBe('604800000');
    const invalid = await alterConfigs(client, [{ type: TOPIC, name: 'altered', configs: { 'retention.ms': 'soon' } }], true);
    expect(invalid.responses[0]!.errorCode).toBe(ErrorCode.INVALID_CONFIG);
  });

  it('answers each resource with its own error and changes none of the failed ones', async () => {
    const response = await alterConfigs(client, [
      { type: TOPIC, name: 'altered', configs: { 'retention.ms': 'soon' } },
      { type: TOPIC, name: 'described', configs: { 'no.such.config': '1' } },
      { type: TOPIC, name: 'stepped', configs: { 'retention.ms': null } },
      { type: TOPIC, name: 'missing', configs: {} },
      { type: BROKER, name: '0', configs: { 'num.partitions': '3' } },
      { type: 99, name: 'x', configs: {} },
    ]);
    expect(response.responses.map((result) => [result.resourceName, result.errorCode])).toEqual([
      ['altered', ErrorCode.INVALID_CONFIG],
      ['described', ErrorCode.INVALID_CONFIG],
      ['stepped', ErrorCode.INVALID_REQUEST],
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['0', ErrorCode.INVALID_CONFIG],
      ['x', ErrorCode.INVALID_REQUEST],
    ]);
    expect(response.responses[0]!.errorMessage).toMatch(/retention.ms: not an integer/);
    expect(response.responses[1]!.errorMessage).toMatch(/unknown topic config: no.such.config/);
    const twice = await alterConfigs(client, [{ type: TOPIC, name: 'stepped', configs: {} }, { type: TOPIC, name: 'stepped', configs: {} }]);
    expect(twice.responses.map((result) => result.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
    expect(fixture.broker.controller.topic('stepped')!.configs).toEqual({ 'segment.bytes': '4096', 'retention.ms': '5000' });
    expect(fixture.broker.controller.topic('described')!.configs).toEqual({ 'retention.ms': '1000', 'cleanup.policy': 'compact' });
  });
});

describe('IncrementalAlterConfigs', () => {
  it('sets and deletes single configs and keeps the others', async () => {
    const response = await incrementalAlterConfigs(client, [{ type: TOPIC, name: 'stepped', operations: [['retention.ms', SET, '7000'], ['segment.bytes', DELETE, null], ['flush.messages', SET, '1']] }]);
    expect(response.responses[0]).toEqual({ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'stepped' });
    expect(fixture.broker.controller.topic('stepped')!.configs).toEqual({ 'retention.ms': '7000', 'flush.messages': '1' });
    expect((await fixture.broker.partitionInfo('stepped', 0))!.config).toMatchObject({ retentionMs: 7000, flushMessages: 1, segmentBytes: 1048576 });
    const configs = await topicConfigs('stepped');
    expect(configs.get('segment.bytes')).toMatchObject({ value: '1048576', configSource: ConfigSource.STATIC_BROKER_CONFIG });
  });

  it('appends to and subtracts from list configs, starting from the effective value', async () => {
    const append = await incrementalAlterConfigs(client, [{ type: TOPIC, name: 'stepped', operations: [['cleanup.policy', APPEND, 'compact']] }], false, 0);
    expect(append.responses[0]!.errorCode).toBe(0);
    expect(fixture.broker.controller.topic('stepped')!.configs['cleanup.policy']).toBe('delete,compact');
    expect((await fixture.broker.partitionInfo('stepped', 0))!.config.cleanupPolicy).toBe('compact,delete');
    await incrementalAlterConfigs(client, [{ type: TOPIC, name: 'stepped', operations: [['cleanup.policy', APPEND, 'compact']] }]);
    expect(fixture.broker.controller.topic('stepped')!.configs['cleanup.policy']).toBe('delete,compact');
    await incrementalAlterConfigs(client, [{ type: TOPIC, name: 'stepped', operations: [['cleanup.policy', SUBTRACT, 'delete']] }]);
    expect((await topicConfigs('stepped')).get('cleanup.policy')).toMatchObject({ value: 'compact', configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG });
  });

  it('answers each resource with its own error and validates without changing when validateOnly is set', async () => {
    const before = fixture.broker.controller.topic('stepped')!.configs;
    const response = await incrementalAlterConfigs(client, [
      { type: TOPIC, name: 'stepped', operations: [['retention.ms', APPEND, '5']] },
      { type: TOPIC, name: 'described', operations: [['retention.ms', 7, '5']] },
      { type: TOPIC, name: 'altered', operations: [['retention.ms', SET, '1'], ['retention.ms', SET, '2']] },
      { type: TOPIC, name: 'missing', operations: [] },
      { type: BROKER, name: '1', operations: [['num.partitions', SET, '3']] },
    ]);
    expect(response.responses.map((result) => [result.resourceName, result.errorCode])).toEqual([
      ['stepped', ErrorCode.INVALID_CONFIG],
      ['described', ErrorCode.INVALID_REQUEST],
      ['altered', ErrorCode.INVALID_REQUEST],
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['1', ErrorCode.INVALID_CONFIG],
    ]);
    expect(response.responses[0]!.errorMessage).toBe('config value append is not allowed for config key: retention.ms');
    const single = async (operations: [string, number, string | null][], validateOnly = false) =>
      (await incrementalAlterConfigs(client, [{ type: TOPIC, name: 'stepped', operations }], validateOnly)).responses[0]!.errorCode;
    expect(await single([['retention.ms', SET, null]])).toBe(ErrorCode.INVALID_REQUEST);
    expect(await single([['retention.ms', SET, 'later']])).toBe(ErrorCode.INVALID_CONFIG);
    expect(await single([['no.such.config', DELETE, null]])).toBe(ErrorCode.INVALID_CONFIG);
    expect(await single([['cleanup.policy', SUBTRACT, 'compact']])).toBe(ErrorCode.INVALID_CONFIG);
    expect(await single([['retention.ms', SET, '9']], true)).toBe(0);
    expect(fixture.broker.controller.topic('stepped')!.configs).toEqual(before);
  });
});

describe('config changes', () => {
  it('are kept by a restart and applied to the logs opened at start', async () => {
    const before = (await describeConfigs(client, [{ type: TOPIC, name: 'altered' }, { type: TOPIC, name: 'stepped' }, { type: TOPIC, name: 'described' }], { includeSynonyms: true })).results;
    client.close();
    await fixture.restart();
    client = await RawKafkaClient.connect(fixture.port(1));
    const after = (await describeConfigs(client, [{ type: TOPIC, name: 'altered' }, { type: TOPIC, name: 'stepped' }, { type: TOPIC, name: 'described' }], { includeSynonyms: true })).results;
    expect(after).toEqual(before);
    expect(byName(after[0]!).get('max.message.bytes')!.value).toBe('1000');
    expect((await fixture.broker.partitionInfo('altered', 1))!.config).toMatchObject({ segmentBytes: 2048, maxMessageBytes: 1000 });
    expect((await fixture.broker.partitionInfo('stepped', 0))!.config).toMatchObject({ retentionMs: 7000, flushMessages: 1, cleanupPolicy: 'compact' });
  });
});
