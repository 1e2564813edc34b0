/**
 * acks=0 and acks=1 with librdkafka clients (kcat -X acks=..., confluent-kafka-python), and
 * ListOffsets by timestamp through confluent's offsets_for_times and kcat -Q, against `samsa
 * start` with two brokers. acks=0 Produce gets no response at all; the records must still all
 * arrive, in order, in their murmur2 partitions. (acks=all is what the other interop tests use.)
 * A missing client is a failure, not a skip (.ci/run installs them).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { expectConsumedAsProduced, expectStoredAs, flatten, murmur2Partition, readStored, recordGroups } from './interop-records.js';
import { kcat, kcatConsume, kcatProduce } from './kcat-client.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics } from './requests.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'acks.py');
const PARTITIONS = 3;
const directories = new TemporaryDirectories();
let samsa: SamsaProcess;

beforeAll(async () => {
  samsa = await startSamsa({ dataDirectory: directories.make('samsa-acks-'), brokerCount: 2, args: ['--override', 'auto.create.topics.enable=false'] });
});

afterAll(async () => {
  await samsa?.stop('SIGTERM');
  directories.removeAll();
});

async function createTopic(topic: string, numPartitions = PARTITIONS): Promise<void> {
  const client = await RawKafkaClient.connect(samsa.port);
  expect((await createTopics(client, [{ name: topic, numPartitions }])).topics[0]!.errorCode, `create ${topic}`).toBe(0);
  client.close();
}

/** Records in the topic (sum of high watermarks): how to see that acks=0 records have landed. */
async function recordCount(topic: string): Promise<number> {
  return (await readStored(samsa.port, topic)).reduce((sum, partition) => sum + partition.highWatermark, 0);
}

function python(args: string[]): unknown {
  const result = spawnSync(PYTHON, [SCRIPT, args[0]!, String(samsa.port), ...args.slice(1)], { encoding: 'utf8', timeout: 50_000 });
  expect(result.status, `acks.py ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout);
}

describe('kcat', () => {
  it('is installed (apt-get install -y kcat; .ci/run does it)', () => {
    expect(spawnSync('kcat', ['-V']).status, 'kcat must be on PATH').toBe(0);
  });

  for (const acks of ['0', '1']) {
    it(`-X acks=${acks}: every record arrives byte for byte, in its murmur2 partition`, async () => {
      const topic = `kcat-acks-${acks}`;
      await createTopic(topic);
      const groups = recordGroups(topic, PARTITIONS);
      kcatProduce(samsa.port, topic, groups, ['-X', `acks=${acks}`]);
      const produced = flatten(groups);
      // kcat has exited: with acks=1 everything is acknowledged; with acks=0 it was only sent.
      if (acks === '0') await expect.poll(() => recordCount(topic), { timeout: 10_000 }).toBe(produced.length);
      expectConsumedAsProduced(produced, kcatConsume(samsa.port, topic), { partitionCount: PARTITIONS });
      expectStoredAs(await readStored(samsa.port, topic), 'none', topic);
    });
  }
});

describe('confluent-kafka-python', () => {
  it(`is importable by ${PYTHON}`, () => {
    expect(spawnSync(PYTHON, ['-c', 'import confluent_kafka']).status, `confluent_kafka must be importable by ${PYTHON} (apt-get install -y python3-confluent-kafka)`).toBe(0);
  });

  for (const acks of ['0', '1']) {
    it(`acks=${acks}: every record delivered and consumed, at the offsets reported`, async () => {
      const topic = `confluent-acks-${acks}`;
      await createTopic(topic);
      const count = 60;
      const outcome = python(['produce', topic, acks, String(count)]) as { delivered: [string, number, number, string | null][]; consumed: [number, number, string, string][] };
      expect(outcome.delivered.length).toBe(count);
      for (const [, , , error] of outcome.delivered) expect(error).toBeNull();
      expect(outcome.consumed.map(([, , key]) => key).sort()).toEqual(Array.from({ length: count }, (_, i) => `key-${i}`).sort());
      const offsets = new Map<number, number[]>();
      for (const [partition, offset, key, value] of outcome.consumed) {
        expect(partition, `partition of ${key}`).toBe(murmur2Partition(Buffer.from(key), PARTITIONS));
        expect(value).toBe(`value ${key.slice(4)} with acks=${acks}`);
        offsets.set(partition, [...(offsets.get(partition) ?? []), offset]);
      }
      for (const list of offsets.values()) expect(list).toEqual(list.map((_, i) => i));
      const consumedAt = new Map(outcome.consumed.map(([partition, offset, key]) => [key, [partition, offset]]));
      for (const [key, partition, offset] of outcome.delivered) {
        // acks=0 has no answer, so librdkafka cannot know the offset (OFFSET_INVALID, which Python shows as None).
        if (acks === '0') expect([key, partition, offset]).toEqual([key, consumedAt.get(key)![0], null]);
        else expect([key, partition, offset]).toEqual([key, ...consumedAt.get(key)!]);
      }
      expect(await recordCount(topic)).toBe(count);
    });
  }

  it('offsets_for_times finds the first offset at or after a timestamp, in partitions led by each broker; kcat -Q agrees', async () => {
    const topic = 'timed';
    await createTopic(topic, 2);
    const outcome = python(['times', topic, '2']) as { times: [number, number, number][]; consumed: [number, number, number, number][] };
    // Timestamps are stored as produced (CreateTime, type 1).
    const timestamps = outcome.consumed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(timestamps).toEqual([0, 1].flatMap((partition) => [1000, 1000, 2000, 2000, 3000, 3000].map((at, offset) => [partition, offset, 1, 1000 * partition + at])));
    const expected: Record<number, number> = { 1: 0, 999: 0, 1000: 0, 1001: 2, 1999: 2, 2000: 2, 2500: 4, 3000: 4, 3001: -1, 4000: -1, [10 ** 13]: -1 };
    for (const [partition, asked, offset] of outcome.times) expect(offset, `partition ${partition}, timestamp ${1000 * partition + asked}`).toBe(expected[asked]);
    expect(outcome.times.length).toBe(2 * Object.keys(expected).length);
    const query = kcat(samsa.port, ['-Q', '-t', `${topic}:0:1500`, '-t', `${topic}:1:4000`]).stdout.toString().trim().split('\n').sort();
    expect(query).toEqual([`${topic} [0] offset 2`, `${topic} [1] offset 4`]);
  });
});
