/**
 * Python admin clients against `samsa start` with two brokers: kafka-python's KafkaAdminClient
 * and confluent-kafka's AdminClient (librdkafka 2.0) each create topics, describe and alter
 * configs, add partitions and delete a topic, meeting an error at each step; then a restart
 * keeps every change. Debian's packages install both clients for /usr/bin/python3 (.ci/run
 * installs them); a missing client is a failure, not a skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { ConfigSource } from '../../src/server/described-configs.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { BROKER, describeConfigs, TOPIC } from './admin-requests.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { metadata } from './requests.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'admin.py');
const ARGS = ['--override', 'auto.create.topics.enable=false', '--override', 'num.partitions=3'];
const clients = [['kafka-python', 'kafka', 'py'], ['confluent', 'confluent_kafka', 'rd']] as const;

/** Config name -> [value, read only, source]. */
interface Described {
  error_code: number;
  configs: Record<string, [string, boolean, number]>;
}

interface Outcome {
  create_topics: number[];
  create_existing: number;
  configs_before: Described;
  configs_filtered: Described;
  configs_missing: Described;
  broker_configs: Described;
  alter: number;
  alter_invalid: number;
  configs_after: Described;
  create_partitions: number;
  shrink: number;
  partitions: number[];
  delete_topic: number;
  delete_missing: number;
  topics: string[];
}

const { DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG } = ConfigSource;
const directories = new TemporaryDirectories();
const dataDirectory = directories.make('samsa-python-admin-');
let samsa: SamsaProcess;

describe('python admin clients', () => {
  beforeAll(async () => {
    samsa = await startSamsa({ dataDirectory, brokerCount: 2, args: ARGS });
  });

  afterAll(async () => {
    await samsa?.stop('SIGTERM');
    directories.removeAll();
  });

  for (const [client, module, prefix] of clients) {
    it(`${client} creates topics, describes and alters configs, adds partitions, deletes topics`, () => {
      expect(spawnSync(PYTHON, ['-c', `import ${module}`]).status, `${module} must be importable by ${PYTHON} (apt-get install -y python3-kafka python3-confluent-kafka)`).toBe(0);
      const output = execFileSync(PYTHON, [SCRIPT, client, String(samsa.port), prefix], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
      const outcome = JSON.parse(output) as Outcome;
      expect(outcome.create_topics).toEqual([0, 0, 0]);
      expect(outcome.create_existing).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);

      expect(outcome.configs_before.error_code).toBe(0);
      expect(Object.keys(outcome.configs_before.configs).length).toBe(12);
      expect(outcome.configs_before.configs['retention.ms']).toEqual(['3600000', false, DYNAMIC_TOPIC_CONFIG]);
      expect(outcome.configs_before.configs['cleanup.policy']).toEqual(['delete', false, DEFAULT_CONFIG]);
      expect(Object.keys(outcome.configs_filtered.configs).sort()).toEqual(['retention.ms', 'segment.bytes']);
      expect(outcome.configs_missing).toEqual({ error_code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, configs: {} });
      expect(outcome.broker_configs.configs['num.partitions']).toEqual(['3', true, STATIC_BROKER_CONFIG]);
      expect(outcome.broker_configs.configs['log.segment.bytes']).toEqual(['1073741824', true, DEFAULT_CONFIG]);

      expect(outcome.alter).toBe(0);
      expect(outcome.alter_invalid).toBe(ErrorCode.INVALID_CONFIG);
      expect(outcome.configs_after.configs['cleanup.policy']).toEqual(['compact', false, DYNAMIC_TOPIC_CONFIG]);
      expect(outcome.configs_after.configs['max.message.bytes']).toEqual(['5000', false, DYNAMIC_TOPIC_CONFIG]);
      // AlterConfigs replaces: retention.ms, not named, went back to the default.
      expect(outcome.configs_after.configs['retention.ms']).toEqual(['604800000', false, DEFAULT_CONFIG]);

      expect(outcome.create_partitions).toBe(0);
      expect(outcome.shrink).toBe(ErrorCode.INVALID_PARTITIONS);
      expect(outcome.partitions).toEqual([0, 1, 2, 3]);

      expect(outcome.delete_topic).toBe(0);
      expect(outcome.delete_missing).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      expect(outcome.topics).toEqual([`${prefix}-configured`, `${prefix}-grown`]);
    });
  }

  it('keeps the changes across a restart', async () => {
    expect(await samsa.stop('SIGTERM')).toBe(0);
    samsa = await startSamsa({ dataDirectory, brokerCount: 2, port: samsa.port, args: ARGS });
    const client = await RawKafkaClient.connect(samsa.port);
    const topics = (await metadata(client, null)).topics;
    expect(topics.map((topic) => [topic.name, topic.partitions.length]).sort()).toEqual([['py-configured', 1], ['py-grown', 4], ['rd-configured', 1], ['rd-grown', 4]]);
    for (const prefix of ['py', 'rd']) {
      const described = await describeConfigs(client, [{ type: TOPIC, name: `${prefix}-configured`, keys: ['cleanup.policy', 'max.message.bytes', 'retention.ms'] }]);
      expect(described.results[0]!.configs.map((config) => [config.name, config.value, config.configSource])).toEqual([
        ['max.message.bytes', '5000', DYNAMIC_TOPIC_CONFIG],
        ['retention.ms', '604800000', DEFAULT_CONFIG],
        ['cleanup.policy', 'compact', DYNAMIC_TOPIC_CONFIG],
      ]);
    }
    const broker = await describeConfigs(client, [{ type: BROKER, name: '0', keys: ['num.partitions'] }]);
    expect(broker.results[0]!.configs.map((config) => [config.name, config.value])).toEqual([['num.partitions', '3']]);
    client.close();
  });
});
