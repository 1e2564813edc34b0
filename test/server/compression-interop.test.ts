/**
 * Compression with real clients, each codec each client supports: kcat and confluent-kafka-python
 * (librdkafka: gzip, snappy, lz4, zstd), kafka-python (gzip, snappy, lz4, zstd; the last three
 * through python3-snappy, python3-lz4, python3-zstandard) and kafkajs (gzip, built in).
 *
 * Each produces the whole record set of interop-records.ts (keys, null and empty keys, null and
 * empty values, binary bytes, repeated and empty headers, values from 0 bytes to just under
 * max.message.bytes) to a fresh three-partition topic on two brokers, then:
 * - the client's own consumer reads it back (assign() from offset 0, CRC checks on), and every
 *   record matches byte for byte, in its murmur2 partition, in produced order, offsets 0, 1, 2...;
 * - a raw Fetch shows that every stored batch carries the producer's codec with a valid CRC: the
 *   broker keeps batches as they came, never re-encoding them.
 * librdkafka decides per broker whether to compress: gzip and snappy need Produce v0 listed in
 * ApiVersions (hence handler-registry.ts advertises it), lz4 needs FindCoordinator listed (before
 * 2.11.1, and Debian ships 2.0.2, librdkafka takes it for "Kafka >= 0.8.2" and otherwise sends
 * lz4 batches uncompressed); Samsa lists it since consumer groups, so lz4 is stored as lz4.
 * A missing client is a failure, not a skip (.ci/run installs them).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompressionTypes, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { kafkajsDecode } from '../log/kafkajs-batches.js';
import {
  expectConsumedAsProduced, expectStoredAs, flatten, fromJson, kafkajsMurmur2, MAX_MESSAGE_BYTES, murmur2, readStored, recordGroups, toJson,
  type ConsumedRecord, type InteropRecord,
} from './interop-records.js';
import { kcatConsume, kcatProduce } from './kcat-client.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics } from './requests.js';
import type { ApiVersionsResponse } from '../../src/protocol/generated/messages/index.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'compression.py');
const PARTITIONS = 3;
const LIBRDKAFKA_CODECS = ['gzip', 'snappy', 'lz4', 'zstd'];

const directories = new TemporaryDirectories();
const scratch = directories.make('samsa-compression-files-');
let samsa: SamsaProcess;

beforeAll(async () => {
  samsa = await startSamsa({ dataDirectory: directories.make('samsa-compression-'), brokerCount: 2, args: ['--override', 'auto.create.topics.enable=false'] });
});

afterAll(async () => {
  await samsa?.stop('SIGTERM');
  directories.removeAll();
});

async function createTopic(topic: string): Promise<void> {
  const client = await RawKafkaClient.connect(samsa.port);
  try {
    const created = await createTopics(client, [{ name: topic, numPartitions: PARTITIONS }]);
    expect(created.topics[0]!.errorCode, `create ${topic}`).toBe(0);
  } finally {
    client.close();
  }
}

/** Consumed matches produced, and the stored batches all carry `codec` (librdkafka: or none, see expectStoredAs). */
async function expectRoundTrip(topic: string, codec: string, produced: InteropRecord[], consumed: ConsumedRecord[], options: { librdkafka?: boolean } = {}): Promise<void> {
  expectConsumedAsProduced(produced, consumed, { partitionCount: PARTITIONS });
  const stored = await readStored(samsa.port, topic);
  expectStoredAs(stored, codec, topic, { uncompressedAllowed: options.librdkafka });
  expect(stored.reduce((sum, partition) => sum + partition.highWatermark, 0)).toBe(produced.length);
  // Both brokers lead some of the partitions, so both took writes.
  expect(new Set(stored.map((partition) => partition.leader)).size).toBe(2);
}

it('ApiVersions lists Produce from v0 and FindCoordinator (librdkafka compresses only then), yet a Produce v2 request is refused', async () => {
  const client = await RawKafkaClient.connect(samsa.port);
  const apiKeys = (await client.request<ApiVersionsResponse>(18, 3, {})).apiKeys;
  expect(apiKeys.find((api) => api.apiKey === 0)).toEqual({ apiKey: 0, minVersion: 0, maxVersion: 9 });
  expect(apiKeys.some((api) => api.apiKey === 10)).toBe(true);
  client.writeRaw(RawKafkaClient.frame(0, 2, 77, new Uint8Array([0, 1, 0, 0, 0x13, 0x88, 0, 0, 0, 0])));
  await client.closed;
});

it('murmur2 here agrees with kafkajs\'s Java-compatible one', () => {
  for (const record of flatten(recordGroups('check', PARTITIONS))) {
    if (record.key) expect(murmur2(record.key)).toBe(kafkajsMurmur2(record.key));
  }
});

// ---------------------------------------------------------------------------------------------

describe('kcat', () => {
  it('is installed (apt-get install -y kcat; .ci/run does it)', () => {
    expect(spawnSync('kcat', ['-V']).status, 'kcat must be on PATH').toBe(0);
  });

  for (const codec of LIBRDKAFKA_CODECS) {
    it(`-z ${codec}: stored as produced, consumed back byte for byte`, async () => {
      const topic = `kcat-${codec}`;
      await createTopic(topic);
      const groups = recordGroups(topic, PARTITIONS);
      kcatProduce(samsa.port, topic, groups, ['-z', codec, '-X', 'acks=all']);
      await expectRoundTrip(topic, codec, flatten(groups), kcatConsume(samsa.port, topic), { librdkafka: true });
    });
  }
});

// ---------------------------------------------------------------------------------------------

const hasModule = (module: string) => spawnSync(PYTHON, ['-c', `import ${module}`]).status === 0;

function runPython(client: string, topic: string, codec: string, records: InteropRecord[]): ConsumedRecord[] {
  const input = path.join(scratch, `${topic}.in.json`);
  const output = path.join(scratch, `${topic}.out.json`);
  writeFileSync(input, JSON.stringify({ records: records.map(toJson) }));
  const result = spawnSync(PYTHON, [SCRIPT, client, String(samsa.port), topic, codec, input, output], { encoding: 'utf8', timeout: 55_000 });
  expect(result.status, `${client} ${codec}: ${result.stderr}`).toBe(0);
  return (JSON.parse(readFileSync(output, 'utf8')) as { consumed: Parameters<typeof fromJson>[0][] }).consumed.map(fromJson);
}

const pythonClients = [
  { client: 'confluent', module: 'confluent_kafka', codecs: LIBRDKAFKA_CODECS.map((codec) => ({ codec, modules: [] as string[] })) },
  {
    client: 'kafka-python',
    module: 'kafka',
    codecs: [
      { codec: 'gzip', modules: [] },
      { codec: 'snappy', modules: ['snappy'] },
      { codec: 'lz4', modules: ['lz4.frame'] },
      { codec: 'zstd', modules: ['zstandard'] },
    ],
  },
];

for (const { client, module, codecs } of pythonClients) {
  describe(client, () => {
    it(`is importable by ${PYTHON}`, () => {
      expect(hasModule(module), `${module} must be importable by ${PYTHON} (apt-get install -y python3-kafka python3-confluent-kafka)`).toBe(true);
    });

    for (const { codec, modules } of codecs) {
      it(`compression ${codec}: stored as produced, consumed back byte for byte`, async () => {
        for (const needed of modules) {
          expect(hasModule(needed), `${needed} must be importable by ${PYTHON} for kafka-python's ${codec} (apt-get install -y python3-snappy python3-lz4 python3-zstandard)`).toBe(true);
        }
        const topic = `${client}-${codec}`;
        await createTopic(topic);
        // kafka-python refuses a record with neither key nor value ('Need at least one').
        const records = flatten(recordGroups(topic, PARTITIONS)).filter((record) => client !== 'kafka-python' || record.key !== null || record.value !== null);
        const consumed = runPython(client, topic, codec, records);
        await expectRoundTrip(topic, codec, records, consumed, { librdkafka: client === 'confluent' });
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------

describe('kafkajs', () => {
  let producer: Producer;

  beforeAll(async () => {
    const kafka = new Kafka({ clientId: 'samsa-compression', brokers: [`127.0.0.1:${samsa.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  /** kafkajs takes headers as an object; a repeated name is an array, in order. */
  function headerObject(headers: [string, Buffer][]): Record<string, Buffer | Buffer[]> {
    const object: Record<string, Buffer | Buffer[]> = {};
    for (const [name, value] of headers) {
      const earlier = object[name];
      object[name] = earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [earlier]), value];
    }
    return object;
  }

  it('gzip: stored as produced, read back byte for byte by kafkajs\'s decoder', async () => {
    const topic = 'kafkajs-gzip';
    await createTopic(topic);
    const groups = recordGroups(topic, PARTITIONS);
    for (const group of groups) {
      const answers = await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: group.records.map((record) => ({ key: record.key, value: record.value, headers: headerObject(record.headers) })),
      });
      for (const answer of answers) expect(answer.errorCode).toBe(0);
    }
    const consumed: ConsumedRecord[] = [];
    for (const stored of await readStored(samsa.port, topic)) {
      for (const record of await kafkajsDecode(stored.bytes)) {
        const headers = Object.entries(record.headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((one): [string, Buffer] => [name, Buffer.from(one as Buffer)]));
        consumed.push({ partition: stored.partition, offset: Number(record.offset), key: record.key, value: record.value, headers });
      }
    }
    await expectRoundTrip(topic, 'gzip', flatten(groups), consumed);
  });

  it('a batch over max.message.bytes is refused with MESSAGE_TOO_LARGE, and nothing is stored', async () => {
    const topic = 'kafkajs-too-large';
    await createTopic(topic);
    const value = Buffer.alloc(MAX_MESSAGE_BYTES, 'x');
    await expect(producer.send({ topic, acks: -1, messages: [{ key: 'big', value }] })).rejects.toThrow(/larger than the max message size/);
    const stored = await readStored(samsa.port, topic);
    expect(stored.map((partition) => partition.highWatermark)).toEqual([0, 0, 0]);
  });
});
