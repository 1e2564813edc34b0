/**
 * kcat (librdkafka) against `samsa start` with two brokers: metadata, produce with keys,
 * headers and gzip (topic auto-created), consume from the beginning and from a timestamp.
 * Needs kcat on PATH (.ci/run installs it); a missing kcat is a failure, not a skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { startSamsa, type SamsaProcess } from './samsa-process.js';


const directories = new TemporaryDirectories();
let samsa: SamsaProcess;

function kcat(args: string[], input?: string): string {
  return execFileSync('kcat', ['-b', `127.0.0.1:${samsa.port}`, ...args], { input, encoding: 'utf8', timeout: 30_000, stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('kcat', () => {
  it('is installed (apt-get install -y kcat; .ci/run does it)', () => {
    expect(spawnSync('kcat', ['-V']).status, 'kcat must be on PATH').toBe(0);
  });

  beforeAll(async () => {
    samsa = await startSamsa({ dataDirectory: directories.make('samsa-kcat-'), brokerCount: 2, args: ['--override', 'num.partitions=3'] });
  });

  afterAll(async () => {
    await samsa?.stop('SIGTERM');
    directories.removeAll();
  });

  it('lists both brokers', () => {
    const listing = JSON.parse(kcat(['-L', '-J'])) as { brokers: { id: number; name: string }[] };
    expect(listing.brokers.map((broker) => broker.name).sort()).toEqual([`127.0.0.1:${samsa.port}`, `127.0.0.1:${samsa.port + 1}`]);
  });

  it('produces keyed records with headers, gzip, and consumes them back from the beginning', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `key-${i}:value ${i}`);
    kcat(['-P', '-t', 'from-kcat', '-K:', '-z', 'gzip', '-H', 'origin=kcat'], lines.join('\n') + '\n');
    const consumed = kcat(['-C', '-t', 'from-kcat', '-o', 'beginning', '-e', '-f', '%p|%o|%k|%s|%h\n'])
      .trim().split('\n').map((line) => line.split('|'));
    expect(consumed.map(([, , key, value]) => `${key}:${value}`).sort()).toEqual([...lines].sort());
    expect(new Set(consumed.map(([, , , , headers]) => headers))).toEqual(new Set(['origin=kcat']));
    const byPartition = new Map<string, number[]>();
    for (const [partition, offset] of consumed) byPartition.set(partition!, [...(byPartition.get(partition!) ?? []), Number(offset)]);
    expect(byPartition.size).toBeGreaterThan(1);
    for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
  });

  it('consumes from a timestamp (ListOffsets)', () => {
    const all = kcat(['-C', '-t', 'from-kcat', '-o', 's@0', '-e', '-f', '%k\n']).trim().split('\n');
    expect(all.length).toBe(20);
    const none = kcat(['-C', '-t', 'from-kcat', '-o', `s@${Date.now() + 3_600_000}`, '-e', '-f', '%k\n']).trim();
    expect(none).toBe('');
  });
});
