import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG } from '../../src/log/log-config.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { COMPRESSION_NONE, decodeBatchRecords, encodeBatch } from '../../src/log/records.js';
import { readBatchHeader } from '../../src/log/record-batch.js';
import { CpuPool } from '../../src/runtime/cpu-pool.js';

const pool = new CpuPool();
afterAll(() => pool.close());
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function keyedBatch(key: string, value: string | null, timestampMs: number): Uint8Array {
  return encodeBatch({
    baseOffset: 0, partitionLeaderEpoch: 0, attributes: COMPRESSION_NONE, lastOffsetDelta: 0,
    baseTimestamp: timestampMs, maxTimestamp: timestampMs, producerId: -1, producerEpoch: -1, baseSequence: -1,
    records: [{ offsetDelta: 0, timestampDelta: 0, key: Buffer.from(key), value: value === null ? null : Buffer.from(value), headers: [] }],
  });
}

/** Every record in the log as [offset, key, value]. */
function contents(log: PartitionLog): [number, string, string | null][] {
  const out: [number, string, string | null][] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = log.read(offset, 1 << 20, log.logEndOffset);
    if (read.bytes.byteLength === 0) break;
    let position = 0;
    while (position < read.bytes.byteLength) {
      const header = readBatchHeader(read.bytes, position)!;
      const batch = decodeBatchRecords(read.bytes.subarray(position, position + header.sizeBytes));
      for (const record of batch.records) {
        out.push([batch.baseOffset + record.offsetDelta, Buffer.from(record.key!).toString(), record.value ? Buffer.from(record.value).toString() : null]);
      }
      position += header.sizeBytes;
    }
    offset = read.nextOffset;
  }
  return out;
}

describe('PartitionLog compaction', () => {
  it('keeps the latest record per key in closed segments, keeps offsets, drops old tombstones, leaves the active segment', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'samsa-compact-'));
    directories.push(directory);
    let now = 1_000_000;
    const log = new PartitionLog({
      directory: path.join(directory, 'c-0'),
      config: { ...DEFAULT_LOG_CONFIG, cleanupPolicy: 'compact', segmentBytes: 600, deleteRetentionMs: 1000, minCleanableDirtyRatio: 0.5 },
      now: () => now,
    });
    // offsets 0..29: keys k0..k4 written six times each, then a tombstone for k1.
    for (let round = 0; round < 6; round++) {
      for (let key = 0; key < 5; key++) await log.append(keyedBatch(`k${key}`, `v${round}`, now));
    }
    await log.append(keyedBatch('k1', null, now)); // offset 30
    for (let i = 0; i < 3; i++) await log.append(keyedBatch('tail', `t${i}`, now)); // 31..33, rolls k1's tombstone into a closed segment
    log.roll();
    await log.append(keyedBatch('k0', 'active', now)); // 34, in the active segment
    const before = contents(log);
    expect(before).toHaveLength(35);

    const first = await log.compact(pool);
    expect(first.segmentsCleaned).toBeGreaterThan(0);
    expect(first.bytesAfter).toBeLessThan(first.bytesBefore);
    const after = contents(log);
    // Latest of each key survives at its original offset; the tombstone is too young to go.
    expect(after).toEqual([
      [25, 'k0', 'v5'], [27, 'k2', 'v5'], [28, 'k3', 'v5'], [29, 'k4', 'v5'],
      [30, 'k1', null], [33, 'tail', 't2'], [34, 'k0', 'active'],
    ]);
    expect(log.logEndOffset).toBe(35);
    expect(readdirSync(path.join(directory, 'c-0')).filter((name) => name.includes('.swap') || name.includes('.cleaned'))).toEqual([]);

    // Nothing new is dirty: the next pass is skipped by min.cleanable.dirty.ratio.
    expect((await log.compact(pool)).skipped).toBe('below-dirty-ratio');

    // Later, past delete.retention.ms, with new dirty data, the tombstone goes too.
    now += 5000;
    for (let i = 0; i < 20; i++) await log.append(keyedBatch('k9', `n${i}`, now));
    log.roll();
    await log.compact(pool);
    const finalContents = contents(log);
    expect(finalContents.find(([, key]) => key === 'k1')).toBeUndefined();
    expect(finalContents.filter(([, key]) => key === 'k9')).toEqual([[54, 'k9', 'n19']]);
    expect(finalContents.map(([offset]) => offset)).toEqual([...finalContents.map(([offset]) => offset)].sort((a, b) => a - b));

    // A reopened log (indexes rebuilt from the swapped files) reads the same.
    log.close();
    const reopened = new PartitionLog({ directory: path.join(directory, 'c-0'), config: log.config, now: () => now });
    expect(contents(reopened)).toEqual(finalContents);
    reopened.close();
  });

  it('does nothing for cleanup.policy=delete', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'samsa-compact-'));
    directories.push(directory);
    const log = new PartitionLog({ directory: path.join(directory, 'd-0'), config: DEFAULT_LOG_CONFIG });
    await log.append(keyedBatch('a', '1', Date.now()));
    expect((await log.compact(pool)).skipped).toBe('not-compacted');
    log.close();
  });
});
