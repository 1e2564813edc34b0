/**
 * Log compaction of snappy, lz4 and zstd batches written by real clients: kcat (librdkafka: raw
 * snappy, lz4 frames, zstd frames) and kafka-python (xerial-framed snappy, lz4 frames with their
 * content size, zstd frames from python3-zstandard), against
 * a broker started as a user starts it, with `--override log.cleaner.backoff.ms=200`.
 *
 * Each client writes six rounds to a compacted one-partition topic with segment.ms=1, so each
 * round (one batch) lands in a segment of its own and only the last round stays in the active
 * segment. A round holds four shared keys, which every later round writes again, and two keys
 * of its own. Compaction keeps, in the closed segments, the latest record of each key: rounds
 * 0-3 keep only their own two keys (their batches rewritten, compressed again with the same
 * codec by Samsa), round 4 all six (its batch copied as it was), round 5 is untouched. Both
 * kcat and kafka-python must then read exactly those 20 records at their original offsets, CRCs
 * checked, from batches that still carry the producer's codec.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { readStored } from './interop-records.js';
import { kcat } from './kcat-client.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics } from './requests.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'compaction.py');
const ROUNDS = 6;
const CODEC_IDS = { snappy: 2, lz4: 3, zstd: 4 } as const;

const directories = new TemporaryDirectories();
const scratch = directories.make('samsa-compaction-files-');
let samsa: SamsaProcess;

beforeAll(async () => {
  samsa = await startSamsa({ dataDirectory: directories.make('samsa-compaction-'), brokerCount: 1, args: ['--override', 'log.cleaner.backoff.ms=200'] });
});

afterAll(async () => {
  await samsa?.stop('SIGTERM');
  directories.removeAll();
});

type Entry = [key: string, value: string];

/** Round r: the shared keys, then two of its own; values say which round wrote them. */
function round(r: number, client: string): Entry[] {
  const value = (key: string) => `${client} round ${r} ${key} `.padEnd(90, String.fromCharCode(97 + r));
  return [...['s0', 's1', 's2', 's3'].map((key): Entry => [key, value(key)]), ...[`own${r}a`, `own${r}b`].map((key): Entry => [key, value(key)])];
}

/** What compaction leaves, with offsets: six records a round, in order. */
function expected(client: string): [number, string, string][] {
  const kept: [number, string, string][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    round(r, client).forEach(([key, value], i) => {
      if (r >= ROUNDS - 2 || key.startsWith('own')) kept.push([r * 6 + i, key, value]);
    });
  }
  return kept;
}

async function createCompactedTopic(topic: string): Promise<void> {
  const client = await RawKafkaClient.connect(samsa.port);
  try {
    const created = await createTopics(client, [{ name: topic, numPartitions: 1, configs: { 'cleanup.policy': 'compact', 'segment.ms': '1', 'min.cleanable.dirty.ratio': '0.01' } }]);
    expect(created.topics[0]!.errorCode, `create ${topic}`).toBe(0);
  } finally {
    client.close();
  }
}

function kcatProduceRounds(topic: string, codec: string): void {
  for (let r = 0; r < ROUNDS; r++) {
    const input = Buffer.from(round(r, 'kcat').map(([key, value]) => `${key}|${value}\n`).join(''));
    kcat(samsa.port, ['-P', '-t', topic, '-p', '0', '-K', '|', '-z', codec, '-X', 'linger.ms=200'], input);
    // The next round must find this one's segment at least 1 ms old (segment.ms=1).
    spawnSync('sleep', ['0.01']);
  }
}

function pythonProduceRounds(topic: string, codec: string): void {
  const file = path.join(scratch, `${topic}-rounds.json`);
  writeFileSync(file, JSON.stringify(Array.from({ length: ROUNDS }, (_, r) => round(r, 'kafka-python'))));
  const result = spawnSync(PYTHON, [SCRIPT, 'produce', String(samsa.port), topic, codec, file], { encoding: 'utf8', timeout: 60_000 });
  expect(result.status, `compaction.py produce: ${result.stderr}`).toBe(0);
}

function kcatRead(topic: string): [number, string, string][] {
  const output = kcat(samsa.port, ['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-X', 'check.crcs=true', '-f', '%o|%k|%s\n']).stdout.toString();
  return output.split('\n').filter((line) => line !== '').map((line) => {
    const [offset, key, value] = line.split('|') as [string, string, string];
    return [Number(offset), key, value];
  });
}

function pythonRead(topic: string): [number, string, string][] {
  const file = path.join(scratch, `${topic}-consumed.json`);
  const result = spawnSync(PYTHON, [SCRIPT, 'consume', String(samsa.port), topic, file], { encoding: 'utf8', timeout: 60_000 });
  expect(result.status, `compaction.py consume: ${result.stderr}`).toBe(0);
  return JSON.parse(readFileSync(file, 'utf8')) as [number, string, string][];
}

describe.each([
  ['kcat', 'snappy'], ['kcat', 'lz4'], ['kcat', 'zstd'], ['kafka-python', 'snappy'], ['kafka-python', 'lz4'], ['kafka-python', 'zstd'],
] as const)('%s, %s', (client, codec) => {
  it('compacts into batches of the same codec that kcat and kafka-python read, each record at its offset', async () => {
    const topic = `compacted-${client}-${codec}`;
    await createCompactedTopic(topic);
    if (client === 'kcat') kcatProduceRounds(topic, codec);
    else pythonProduceRounds(topic, codec);
    const before = await readStored(samsa.port, topic);
    expect(before[0]!.highWatermark).toBe(ROUNDS * 6);
    expect(before[0]!.batches.map((batch) => batch.codec)).toEqual(Array(ROUNDS).fill(CODEC_IDS[codec]));

    const want = expected(client);
    await expect.poll(() => kcatRead(topic).length, { timeout: 20_000, interval: 300 }).toBe(want.length);
    expect(kcatRead(topic)).toEqual(want);
    expect(pythonRead(topic)).toEqual(want);
    const after = (await readStored(samsa.port, topic))[0]!;
    expect(after.highWatermark).toBe(ROUNDS * 6);
    expect(after.batches.map((batch) => [batch.baseOffset, batch.recordCount, batch.codec, batch.crcValid])).toEqual([
      ...[0, 1, 2, 3].map((r) => [r * 6, 2, CODEC_IDS[codec], true]),
      [24, 6, CODEC_IDS[codec], true],
      [30, 6, CODEC_IDS[codec], true],
    ]);
    // Round 4's batch had nothing to remove: kept byte for byte.
    const at = (stored: typeof after, baseOffset: number) => {
      let position = 0;
      for (const batch of stored.batches) {
        if (batch.baseOffset === baseOffset) return stored.bytes.subarray(position, position + batch.sizeBytes);
        position += batch.sizeBytes;
      }
      throw new Error(`no batch at ${baseOffset}`);
    };
    expect(at(after, 24).equals(at(before[0]!, 24))).toBe(true);
  });
});
