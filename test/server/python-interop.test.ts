/**
 * kafka-python and confluent-kafka-python (librdkafka) against `samsa start` with two brokers:
 * each produces keyed records, some with null values, with headers and gzip, acks=all, then
 * consumes them back from the beginning (assign(), no group). Debian's packages install these
 * clients for /usr/bin/python3 (.ci/run installs them); a missing client is a failure, not a skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'interop.py');
const hasModule = (module: string) => spawnSync(PYTHON, ['-c', `import ${module}`]).status === 0;
const clients = [['kafka-python', 'kafka'], ['confluent', 'confluent_kafka']] as const;

const directories = new TemporaryDirectories();
let samsa: SamsaProcess;

interface Outcome {
  produced: [string, string | null][];
  consumed: [number, number, string, string | null, [string, string][]][];
}

describe('python clients', () => {
  beforeAll(async () => {
    samsa = await startSamsa({ dataDirectory: directories.make('samsa-python-'), brokerCount: 2, args: ['--override', 'num.partitions=3'] });
  });

  afterAll(async () => {
    await samsa?.stop('SIGTERM');
    directories.removeAll();
  });

  for (const [client, module] of clients) {
    it(`${client} produces and consumes`, () => {
      expect(hasModule(module), `${module} must be importable by ${PYTHON} (apt-get install -y python3-kafka python3-confluent-kafka)`).toBe(true);
      const output = execFileSync(PYTHON, [SCRIPT, client, String(samsa.port), `from-${client}`], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
      const outcome = JSON.parse(output) as Outcome;
      expect(outcome.consumed.map(([, , key, value]) => [key, value]).sort()).toEqual([...outcome.produced].sort());
      for (const [, , , , headers] of outcome.consumed) expect(headers).toEqual([['client', client]]);
      const partitions = new Map<number, number[]>();
      for (const [partition, offset] of outcome.consumed) partitions.set(partition, [...(partitions.get(partition) ?? []), offset]);
      for (const offsets of partitions.values()) expect(offsets.sort((a, b) => a - b)).toEqual(offsets.map((_, i) => i));
    });
  }
});
