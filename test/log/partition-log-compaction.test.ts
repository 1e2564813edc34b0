import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG } from '../../src/log/log-config.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { decodeBatchRecords, encodePlainBatch } from '../../src/log/records.js';
import { readBatchHeader } from '../../src/log/record-batch.js';
import { CpuPool } from '../../src/runtime/cpu-pool.js';

const pool = new CpuPool();
afterAll(() => pool.close());
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function keyedBatch(key: string, value: string | null, timestampMs: number): Uint8Array {
  return encodePlainBatch([{ offsetDelta: 0, timestampDelta: 0, key: Buffer.from(key), value: value === null ? null : Buffer.from(value), headers: [] }], timestampMs, 0);
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

  it('truncates into gaps left by compaction: the truncation offset becomes the log end, and stays it', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'samsa-compact-'));
    directories.push(directory);
    const now = 1_000_000;
    const config = { ...DEFAULT_LOG_CONFIG, cleanupPolicy: 'compact' as const, minCleanableDirtyRatio: 0 };
    const open = () => new PartitionLog({ directory: path.join(directory, 'g-0'), config, now: () => now });
    let log = open();
    // Closed segment 0..5: x0 a1 y2 b3 a4 b5; closed segment 6..7: a6 b7; active from 8.
    for (const key of ['x', 'a', 'y', 'b', 'a', 'b']) await log.append(keyedBatch(key, `${key}-old`, now));
    log.roll();
    for (const key of ['a', 'b']) await log.append(keyedBatch(key, `${key}-new`, now));
    log.roll();
    expect((await log.compact(pool)).segmentsCleaned).toBe(1);
    // Segment 0 now holds x0 and y2 only: a gap at 1 and one from 3 to 5.
    expect(contents(log).map(([offset]) => offset)).toEqual([0, 2, 6, 7]);

    // Into the gap at the segment's tail: its last batch ends at 3, yet the log end must be 4.
    log.setHighWatermark(8);
    log.truncateTo(4);
    expect(log.logEndOffset).toBe(4);
    expect(log.highWatermark).toBe(4);
    expect(log.read(3, 1000, 4).bytes.byteLength).toBe(0);
    expect(contents(log)).toEqual([[0, 'x', 'x-old'], [2, 'y', 'y-old']]);
    // Removed offsets are never assigned again.
    expect((await log.append(keyedBatch('c', 'c-1', now))).baseOffset).toBe(4);
    log.truncateTo(4);
    log.close();
    log = open(); // the log end survives a restart: an empty segment file starts at 4
    expect(log.logEndOffset).toBe(4);
    expect((await log.append(keyedBatch('c', 'c-2', now))).baseOffset).toBe(4);

    // Into the gap inside the segment, at 1: y2 goes, x0 stays. This was refused before.
    log.truncateTo(1);
    expect(log.logEndOffset).toBe(1);
    expect(contents(log)).toEqual([[0, 'x', 'x-old']]);
    expect((await log.append(keyedBatch('d', 'd-1', now))).baseOffset).toBe(1);
    // A cut inside a batch of several offsets is still refused.
    await log.append(encodePlainBatch([0, 1].map((offsetDelta) => ({ offsetDelta, timestampDelta: 0, key: Buffer.from(`e${offsetDelta}`), value: Buffer.from('e'), headers: [] })), now, 0)); // offsets 2..3
    expect(() => log.truncateTo(3)).toThrow(/inside the batch 2\.\.3/);
    log.close();
  });

  it('counts records appended after a truncation below the last pass as dirty', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'samsa-compact-'));
    directories.push(directory);
    const now = 1_000_000;
    const log = new PartitionLog({
      directory: path.join(directory, 'd-0'),
      config: { ...DEFAULT_LOG_CONFIG, cleanupPolicy: 'compact', minCleanableDirtyRatio: 0.5 },
      now: () => now,
    });
    for (let i = 0; i < 10; i++) await log.append(keyedBatch(`k${i % 5}`, `v${i}`, now)); // 0..9
    log.roll();
    for (let i = 0; i < 10; i++) await log.append(keyedBatch(`j${i % 5}`, `v${i}`, now)); // 10..19
    log.roll();
    expect((await log.compact(pool)).segmentsCleaned).toBe(2); // covers everything below 20
    log.truncateTo(10); // a follower cut: offsets 10.. are gone, and will be written anew
    for (let i = 0; i < 8; i++) await log.append(keyedBatch(`j${i % 2}`, `w${i}`, now)); // 10..17
    log.roll();
    // The new segment (10..17) ends below 20, where the last pass stopped, but it was never
    // cleaned: it is most of the closed bytes, so the pass runs.
    const result = await log.compact(pool);
    expect(result.skipped).toBeUndefined();
    expect(result.segmentsCleaned).toBe(1);
    expect(contents(log).filter(([offset]) => offset >= 10)).toEqual([[16, 'j0', 'w6'], [17, 'j1', 'w7']]);
    log.close();
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
