/**
 * Op-fuzzer for the partition log: random sequences of append, read, high-watermark moves,
 * roll, truncate, DeleteRecords, retention, flush, offset-by-timestamp, compaction and clean and
 * unclean restarts, each checked against LogModel (test/log/log-model.ts). Segments are tiny
 * (1-4 KiB) and index intervals short (64-512 bytes), so rolls, index entries and index scans
 * happen all the time.
 *
 * A third of the runs use cleanup.policy=compact or compact,delete: their records have keys from
 * a small key space (so keys repeat), some null keys and some null values (tombstones), and the
 * injected clock moves past delete.retention.ms. Their compact op runs PartitionLog.compact on a
 * CpuPool shared by the file (inline for small inputs, on piscina above 16 KiB), and the model
 * predicts the result and every byte of the cleaned segments. Compactions are often followed at
 * once by a clean or unclean restart. The other runs' compact op must be a no-op.
 *
 * Every run is driven by one seed. A failure names it; replay it alone with
 *   SAMSA_FUZZ_SEED=<seed> npx vitest run test/log/log-fuzzer.test.ts
 * and explore beyond the fixed seeds with SAMSA_FUZZ_FIRST_SEED, SAMSA_FUZZ_SEEDS, SAMSA_FUZZ_OPS.
 *
 * An unclean restart drops the old LogDirectory without close() (its descriptors are closed
 * behind its back by FaultyFileSystem.crash). Data written without fsync survives a process
 * crash, the page cache remains, so the model expects every appended batch back.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/log/log-config.js';
import { LogDirectory } from '../../src/log/log-directory.js';
import type { PartitionLog } from '../../src/log/partition-log.js';
import { parseBatches } from '../../src/log/record-batch.js';
import { decodeBatchRecords } from '../../src/log/records.js';
import { KafkaError } from '../../src/protocol/kafka-error.js';
import { CpuPool } from '../../src/runtime/cpu-pool.js';
import { SeededRandom } from '../../src/runtime/prng.js';
import { atOffset, buildBatch, concatBytes, fillerBytes, lastOffsetDeltaOf, maxTimestampOf, stampedWithLogAppendTime, type PlacedRecord } from './batch-builder.js';
import { FaultyFileSystem } from './faulty-file-system.js';
import { LogModel, segmentMaxTimestamp, type ModelBatch } from './log-model.js';
import { TemporaryDirectories } from './temporary-directory.js';

const FIRST_SEED = Number(process.env.SAMSA_FUZZ_FIRST_SEED ?? 1);
const SEED_COUNT = Number(process.env.SAMSA_FUZZ_SEEDS ?? 200);
const OPS_PER_SEED = Number(process.env.SAMSA_FUZZ_OPS ?? 150);
const REPLAY_SEED = process.env.SAMSA_FUZZ_SEED === undefined ? undefined : Number(process.env.SAMSA_FUZZ_SEED);

const TOPIC = 'fuzz';
const START_MS = 1_700_000_000_000;

const directories = new TemporaryDirectories();
afterEach(() => directories.removeAll());
/**
 * One pool for the whole file, as a broker shares one: compactions of every run go through it.
 * Its inline threshold is lowered from 16 KiB to 4 KiB so that, with these tiny segments, passes
 * run both inline and on the piscina thread (which runs the compiled dist/: build first).
 */
const pool = new CpuPool({ threadsMax: 1, inlineInputBytesMax: 4 * 1024 });
afterAll(() => pool.close());

class FuzzFailure extends Error {}

/** What the runs exercised, summed over seeds: the test asserts each path was taken. */
const coverage = {
  appended: 0,
  refusedAppends: 0,
  rolls: 0,
  nonEmptyReads: 0,
  readsCappedByHighWatermark: 0,
  truncations: 0,
  refusedTruncations: 0,
  segmentsDeletedByRetention: 0,
  segmentsDeletedByDeleteRecords: 0,
  timestampLookupsFound: 0,
  cleanRestarts: 0,
  uncleanRestarts: 0,
  compactions: 0,
  compactionsOnPoolThread: 0,
  compactionsSkippedBelowDirtyRatio: 0,
  compactionsWithNothingCleanable: 0,
  segmentsCleaned: 0,
  recordsRemovedByCompaction: 0,
  tombstonesRemoved: 0,
  batchesRemovedByCompaction: 0,
  cleanRestartsAfterCompaction: 0,
  uncleanRestartsAfterCompaction: 0,
  truncationsIntoCompactionGaps: 0,
  readsPastCompactionGaps: 0,
  timestampLookupsInCompactedLogs: 0,
};

/** One seeded run: the log under test, the model, and the op history for the failure report. */
class FuzzRun {
  readonly rng: SeededRandom;
  readonly config: LogConfig;
  readonly model = new LogModel();
  readonly history: string[] = [];
  nowMs = START_MS;
  private fs = new FaultyFileSystem();
  private directory: LogDirectory;
  log: PartitionLog;
  private batchCounter = 0;
  /** Compacted runs: keys k0..k<keySpace-1>, so that they repeat. */
  readonly compacted: boolean;
  private readonly keySpace: number;
  /** Set by a compaction that rewrote segments, until the next restart. */
  private compactedSinceRestart = false;

  constructor(readonly seed: number, private readonly root: string) {
    this.rng = new SeededRandom(seed);
    const rng = this.rng;
    this.config = {
      ...DEFAULT_LOG_CONFIG,
      segmentBytes: 1024 + rng.below(3 * 1024 + 1),
      indexIntervalBytes: 64 + rng.below(512 - 64 + 1),
      messageTimestampType: rng.below(4) === 0 ? 'LogAppendTime' : 'CreateTime',
      flushMessages: rng.below(5) === 0 ? 1 + rng.below(8) : Number.MAX_SAFE_INTEGER,
      segmentMs: rng.below(4) === 0 ? 2_000 + rng.below(30_000) : DEFAULT_LOG_CONFIG.segmentMs,
      maxMessageBytes: rng.below(6) === 0 ? 300 + rng.below(700) : DEFAULT_LOG_CONFIG.maxMessageBytes,
      retentionMs: -1,
      retentionBytes: -1,
    };
    this.compacted = rng.below(3) === 0;
    this.keySpace = 2 + rng.below(10);
    if (this.compacted) {
      this.config = {
        ...this.config,
        cleanupPolicy: rng.below(2) === 0 ? 'compact' : 'compact,delete',
        deleteRetentionMs: rng.below(5) === 0 ? 0 : 1_000 + rng.below(30_000),
        // Half the runs clean whenever asked; the rest exercise the dirty-ratio bookkeeping.
        minCleanableDirtyRatio: rng.below(2) === 0 ? 0 : [0.1, 0.3, 0.5, 0.8][rng.below(4)]!,
      };
    }
    this.directory = this.openDirectory();
    this.log = this.directory.getOrCreate(TOPIC, 0, this.config);
  }

  // ---- checks -------------------------------------------------------------------------------

  fail(message: string): never {
    throw new FuzzFailure(message);
  }

  equal<T>(actual: T, expected: T, what: string): void {
    if (!Object.is(actual, expected)) this.fail(`${what}: got ${String(actual)}, expected ${String(expected)}`);
  }

  sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
    const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
    const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
    if (a.byteLength !== b.byteLength) this.fail(`${what}: ${a.byteLength} bytes, expected ${b.byteLength}`);
    const differ = a.findIndex((byte, i) => byte !== b[i]);
    if (differ >= 0) this.fail(`${what}: bytes differ at ${differ} of ${a.byteLength}`);
  }

  expectKafkaError(action: () => unknown, errorName: string, what: string): void {
    try {
      action();
    } catch (error) {
      if (error instanceof KafkaError && error.errorName === errorName) return;
      this.fail(`${what}: threw ${String(error)}, expected ${errorName}`);
    }
    this.fail(`${what}: did not throw, expected ${errorName}`);
  }

  /** Cheap invariants, after every op: offsets and the segment layout. */
  checkShape(): void {
    const { log, model } = this;
    this.equal(log.logEndOffset, model.logEndOffset, 'logEndOffset');
    this.equal(log.logStartOffset, model.logStartOffset, 'logStartOffset');
    this.equal(log.highWatermark, model.highWatermark, 'highWatermark');
    this.equal(log.segmentCount, model.segments.length, 'segment count');
    this.equal(log.sizeBytes, model.sizeBytes, 'size in bytes');
    if (log.recoveryPoint > log.logEndOffset) this.fail(`recoveryPoint ${log.recoveryPoint} past the log end ${log.logEndOffset}`);
    const closed = log.cleanableSegments();
    closed.forEach((segment, i) => {
      const expected = model.segments[i]!;
      const what = `segment #${i}`;
      this.equal(segment.baseOffset, expected.base, `${what} base offset`);
      this.equal(segment.sizeBytes, expected.sizeBytes, `${what} size`);
      this.equal(segment.nextOffset, expected.batches.at(-1) ? expected.batches.at(-1)!.last + 1 : expected.base, `${what} next offset`);
      this.equal(segment.maxTimestamp, segmentMaxTimestamp(expected), `${what} max timestamp`);
      if (segment.sizeBytes > this.config.segmentBytes) this.fail(`${what} holds ${segment.sizeBytes} bytes > segment.bytes ${this.config.segmentBytes}`);
    });
  }

  /** One read, compared with the model's exact answer. */
  checkRead(offset: number, maxBytes: number, maxOffset: number | undefined): number {
    const { log, model } = this;
    const what = `read(${offset}, ${maxBytes}, ${maxOffset ?? 'hw'})`;
    if (offset < model.logStartOffset || offset > model.logEndOffset) {
      this.expectKafkaError(() => (maxOffset === undefined ? log.read(offset, maxBytes) : log.read(offset, maxBytes, maxOffset)), 'OFFSET_OUT_OF_RANGE', what);
      return offset;
    }
    const result = maxOffset === undefined ? log.read(offset, maxBytes) : log.read(offset, maxBytes, maxOffset);
    const expected = model.expectedRead(offset, maxBytes, maxOffset ?? model.highWatermark);
    this.sameBytes(result.bytes, expected.bytes, what);
    if (expected.bytes.byteLength > 0) coverage.nonEmptyReads++;
    if (expected.bytes.byteLength > 0 && expected.firstOffset > offset) coverage.readsPastCompactionGaps++;
    if (maxOffset === undefined && model.highWatermark < model.logEndOffset && expected.nextOffset === model.highWatermark) coverage.readsCappedByHighWatermark++;
    if (expected.bytes.byteLength > 0) {
      this.equal(result.firstOffset, expected.firstOffset, `${what} firstOffset`);
      this.equal(result.nextOffset, expected.nextOffset, `${what} nextOffset`);
      // Stored bytes must pass the same checks an append does (framing, magic, CRC).
      parseBatches(result.bytes);
    }
    this.equal(result.highWatermark, model.highWatermark, `${what} highWatermark`);
    this.equal(result.logStartOffset, model.logStartOffset, `${what} logStartOffset`);
    this.equal(result.logEndOffset, model.logEndOffset, `${what} logEndOffset`);
    return expected.bytes.byteLength > 0 ? expected.nextOffset : offset;
  }

  /** Reads the whole log, log start to log end, as a follower would (maxOffset = log end). */
  checkEverything(): void {
    this.checkShape();
    let offset = this.model.logStartOffset;
    let reads = 0;
    while (offset < this.model.logEndOffset) {
      const next = this.checkRead(offset, this.rng.below(2 * this.config.segmentBytes), this.model.logEndOffset);
      if (next <= offset) {
        // Only the tail of the log may read empty: compaction removed every record from here to
        // an empty active segment (after a truncation into that gap).
        if (this.model.locate(offset) === undefined) break;
        this.fail(`read at ${offset} made no progress`);
      }
      offset = next;
      if (++reads > 100_000) this.fail('read loop does not end');
    }
    // The very end reads as empty, not as an error.
    this.checkRead(this.model.logEndOffset, 1000, this.model.logEndOffset);
  }

  // ---- operations ---------------------------------------------------------------------------

  randomBatch(): { bytes: Uint8Array; records: PlacedRecord[] } {
    const rng = this.rng;
    const count = 1 + rng.below(rng.below(4) === 0 ? 12 : 4);
    const large = rng.below(4) === 0;
    const records: PlacedRecord[] = [];
    for (let i = 0; i < count; i++) {
      const id = ++this.batchCounter * 31 + i;
      // Compacted runs: few keys, so they repeat; null values (tombstones) more often.
      const key = this.compacted
        ? (rng.below(10) === 0 ? null : Buffer.from(`k${rng.below(this.keySpace)}`))
        : (rng.below(5) === 0 ? null : fillerBytes(1 + rng.below(12), id));
      records.push({
        offsetDelta: i,
        key,
        value: rng.below(this.compacted ? 5 : 12) === 0 ? null : fillerBytes(rng.below(large ? 220 : 40), id + 7),
        timestampDelta: rng.below(40),
      });
    }
    // CreateTime timestamps wander around the clock, not in order: the time index must cope.
    return { bytes: buildBatch(records, { baseTimestamp: this.nowMs - 20_000 + rng.below(25_000), partitionLeaderEpoch: rng.below(3) }), records };
  }

  async append(): Promise<void> {
    const rng = this.rng;
    const built = Array.from({ length: 1 + rng.below(5) }, () => this.randomBatch());
    const batches = built.map((batch) => batch.bytes);
    // Mostly fit the set into a segment; sometimes send it whole to meet the size limits.
    if (rng.below(8) !== 0) {
      while (batches.length > 1 && batches.reduce((sum, batch) => sum + batch.byteLength, 0) > this.config.segmentBytes) batches.pop();
    }
    const corrupt = rng.below(30) === 0;
    const payload = concatBytes(batches);
    if (corrupt) {
      // A bit flip in a CRC-covered byte of one batch: the whole set must be refused.
      let at = 0;
      const victim = rng.below(batches.length);
      for (let i = 0; i < victim; i++) at += batches[i]!.byteLength;
      const byte = at + 21 + rng.below(batches[victim]!.byteLength - 21);
      payload[byte] = payload[byte]! ^ (1 << rng.below(8));
    }
    const what = `append of ${batches.length} batches, ${payload.byteLength} bytes`;
    const total = payload.byteLength;
    const oversizeBatch = batches.some((batch) => batch.byteLength > this.config.maxMessageBytes);
    const expectedError = corrupt ? 'CORRUPT_MESSAGE' : oversizeBatch ? 'MESSAGE_TOO_LARGE' : total > this.config.segmentBytes ? 'RECORD_LIST_TOO_LARGE' : undefined;
    this.history.push(`${what}${expectedError ? ` (expect ${expectedError})` : ''}`);
    if (expectedError) {
      const before = this.log.sizeBytes;
      try {
        await this.log.append(payload);
        this.fail(`${what}: accepted, expected ${expectedError}`);
      } catch (error) {
        if (error instanceof FuzzFailure) throw error;
        if (!(error instanceof KafkaError) || error.errorName !== expectedError) this.fail(`${what}: threw ${String(error)}, expected ${expectedError}`);
      }
      this.equal(this.log.sizeBytes, before, `${what}: bytes written by a refused append`);
      coverage.refusedAppends++;
      return;
    }
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime';
    let next = this.model.logEndOffset;
    const expected: ModelBatch[] = batches.map((batch, i) => {
      const stored = logAppendTime ? stampedWithLogAppendTime(atOffset(batch, next), this.nowMs) : atOffset(batch, next);
      const modelBatch = { base: next, last: next + lastOffsetDeltaOf(batch), bytes: stored, maxTimestamp: maxTimestampOf(stored), records: built[i]!.records };
      next = modelBatch.last + 1;
      return modelBatch;
    });
    const segmentsBefore = this.model.segments.length;
    const result = await this.log.append(payload);
    this.model.append(expected, total, this.nowMs, this.config);
    coverage.appended++;
    if (this.model.segments.length > segmentsBefore) coverage.rolls++;
    this.equal(result.baseOffset, expected[0]!.base, `${what} baseOffset`);
    this.equal(result.lastOffset, expected.at(-1)!.last, `${what} lastOffset`);
    this.equal(result.logAppendTimeMs, logAppendTime ? this.nowMs : -1, `${what} logAppendTimeMs`);
    this.equal(result.logStartOffset, this.model.logStartOffset, `${what} logStartOffset`);
    if (this.model.logEndOffset - this.log.recoveryPoint >= this.config.flushMessages) {
      this.fail(`${what}: resolved with ${this.model.logEndOffset - this.log.recoveryPoint} unflushed offsets under flush.messages=${this.config.flushMessages}`);
    }
  }

  randomOffset(): number {
    const rng = this.rng;
    const { logStartOffset, logEndOffset } = this.model;
    const choice = rng.below(10);
    if (choice === 0) return Math.max(0, logStartOffset - 1 - rng.below(3));
    if (choice === 1) return logEndOffset + rng.below(3);
    const batches = this.model.allBatches().filter((batch) => batch.last >= logStartOffset);
    if (choice < 6 && batches.length > 0) return Math.max(logStartOffset, batches[rng.below(batches.length)]!.base);
    return logStartOffset + rng.below(logEndOffset - logStartOffset + 1);
  }

  read(): void {
    const offset = this.randomOffset();
    const maxBytes = this.rng.below(3) === 0 ? this.rng.below(100) : this.rng.below(3 * this.config.segmentBytes);
    const maxOffset = this.rng.below(3) === 0 ? this.model.logEndOffset : undefined;
    this.history.push(`read(${offset}, ${maxBytes}, ${maxOffset ?? 'hw'})`);
    this.checkRead(offset, maxBytes, maxOffset);
  }

  setHighWatermark(): void {
    const batches = this.model.allBatches();
    const offset = this.rng.below(3) === 0 || batches.length === 0 ? this.randomOffset() : batches[this.rng.below(batches.length)]!.last + 1;
    this.history.push(`setHighWatermark(${offset})`);
    this.log.setHighWatermark(offset);
    this.model.setHighWatermark(offset);
  }

  roll(): void {
    this.history.push('roll');
    this.log.roll();
    this.model.roll();
  }

  truncateTo(): void {
    const rng = this.rng;
    const batches = this.model.allBatches().filter((batch) => batch.base >= this.model.logStartOffset);
    let offset: number;
    const choice = rng.below(6);
    if (choice === 0 || batches.length === 0) offset = this.randomOffset();
    else if (choice === 1) {
      // Inside a batch of several offsets, if there is one.
      const wide = batches.filter((batch) => batch.last > batch.base);
      offset = wide.length > 0 ? (() => { const batch = wide[rng.below(wide.length)]!; return batch.base + 1 + rng.below(batch.last - batch.base); })() : this.randomOffset();
    } else if (choice === 2 && this.model.gaps().length > 0) {
      // An offset no batch holds any more: compaction removed it.
      const gaps = this.model.gaps();
      const gap = gaps[rng.below(gaps.length)]!;
      offset = gap.from + rng.below(gap.to - gap.from);
    } else {
      // Batch boundaries near the end are what followers truncate to.
      offset = batches[Math.max(0, batches.length - 1 - rng.below(Math.min(batches.length, 6)))]!.base;
    }
    this.history.push(`truncateTo(${offset})`);
    if (offset < this.model.logEndOffset && (offset < this.model.logStartOffset || this.model.isInsideBatch(offset))) {
      const sizeBefore = this.log.sizeBytes;
      this.expectKafkaError(() => this.log.truncateTo(offset), 'OFFSET_OUT_OF_RANGE', `truncateTo(${offset})`);
      this.equal(this.log.sizeBytes, sizeBefore, `bytes cut by a refused truncateTo(${offset})`);
      coverage.refusedTruncations++;
      return;
    }
    this.log.truncateTo(offset);
    if (offset < this.model.logEndOffset) coverage.truncations++;
    if (offset < this.model.logEndOffset && this.model.batchHolding(offset) === undefined) coverage.truncationsIntoCompactionGaps++;
    this.model.truncateTo(offset);
  }

  deleteRecordsBefore(): void {
    const rng = this.rng;
    const offset = rng.below(4) === 0 ? this.model.highWatermark + 1 + rng.below(3) : this.model.logStartOffset + rng.below(this.model.highWatermark - this.model.logStartOffset + 2);
    this.history.push(`deleteRecordsBefore(${offset})`);
    if (offset > this.model.highWatermark) {
      this.expectKafkaError(() => this.log.deleteRecordsBefore(offset), 'OFFSET_OUT_OF_RANGE', `deleteRecordsBefore(${offset})`);
      return;
    }
    const returned = this.log.deleteRecordsBefore(offset);
    const segmentsBefore = this.model.segments.length;
    this.model.deleteRecordsBefore(offset);
    coverage.segmentsDeletedByDeleteRecords += segmentsBefore - this.model.segments.length;
    this.equal(returned, this.model.logStartOffset, `deleteRecordsBefore(${offset}) result`);
  }

  applyRetention(): void {
    const rng = this.rng;
    const retentionBytes = rng.below(2) === 0 ? -1 : rng.below(3 * this.config.segmentBytes);
    const retentionMs = rng.below(2) === 0 ? -1 : rng.below(40_000);
    const config: LogConfig = { ...this.config, retentionBytes, retentionMs };
    this.history.push(`applyRetention(bytes ${retentionBytes}, ms ${retentionMs}) at ${this.nowMs}`);
    this.log.config = config;
    try {
      const deleted = this.log.applyRetention();
      const expected = this.model.applyRetention(config, this.nowMs);
      this.equal(deleted, expected, 'segments deleted by retention');
      coverage.segmentsDeletedByRetention += deleted;
    } finally {
      this.log.config = this.config;
    }
  }

  async flush(): Promise<void> {
    this.history.push('flush');
    await this.log.flush();
    this.equal(this.log.recoveryPoint, this.model.logEndOffset, 'recoveryPoint after flush');
  }

  offsetForTimestamp(): void {
    const rng = this.rng;
    const batches = this.model.allBatches();
    const timestamp = batches.length > 0 && rng.below(3) !== 0 ? batches[rng.below(batches.length)]!.maxTimestamp + rng.below(3) - 1 : this.nowMs - 30_000 + rng.below(40_000);
    this.history.push(`offsetForTimestamp(${timestamp})`);
    const found = this.log.offsetForTimestamp(timestamp);
    const expected = this.model.expectedOffsetForTimestamp(timestamp);
    this.equal(JSON.stringify(found), JSON.stringify(expected), `offsetForTimestamp(${timestamp})`);
    if (found) coverage.timestampLookupsFound++;
    if (found && this.model.gaps().length > 0) coverage.timestampLookupsInCompactedLogs++;
  }

  async compact(): Promise<void> {
    const { log, model } = this;
    if (this.compacted && this.rng.below(3) === 0) {
      // The clock just at a tombstone's expiry: removed only once its batch's maxTimestamp is
      // strictly before now - delete.retention.ms. The clock only moves forward.
      const tombstoneBatches = model.segments.slice(0, -1).flatMap((segment) => segment.batches).filter((batch) => batch.records?.some((record) => record.value === null));
      if (tombstoneBatches.length > 0) {
        const batch = tombstoneBatches[this.rng.below(tombstoneBatches.length)]!;
        this.nowMs = Math.max(this.nowMs, batch.maxTimestamp + this.config.deleteRetentionMs + this.rng.below(2));
      }
    }
    this.history.push(`compact at ${this.nowMs}`);
    const pooledBefore = pool.counters.pooledTasks;
    const result = await log.compact(pool);
    const expected = model.compact(this.config, this.nowMs);
    const what = `compact at ${this.nowMs}`;
    this.equal(result.skipped, expected.skipped, `${what} skipped`);
    this.equal(result.segmentsCleaned, expected.segmentsCleaned, `${what} segmentsCleaned`);
    this.equal(result.bytesBefore, expected.bytesBefore, `${what} bytesBefore`);
    this.equal(result.bytesAfter, expected.bytesAfter, `${what} bytesAfter`);
    if (!this.compacted) {
      this.equal(result.skipped, 'not-compacted', `${what} under cleanup.policy=${this.config.cleanupPolicy}`);
      return;
    }
    if (result.skipped === 'below-dirty-ratio') coverage.compactionsSkippedBelowDirtyRatio++;
    if (result.skipped === 'nothing-cleanable') coverage.compactionsWithNothingCleanable++;
    if (result.skipped !== undefined) return;
    coverage.compactions++;
    if (pool.counters.pooledTasks > pooledBefore) coverage.compactionsOnPoolThread++;
    coverage.segmentsCleaned += result.segmentsCleaned;
    coverage.recordsRemovedByCompaction += expected.recordsRemoved;
    coverage.tombstonesRemoved += expected.tombstonesRemoved;
    coverage.batchesRemovedByCompaction += expected.batchesRemoved;
    this.checkCompacted();
    if (result.segmentsCleaned > 0) {
      this.compactedSinceRestart = true;
      // A restart right after a compaction: the swapped-in segments and their rebuilt indexes
      // must come back as they were, from a clean stop and from a crash.
      const restart = this.rng.below(6);
      if (restart === 0) await this.cleanRestart();
      else if (restart === 1) this.uncleanRestart();
    }
  }

  /**
   * Right after a pass, decoded from the log itself (not from the model): across the closed
   * segments every key appears at most once, and no tombstone older than delete.retention.ms
   * is left.
   */
  checkCompacted(): void {
    const { log, model } = this;
    const closedEnd = model.segments.at(-1)!.base;
    const horizon = this.nowMs - this.config.deleteRetentionMs;
    const seen = new Set<string>();
    let offset = model.logStartOffset;
    while (offset < closedEnd) {
      const read = log.read(offset, 1 << 20, closedEnd);
      if (read.bytes.byteLength === 0) break;
      for (const header of parseBatches(read.bytes)) {
        const batch = decodeBatchRecords(read.bytes.subarray(header.position, header.position + header.sizeBytes));
        for (const record of batch.records) {
          if (record.key === null) continue;
          const key = Buffer.from(record.key).toString('latin1');
          if (seen.has(key)) this.fail(`key ${key} appears twice in the closed segments after compaction (offset ${batch.baseOffset + record.offsetDelta})`);
          seen.add(key);
          if (record.value === null && batch.maxTimestamp < horizon) this.fail(`expired tombstone of ${key} left at offset ${batch.baseOffset + record.offsetDelta}`);
        }
      }
      offset = read.nextOffset;
    }
  }

  async cleanRestart(): Promise<void> {
    this.history.push('clean restart');
    await this.directory.close();
    this.equal(this.fs.openDescriptors, 0, 'descriptors left open by a clean close');
    this.directory = this.openDirectory();
    this.equal(this.directory.recoveredFromUncleanStop, false, 'recoveredFromUncleanStop after a clean stop');
    this.log = this.directory.get(TOPIC, 0) ?? this.fail('partition missing after restart');
    this.model.restarted(true);
    coverage.cleanRestarts++;
    if (this.compactedSinceRestart) coverage.cleanRestartsAfterCompaction++;
    this.compactedSinceRestart = false;
    this.equal(this.log.recoveredTruncatedBytes, 0, 'bytes cut after a clean stop');
  }

  uncleanRestart(): void {
    this.history.push('unclean restart');
    this.fs.crash();
    this.fs = new FaultyFileSystem();
    this.directory = this.openDirectory();
    this.equal(this.directory.recoveredFromUncleanStop, true, 'recoveredFromUncleanStop after a crash');
    this.log = this.directory.get(TOPIC, 0) ?? this.fail('partition missing after restart');
    this.model.restarted(false);
    coverage.uncleanRestarts++;
    if (this.compactedSinceRestart) coverage.uncleanRestartsAfterCompaction++;
    this.compactedSinceRestart = false;
    this.equal(this.log.recoveredTruncatedBytes, 0, 'bytes cut after a crash that lost nothing');
  }

  async finish(): Promise<void> {
    await this.directory.close();
  }

  private openDirectory(): LogDirectory {
    return new LogDirectory({ root: this.root, fs: this.fs, now: () => this.nowMs, configFor: () => this.config });
  }
}

async function runSeed(seed: number, root: string): Promise<void> {
  const run = new FuzzRun(seed, root);
  const rng = run.rng;
  let op = 0;
  try {
    run.checkShape();
    for (op = 0; op < OPS_PER_SEED; op++) {
      run.nowMs += rng.below(4) === 0 ? rng.below(10_000) : rng.below(200);
      const roll = rng.below(100);
      let deep = false;
      // Compacted runs compact often (8% of ops), the others now and then (a no-op for them).
      if (rng.below(100) < (run.compacted ? 8 : 1)) (await run.compact(), (deep = true));
      else if (roll < 34) await run.append();
      else if (roll < 52) run.read();
      else if (roll < 59) run.setHighWatermark();
      else if (roll < 63) run.roll();
      else if (roll < 70) (run.truncateTo(), (deep = true));
      else if (roll < 75) (run.deleteRecordsBefore(), (deep = true));
      else if (roll < 80) (run.applyRetention(), (deep = true));
      else if (roll < 84) await run.flush();
      else if (roll < 92) run.offsetForTimestamp();
      else if (roll < 96) (await run.cleanRestart(), (deep = true));
      else (run.uncleanRestart(), (deep = true));
      if (deep || op % 10 === 9) run.checkEverything();
      else run.checkShape();
    }
    run.checkEverything();
    await run.finish();
  } catch (error) {
    const recent = run.history.slice(-12).map((line, i, all) => `  #${run.history.length - all.length + i}: ${line}`).join('\n');
    const config = `segment.bytes ${run.config.segmentBytes}, index.interval.bytes ${run.config.indexIntervalBytes}, ${run.config.messageTimestampType}, flush.messages ${run.config.flushMessages}, segment.ms ${run.config.segmentMs}, max.message.bytes ${run.config.maxMessageBytes}, cleanup.policy ${run.config.cleanupPolicy}` +
      (run.compacted ? `, delete.retention.ms ${run.config.deleteRetentionMs}, min.cleanable.dirty.ratio ${run.config.minCleanableDirtyRatio}` : '');
    const detail = error instanceof Error ? (error instanceof FuzzFailure ? error.message : error.stack ?? error.message) : String(error);
    throw new Error(`log fuzzer failed: seed ${seed} (replay: SAMSA_FUZZ_SEED=${seed}), op #${op}: ${detail}\nconfig: ${config}\nrecent ops:\n${recent}`);
  }
}

describe('PartitionLog op-fuzzer', () => {
  const seeds = REPLAY_SEED !== undefined ? [REPLAY_SEED] : Array.from({ length: SEED_COUNT }, (_, i) => FIRST_SEED + i);

  it(`matches the model over ${seeds.length} seeds x ${OPS_PER_SEED} ops`, async () => {
    for (const seed of seeds) {
      const root = directories.make(`samsa-fuzz-${seed}-`);
      await runSeed(seed, root);
      directories.removeAll();
    }
    if (process.env.SAMSA_FUZZ_STATS) console.log('log fuzzer coverage', coverage);
    if (seeds.length >= 50) {
      // Every path was exercised, many times over.
      for (const [path, count] of Object.entries(coverage)) expect(count, `times the fuzzer took the path '${path}'`).toBeGreaterThan(20);
    }
  }, Math.max(60_000, seeds.length * OPS_PER_SEED * 2));
});
