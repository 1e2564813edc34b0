import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/log/log-config.js';
import { LogDirectory } from '../../src/log/log-directory.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { kafkajsBatch, kafkajsDecode } from './kafkajs-batches.js';

const directories: string[] = [];
function temporaryDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'samsa-log-'));
  directories.push(directory);
  return directory;
}
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

const config = (overrides: Partial<LogConfig> = {}): LogConfig => ({ ...DEFAULT_LOG_CONFIG, ...overrides });

describe('PartitionLog', () => {
  it('assigns offsets, reads whole batches back byte for byte, and decodes with kafkajs', async () => {
    const directory = temporaryDirectory();
    const log = new PartitionLog({ directory: path.join(directory, 't-0'), config: config({ segmentBytes: 4096, indexIntervalBytes: 256 }) });
    const written: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      const batch = await kafkajsBatch([
        { key: Buffer.from(`k${i}`), value: Buffer.alloc(i * 7, i), headers: { h: Buffer.from(String(i)) } },
        { key: null, value: null },
      ]);
      const result = await log.append(batch);
      expect(result.baseOffset).toBe(i * 2);
      expect(result.lastOffset).toBe(i * 2 + 1);
      written.push(batch);
    }
    expect(log.logEndOffset).toBe(100);
    expect(log.segmentCount).toBeGreaterThan(1);
    let offset = 0;
    const all: Uint8Array[] = [];
    while (offset < log.logEndOffset) {
      const read = log.read(offset, 1000, log.logEndOffset);
      expect(read.bytes.byteLength).toBeGreaterThan(0);
      all.push(read.bytes);
      offset = read.nextOffset;
    }
    expect(Buffer.compare(Buffer.concat(all), Buffer.concat(written))).toBe(0);
    const records = await kafkajsDecode(Buffer.concat(all));
    expect(records).toHaveLength(100);
    expect(records[7]!.offset).toBe('7');
    expect(records[6]!.key!.toString()).toBe('k3');
    expect(records[6]!.value!.byteLength).toBe(21);
    expect(records[7]!.key).toBeNull();
    expect(records[7]!.value).toBeNull();
    // A read from the middle of a batch returns the whole batch holding it.
    expect(log.read(51, 1, log.logEndOffset).firstOffset).toBe(50);
    // Reads are capped at the high watermark, which replication moves.
    expect(log.read(0, 1000).bytes.byteLength).toBe(0);
    log.setHighWatermark(10);
    expect(log.read(0, 100_000).nextOffset).toBe(10);
    log.close();
  });

  it('recovers after an unclean stop and keeps everything after a clean one', async () => {
    const root = temporaryDirectory();
    const first = new LogDirectory({ root });
    const log = first.getOrCreate('t', 0, config({ segmentBytes: 2048 }));
    for (let i = 0; i < 30; i++) await log.append(await kafkajsBatch([{ key: null, value: Buffer.alloc(100, i) }]));
    await first.close();
    const second = new LogDirectory({ root });
    expect(second.recoveredFromUncleanStop).toBe(false);
    expect(second.get('t', 0)!.logEndOffset).toBe(30);
    // No close: unclean.
    await second.get('t', 0)!.append(await kafkajsBatch([{ key: null, value: Buffer.from('x') }]));
    const third = new LogDirectory({ root });
    expect(third.recoveredFromUncleanStop).toBe(true);
    expect(third.get('t', 0)!.logEndOffset).toBe(31);
  });
});
