/**
 * The partition leader actor under the deterministic runtime over a real log on disk: appends
 * keep their order, bad batches are refused with nothing written, and its own
 * timers run retention and compaction (on a real CPU pool) without anyone asking.
 */
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, withTopicConfigs } from '../../src/log/log-config.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { decodeBatchRecords, encodePlainBatch } from '../../src/log/records.js';
import { parseBatches } from '../../src/log/record-batch.js';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { KafkaError } from '../../src/protocol/kafka-error.js';
import type { ActorFactory, Address } from '../../src/runtime/actor.js';
import { CpuPool } from '../../src/runtime/cpu-pool.js';
import { DeterministicRuntime } from '../../src/runtime/deterministic-runtime.js';
import { CLEANER_BACKOFF_MS, partitionLeaderActor, type LeaderOutcome, type LeaderReply, type PartitionLeaderArgs, type ToLeader } from '../../src/server/partition-leader.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';

const silent = pino({ level: 'silent' });
const directories = new TemporaryDirectories();
const pool = new CpuPool({ threadsMax: 1 });
afterAll(async () => {
  await pool.close();
  directories.removeAll();
});

function batch(key: string, value: string | null, timestampMs = 0): Uint8Array {
  return encodePlainBatch([{ offsetDelta: 0, timestampDelta: 0, key: Buffer.from(key), value: value === null ? null : Buffer.from(value), headers: [] }], timestampMs, 0);
}

function keys(log: PartitionLog): string[] {
  const out: string[] = [];
  for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
    const read = log.read(offset, 1 << 24, log.logEndOffset);
    if (read.bytes.byteLength === 0) break;
    for (const header of parseBatches(read.bytes)) {
      for (const record of decodeBatchRecords(read.bytes.subarray(header.position, header.position + header.sizeBytes)).records) {
        out.push(`${Buffer.from(record.key!).toString()}=${record.value ? Buffer.from(record.value).toString() : 'null'}`);
      }
    }
    offset = read.nextOffset;
  }
  return out;
}

/** Stands in for the broker actor: sends what it is told to, keeps the replies. */
const sender: ActorFactory = (context, init) => {
  const { leader, replies } = init.args as { leader: () => Address; replies: Map<number, LeaderOutcome> };
  return {
    async receive(message) {
      const body = message.body as { type: 'forward'; message: ToLeader } | LeaderReply;
      if (body.type === 'forward') await context.send(leader(), body.message);
      else replies.set(body.requestId, body.outcome);
    },
  };
};

function start(configs: Record<string, string>) {
  const runtime = new DeterministicRuntime({ seed: 3, log: silent });
  const log = new PartitionLog({ directory: path.join(directories.make('samsa-leader-'), 't-0'), config: withTopicConfigs(DEFAULT_LOG_CONFIG, configs), now: () => runtime.nowMs });
  const replies = new Map<number, LeaderOutcome>();
  let notified = 0;
  const args: PartitionLeaderArgs = { topic: 't', partition: 0, log, retentionCheckIntervalMs: 5_000, appended: () => notified++, cpuPool: () => pool };
  const broker: Address = runtime.spawn(sender, { leader: () => leader, replies });
  const leader: Address = runtime.spawn(partitionLeaderActor, args);
  const forward = (message: ToLeader) => runtime.send(broker, { type: 'forward', message });
  return { runtime, log, replies, forward, notified: () => notified };
}

describe('partition leader actor', () => {
  it('appends in order (flush.messages=1), refuses a corrupt batch without writing, and moves the high watermark', async () => {
    const { runtime, log, replies, forward, notified } = start({ 'flush.messages': '1' });
    const corrupt = batch('bad', 'x');
    corrupt[corrupt.length - 1] ^= 0xff;
    await forward({ type: 'append', requestId: 1, records: batch('a', '1') });
    await forward({ type: 'append', requestId: 2, records: corrupt });
    await forward({ type: 'append', requestId: 3, records: batch('b', '2') });
    await runtime.run({ untilMs: 0 });
    for (let wait = 0; wait < 100 && replies.size < 3; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await runtime.run({ untilMs: 0 });
    }
    expect((replies.get(1) as { result: { baseOffset: number } }).result.baseOffset).toBe(0);
    const refused = replies.get(2)!;
    expect(refused.ok).toBe(false);
    expect(((refused as { error: unknown }).error as KafkaError).code).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect((replies.get(3) as { result: { baseOffset: number } }).result.baseOffset).toBe(1);
    expect(keys(log)).toEqual(['a=1', 'b=2']);
    expect(log.highWatermark).toBe(2);
    expect(notified()).toBe(2);
    await forward({ type: 'delete-records', requestId: 4, offset: 1 });
    await runtime.run({ untilMs: 0 });
    expect(replies.get(4)).toEqual({ ok: true, lowWatermark: 1 });
    log.close();
  });

  it('applies retention and compaction from its own timers', async () => {
    const retained = start({ 'retention.ms': '1000', 'segment.bytes': '200' });
    for (let index = 0; index < 6; index++) await retained.forward({ type: 'append', requestId: index, records: batch(`k${index}`, 'v'.repeat(60), 0) });
    await retained.runtime.run({ untilMs: 0 });
    const segmentsBefore = retained.log.segmentCount;
    expect(segmentsBefore).toBeGreaterThan(2);
    await retained.runtime.run({ untilMs: 5_000 }); // the retention check: every closed segment is old
    expect(retained.log.segmentCount).toBe(1);
    expect(retained.log.logStartOffset).toBeGreaterThan(0);
    retained.log.close();

    const compacted = start({ 'cleanup.policy': 'compact', 'segment.bytes': '200', 'min.cleanable.dirty.ratio': '0.01' });
    for (let index = 0; index < 8; index++) await compacted.forward({ type: 'append', requestId: index, records: batch(`k${index % 2}`, `v${index}`) });
    await compacted.runtime.run({ untilMs: 0 });
    expect(keys(compacted.log)).toHaveLength(8);
    await compacted.runtime.run({ untilMs: CLEANER_BACKOFF_MS });
    for (let wait = 0; wait < 200 && keys(compacted.log).length === 8; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
    const left = keys(compacted.log);
    expect(left.length).toBeLessThan(8);
    expect(left.slice(-2)).toEqual(['k0=v6', 'k1=v7']);
    compacted.log.close();
  });
});
