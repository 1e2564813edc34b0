/**
 * Partition-log benchmark: `npm run bench:log` (builds, then runs dist/bench/log.js).
 *
 *   1. Append throughput: one pre-built, valid 16 KiB record batch (magic 2, ~150 records of
 *      100 bytes, CRC-32C from @node-rs/crc32) appended ~1 GiB via PartitionLog.append (default
 *      log config, no flush) vs plain fs.writeSync of the same bytes to a file. The two run in
 *      alternating 8 MiB rounds so both see the same page-cache / writeback conditions, after a
 *      64 MiB warm-up of each side on scratch files (timed and printed, not in the ratio).
 *  1b. CPU per batch without page allocation: the CRC alone (the log's src/log/crc32c.ts, and
 *      @node-rs/crc32 for comparison), checkBatches, append with a no-op fs.write, and writes
 *      into already-cached pages by fs.writeSync and by the log's own write (explains step 1).
 *   2. Sequential read-back of that log: read(offset, 1 MiB, logEndOffset).
 *   3. Group commit: flush.messages=1 with 1, 8 and 64 concurrent appenders, appends/s and log
 *      fsyncs/s (counted by wrapping the LogFileSystem's fsync).
 *   4. Offset lookup: read(randomOffset, 1) on a 10 MiB and a 4 GiB log (the step-1 log, extended).
 *   5. Recovery after an unclean stop: 1 GiB flushed and checkpointed + 64 MiB unflushed tail,
 *      then the file descriptors are dropped without close() and the directory is reopened with
 *      new LogDirectory({root}); the same with a 128 MiB log, to show recovery follows what lies
 *      past the recovery point, not the log size.
 *
 * Execution order is 1, 2, 4, 3, 5: the big logs are deleted (their dirty pages discarded) and
 * `sync` is run before the fsync-bound steps so that background writeback of earlier steps does
 * not skew them. Everything is bounded by counts and deadlines; data lives in a temp directory
 * under os.tmpdir(), removed at the end, on failure and on SIGINT/SIGTERM.
 * The last line of stdout is one JSON object with the headline figures.
 * SAMSA_BENCH_SCALE (default 1) scales every size, segment.bytes included (0.05 for a smoke run).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32c as nodeRsCrc32c } from '@node-rs/crc32';
import { crc32c, crc32cImplementation } from '../src/log/crc32c.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../src/log/log-config.js';
import { LogDirectory } from '../src/log/log-directory.js';
import { nodeFileSystem, type LogFileSystem } from '../src/log/log-file-system.js';
import { PartitionLog } from '../src/log/partition-log.js';
import { checkBatches, lastOffsetOf, parseBatches } from '../src/log/record-batch.js';
import { decodeBatchRecords } from '../src/log/records.js';
import type { Segment } from '../src/log/segment.js';
import { runBench, scratchDirectory } from './scratch-directory.js';

const SCALE = Number(process.env.SAMSA_BENCH_SCALE ?? '1');
if (!(SCALE > 0 && SCALE <= 1)) throw new Error(`SAMSA_BENCH_SCALE must be in (0, 1], got ${process.env.SAMSA_BENCH_SCALE}`);

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const MB = 1e6;
const BATCH_BYTES = 16 * KiB;
const VALUE_BYTES = 100;

/** Byte sizes scaled and rounded to whole batches. */
function scaledBatches(bytes: number): number {
  return Math.max(1, Math.round((bytes * SCALE) / BATCH_BYTES));
}

const SEGMENT_BYTES = SCALE === 1 ? DEFAULT_LOG_CONFIG.segmentBytes : scaledBatches(DEFAULT_LOG_CONFIG.segmentBytes) * BATCH_BYTES;
const CONFIG: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: SEGMENT_BYTES };
/**
 * Append and plain writes alternate in rounds of 8 MiB (128 rounds over 1 GiB), short enough
 * (a few ms) that a burst of load from other processes on this 2-core machine falls on both
 * sides instead of on one 64 MiB chunk; printed in groups of 8 rounds (64 MiB a side).
 */
const APPEND_ROUNDS = 128;
const APPEND_ROUNDS_PER_LINE = 8;
/** Untimed-for-the-ratio warm-up of each side before step 1 (the JIT compiles the append path). */
const WARMUP_BATCHES = scaledBatches(64 * MiB);
const APPEND_BATCHES = Math.ceil(scaledBatches(GiB) / APPEND_ROUNDS) * APPEND_ROUNDS;
const SMALL_LOG_BATCHES = Math.round((10 * MiB) / BATCH_BYTES);
const BIG_LOG_BATCHES = scaledBatches(4 * GiB);
const LOOKUPS = 20_000;
const LOOKUP_WARMUP = 2_000;
const FSYNC_CONCURRENCY = [1, 8, 64] as const;
const FSYNC_WINDOW_MS = 2_500;
const FSYNC_MAX_APPENDS = 500_000;
const RECOVERY_LOG_BATCHES = scaledBatches(GiB);
const RECOVERY_SMALL_LOG_BATCHES = scaledBatches(128 * MiB);
const RECOVERY_TAIL_BATCHES = scaledBatches(64 * MiB);

/** Per-step deadlines (a slow disk cuts a step short; the figures then cover what was done). */
const APPEND_STEP_MS = 90_000;
const BUILD_BIG_LOG_MS = 100_000;
const RECOVERY_BUILD_MS = 60_000;
const GLOBAL_TIMEOUT_MS = 290_000;
const FREE_BYTES_NEEDED = 6 * GiB * SCALE + 512 * MiB;

process.env.SAMSA_LOG_LEVEL ??= 'warn';

// ---- temp directory, cleaned up on every way out ----------------------------------------------

const scratch = scratchDirectory('samsa-bench-log-', GLOBAL_TIMEOUT_MS);
const dataDir = scratch.path;

// ---- the batch --------------------------------------------------------------------------------

/** 32-bit xorshift, for reproducible payloads and offsets. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

function zigzag(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

function varintSize(value: number): number {
  let zz = zigzag(value);
  let size = 1;
  while (zz >= 0x80) {
    zz >>>= 7;
    size++;
  }
  return size;
}

function writeVarint(target: Uint8Array, at: number, value: number): number {
  let zz = zigzag(value);
  while (zz >= 0x80) {
    target[at++] = (zz & 0x7f) | 0x80;
    zz >>>= 7;
  }
  target[at++] = zz;
  return at;
}

/** attributes, timestampDelta 0, offsetDelta, key length -1 (null), value length, value, no headers. */
function recordBodySize(offsetDelta: number, valueBytes: number): number {
  return 1 + 1 + varintSize(offsetDelta) + 1 + varintSize(valueBytes) + valueBytes + 1;
}

function recordSize(offsetDelta: number, valueBytes: number): number {
  const body = recordBodySize(offsetDelta, valueBytes);
  return varintSize(body) + body;
}

/**
 * One uncompressed magic-2 batch of exactly `totalBytes`: records with null keys and
 * `valueBytes`-byte values, the last value sized so the batch fills `totalBytes` exactly.
 */
function buildBatch(totalBytes: number, valueBytes: number, timestamp: number): { batch: Uint8Array; records: number } {
  const values: number[] = [];
  let remaining = totalBytes - 61;
  while (remaining - recordSize(values.length, valueBytes) >= recordSize(values.length + 1, valueBytes)) {
    remaining -= recordSize(values.length, valueBytes);
    values.push(valueBytes);
  }
  let last = -1;
  for (let v = remaining; v >= 0; v--) {
    if (recordSize(values.length, v) === remaining) {
      last = v;
      break;
    }
  }
  if (last < 0) throw new Error(`cannot fill a ${totalBytes}-byte batch exactly`);
  values.push(last);

  const batch = new Uint8Array(totalBytes);
  const data = new DataView(batch.buffer);
  const random = xorshift(0x5a45a);
  data.setBigInt64(0, 0n); // baseOffset, rewritten by the log
  data.setInt32(8, totalBytes - 12); // batchLength
  data.setInt32(12, 0); // partitionLeaderEpoch
  data.setInt8(16, 2); // magic
  data.setInt16(21, 0); // attributes: no compression, CreateTime
  data.setInt32(23, values.length - 1); // lastOffsetDelta
  data.setBigInt64(27, BigInt(timestamp)); // baseTimestamp
  data.setBigInt64(35, BigInt(timestamp)); // maxTimestamp
  data.setBigInt64(43, -1n); // producerId
  data.setInt16(51, -1); // producerEpoch
  data.setInt32(53, -1); // baseSequence
  data.setInt32(57, values.length); // recordsCount
  let at = 61;
  values.forEach((value, offsetDelta) => {
    at = writeVarint(batch, at, recordBodySize(offsetDelta, value));
    batch[at++] = 0; // attributes
    at = writeVarint(batch, at, 0); // timestampDelta
    at = writeVarint(batch, at, offsetDelta);
    at = writeVarint(batch, at, -1); // null key
    at = writeVarint(batch, at, value);
    for (let i = 0; i < value; i++) batch[at++] = random() & 0xff;
    at = writeVarint(batch, at, 0); // headers
  });
  if (at !== totalBytes) throw new Error(`batch builder wrote ${at} bytes, expected ${totalBytes}`);
  // Built with @node-rs/crc32, checked below by the log's own CRC-32C (src/log/crc32c.ts).
  data.setUint32(17, nodeRsCrc32c(Buffer.from(batch.buffer, 21, totalBytes - 21)) >>> 0);
  // Check it the way the broker will: framing + CRC (append path) and every record (compaction codec).
  const headers = parseBatches(batch);
  const decoded = decodeBatchRecords(batch);
  if (headers.length !== 1 || decoded.records.length !== values.length) throw new Error('built batch does not parse back');
  return { batch, records: values.length };
}

// ---- a LogFileSystem that counts ---------------------------------------------------------------

class CountingFileSystem implements LogFileSystem {
  fsyncs = 0;
  readBytes = 0;
  private readonly openFds = new Set<number>();

  open(file: string, flags: 'r+' | 'w+' | 'a+' | 'r'): number {
    const fd = nodeFileSystem.open(file, flags);
    this.openFds.add(fd);
    return fd;
  }
  close(fd: number): void {
    this.openFds.delete(fd);
    nodeFileSystem.close(fd);
  }
  size(fd: number): number {
    return nodeFileSystem.size(fd);
  }
  write(fd: number, bytes: Uint8Array, position: number): void {
    nodeFileSystem.write(fd, bytes, position);
  }
  read(fd: number, target: Uint8Array, position: number, length: number): number {
    const got = nodeFileSystem.read(fd, target, position, length);
    this.readBytes += got;
    return got;
  }
  truncate(fd: number, length: number): void {
    nodeFileSystem.truncate(fd, length);
  }
  fsync(fd: number): Promise<void> {
    this.fsyncs++;
    return nodeFileSystem.fsync(fd);
  }
  exists(file: string): boolean {
    return nodeFileSystem.exists(file);
  }
  readFile(file: string): Uint8Array {
    const bytes = nodeFileSystem.readFile(file);
    this.readBytes += bytes.byteLength;
    return bytes;
  }
  writeFileAtomic(file: string, bytes: Uint8Array): void {
    nodeFileSystem.writeFileAtomic(file, bytes);
  }
  rename(from: string, to: string): void {
    nodeFileSystem.rename(from, to);
  }
  unlink(file: string): void {
    nodeFileSystem.unlink(file);
  }
  readdir(directory: string): string[] {
    return nodeFileSystem.readdir(directory);
  }
  mkdir(directory: string): void {
    nodeFileSystem.mkdir(directory);
  }
  rmdir(directory: string): void {
    nodeFileSystem.rmdir(directory);
  }
  fsyncDirectory(directory: string): void {
    nodeFileSystem.fsyncDirectory(directory);
  }

  /** The unclean stop: every descriptor the log still holds is closed behind its back. */
  dropDescriptors(): number {
    const count = this.openFds.size;
    for (const fd of this.openFds) fs.closeSync(fd);
    this.openFds.clear();
    return count;
  }
}

// ---- helpers ------------------------------------------------------------------------------------

const now = (): number => performance.now();
const mbps = (bytes: number, ms: number): number => bytes / MB / (ms / 1000);

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function sizeLabel(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(bytes % GiB === 0 ? 0 : 2)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function passMiss(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function appendBatches(log: PartitionLog, batch: Uint8Array, count: number, deadline: number): Promise<number> {
  let done = 0;
  while (done < count) {
    await log.append(batch);
    done++;
    if ((done & 255) === 0 && now() > deadline) break;
    // A loop of awaits never reaches the event loop: let signals and the global timeout in.
    if ((done & 4095) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return done;
}

function segmentFiles(directory: string): { base: number; bytes: number }[] {
  return fs
    .readdirSync(directory)
    .filter((name) => /^\d{20}\.log$/.test(name))
    .map((name) => ({ base: Number(name.slice(0, 20)), bytes: fs.statSync(path.join(directory, name)).size }))
    .sort((a, b) => a.base - b.base);
}

// ---- 1. append vs plain writes ------------------------------------------------------------------

interface ColdStart {
  appendUs: number;
  plainUs: number;
}

/**
 * Step 1's warm-up: each side writes WARMUP_BATCHES to a scratch log or file, deleted after.
 * In a fresh process the first ~3000 appends run before V8 has compiled the append path, and the
 * compiler threads take the second core meanwhile (tens of ms on this 2-core machine, a tenth
 * of step 1's appends): a one-time cost of the process, not of appending. It is timed and printed
 * (cold start, also in the JSON), but kept out of the ratio, which is about the sustained rate.
 */
async function warmUp(batch: Uint8Array): Promise<ColdStart> {
  const log = new PartitionLog({ directory: path.join(dataDir, 'warmup-0'), config: CONFIG });
  let started = now();
  await appendBatches(log, batch, WARMUP_BATCHES, now() + 30_000);
  const appendUs = ((now() - started) * 1000) / WARMUP_BATCHES;
  log.deleteAll();
  const plainPath = path.join(dataDir, 'warmup.bin');
  const fd = fs.openSync(plainPath, 'w');
  try {
    started = now();
    for (let i = 0; i < WARMUP_BATCHES; i++) fs.writeSync(fd, batch);
    return { appendUs, plainUs: ((now() - started) * 1000) / WARMUP_BATCHES };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(plainPath, { force: true });
  }
}

interface AppendResult {
  coldStart: ColdStart;
  log: PartitionLog;
  appendBytes: number;
  appendMs: number;
  plainBytes: number;
  plainMs: number;
  /** plain µs / append µs per printed group of rounds (64 MiB a side): the spread within the run. */
  groupRatios: number[];
}

async function runAppendVsPlain(batch: Uint8Array): Promise<AppendResult> {
  const coldStart = await warmUp(batch);
  console.log(
    `    warm-up, first ${sizeLabel(WARMUP_BATCHES * batch.byteLength)} a side in a fresh process (not in the ratio): ` +
      `append ${coldStart.appendUs.toFixed(2)} µs/batch, plain ${coldStart.plainUs.toFixed(2)} µs/batch (${(coldStart.plainUs / coldStart.appendUs).toFixed(2)})`,
  );
  const perRound = APPEND_BATCHES / APPEND_ROUNDS;
  const deadline = now() + APPEND_STEP_MS;
  const plainPath = path.join(dataDir, 'plain.bin');
  const plainFd = fs.openSync(plainPath, 'w');
  const log = new PartitionLog({ directory: path.join(dataDir, 'big-0'), config: CONFIG });
  let appendBytes = 0;
  let appendMs = 0;
  let plainBytes = 0;
  let plainMs = 0;
  const group = { appendMs: 0, appendBatches: 0, plainMs: 0, plainBatches: 0 };
  const groupRatios: number[] = [];
  const plain = (): void => {
    const started = now();
    let done = 0;
    while (done < perRound) {
      const written = fs.writeSync(plainFd, batch);
      if (written !== batch.byteLength) throw new Error(`short write: ${written} of ${batch.byteLength}`);
      done++;
      if ((done & 255) === 0 && now() > deadline) break;
    }
    const ms = now() - started;
    plainMs += ms;
    plainBytes += done * batch.byteLength;
    group.plainMs += ms;
    group.plainBatches += done;
  };
  const append = async (): Promise<void> => {
    const started = now();
    const done = await appendBatches(log, batch, perRound, deadline);
    const ms = now() - started;
    appendMs += ms;
    appendBytes += done * batch.byteLength;
    group.appendMs += ms;
    group.appendBatches += done;
  };
  try {
    console.log(`    rounds  (${sizeLabel(perRound * APPEND_ROUNDS_PER_LINE * batch.byteLength)} a side)   append µs/batch   plain µs/batch   append/plain`);
    for (let round = 0; round < APPEND_ROUNDS && now() < deadline; round++) {
      if (round % 2 === 0) {
        plain();
        await append();
      } else {
        await append();
        plain();
      }
      // A loop of awaits never reaches the event loop: let signals and the global timeout in.
      await new Promise((resolve) => setImmediate(resolve));
      if ((round + 1) % APPEND_ROUNDS_PER_LINE !== 0 && round + 1 < APPEND_ROUNDS) continue;
      const appendUs = (group.appendMs * 1000) / Math.max(1, group.appendBatches);
      const plainUs = (group.plainMs * 1000) / Math.max(1, group.plainBatches);
      groupRatios.push(plainUs / appendUs);
      const first = round + 2 - APPEND_ROUNDS_PER_LINE;
      console.log(`    ${`${first}-${round + 1}`.padStart(7)}                ${appendUs.toFixed(2).padStart(8)}          ${plainUs.toFixed(2).padStart(8)}         ${(plainUs / appendUs).toFixed(2)}`);
      Object.assign(group, { appendMs: 0, appendBatches: 0, plainMs: 0, plainBatches: 0 });
    }
  } finally {
    fs.closeSync(plainFd);
    fs.rmSync(plainPath, { force: true }); // unlinking drops its dirty pages unwritten
  }
  return { coldStart, log, appendBytes, appendMs, plainBytes, plainMs, groupRatios };
}

// ---- 1b. CPU cost per batch, without page allocation ------------------------------------------

interface CpuCost {
  crcUs: number;
  nodeRsCrcUs: number;
  checkUs: number;
  appendNoWriteUs: number;
  cachedWriteUs: number;
  cachedLogWriteUs: number;
}

/**
 * Where an append's time goes apart from fresh page-cache pages: the log's CRC-32C alone (and
 * @node-rs/crc32's, the fallback, for comparison), checkBatches (framing + CRC + size: the
 * append path's check), PartitionLog.append with a LogFileSystem whose write() does nothing
 * (everything but the write), and 16 KiB written into pages the file already has (the copy
 * alone: a 64 MiB region rewritten in a loop) by fs.writeSync and by the log's own write
 * (nodeFileSystem.write: the native addon's pwrite where it is built). Each timed call is
 * awaited, as the appends of step 1 are.
 */
async function runCpuCost(batch: Uint8Array): Promise<CpuCost> {
  const iterations = Math.max(2_000, Math.round(50_000 * SCALE));
  const time = async (fn: (i: number) => unknown): Promise<number> => {
    for (let i = 0; i < 2_000; i++) await fn(i);
    const started = now();
    for (let i = 0; i < iterations; i++) await fn(i);
    return ((now() - started) * 1000) / iterations;
  };
  let sink = 0;
  const covered = Buffer.from(batch.buffer, batch.byteOffset + 21, batch.byteLength - 21);
  const crcUs = await time(() => {
    sink ^= crc32c(batch, 21, batch.byteLength - 21);
  });
  const nodeRsCrcUs = await time(() => {
    sink ^= nodeRsCrc32c(covered);
  });
  const checkUs = await time(() => {
    sink += checkBatches(batch, CONFIG.maxMessageBytes);
  });
  const noWrite: LogFileSystem = Object.assign(new CountingFileSystem(), { write: (): void => undefined });
  const log = new PartitionLog({ directory: path.join(dataDir, 'nowrite-0'), config: CONFIG, fs: noWrite });
  const appendNoWriteUs = await time(() => log.append(batch));
  log.deleteAll();
  const regionBatches = Math.min(4096, iterations);
  const file = path.join(dataDir, 'cached.bin');
  const fd = fs.openSync(file, 'w+');
  let cachedWriteUs: number;
  let cachedLogWriteUs: number;
  try {
    for (let i = 0; i < regionBatches; i++) fs.writeSync(fd, batch, 0, batch.byteLength, i * batch.byteLength);
    cachedWriteUs = await time((i) => fs.writeSync(fd, batch, 0, batch.byteLength, (i % regionBatches) * batch.byteLength));
    cachedLogWriteUs = await time((i) => nodeFileSystem.write(fd, batch, (i % regionBatches) * batch.byteLength));
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  if (sink === 0.5) console.log('(sink)');
  return { crcUs, nodeRsCrcUs, checkUs, appendNoWriteUs, cachedWriteUs, cachedLogWriteUs };
}

// ---- 2. sequential read-back -----------------------------------------------------------------------

function runReadBack(log: PartitionLog): { bytes: number; ms: number; reads: number } {
  const end = log.logEndOffset;
  let offset = log.logStartOffset;
  let bytes = 0;
  let reads = 0;
  const started = now();
  while (offset < end) {
    const slice = log.read(offset, MiB, end);
    if (slice.bytes.byteLength === 0 || slice.firstOffset !== offset) throw new Error(`read-back stalled at offset ${offset}`);
    bytes += slice.bytes.byteLength;
    offset = slice.nextOffset;
    reads++;
  }
  const ms = now() - started;
  if (bytes !== log.sizeBytes) throw new Error(`read back ${bytes} bytes of a ${log.sizeBytes}-byte log`);
  return { bytes, ms, reads };
}

// ---- 4. offset lookups -------------------------------------------------------------------------------

interface LookupResult {
  sizeBytes: number;
  segments: number;
  offsets: number;
  readMeanUs: number;
  readP50Us: number;
  readP99Us: number;
  findMeanUs: number;
  findP99Us: number;
}

/**
 * Times log.read(offset, 1) (index lookup + the one whole batch returned) and, separately, the
 * lookup alone: Segment.findBatch on the segment holding the offset (sparse index binary search,
 * then a scan of at most one index interval). The segment list is private to PartitionLog; the
 * bench peeks at it for this breakdown only.
 */
function runLookups(log: PartitionLog, seed: number): LookupResult {
  const random = xorshift(seed);
  const start = log.logStartOffset;
  const span = log.logEndOffset - start;
  const pick = (): number => start + Math.floor((random() / 2 ** 32) * span);
  const segments = (log as unknown as { segments: Segment[] }).segments;
  const segmentFor = (offset: number): Segment => {
    let low = 0;
    let high = segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (segments[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return segments[low]!;
  };
  let sink = 0;
  for (let i = 0; i < LOOKUP_WARMUP; i++) {
    const offset = pick();
    sink += log.read(offset, 1).nextOffset + (segmentFor(offset).findBatch(offset)?.sizeBytes ?? 0);
  }
  const readTimes = new Float64Array(LOOKUPS);
  for (let i = 0; i < LOOKUPS; i++) {
    const offset = pick();
    const started = now();
    const slice = log.read(offset, 1);
    readTimes[i] = now() - started;
    if (!(slice.firstOffset <= offset && offset < slice.nextOffset)) throw new Error(`read(${offset}, 1) returned ${slice.firstOffset}..${slice.nextOffset}`);
    sink += slice.bytes.byteLength;
  }
  const findTimes = new Float64Array(LOOKUPS);
  for (let i = 0; i < LOOKUPS; i++) {
    const offset = pick();
    const segment = segmentFor(offset);
    const started = now();
    const batch = segment.findBatch(offset);
    findTimes[i] = now() - started;
    if (!batch || batch.baseOffset > offset || lastOffsetOf(batch) < offset) throw new Error(`findBatch(${offset}) missed`);
    sink += batch.position;
  }
  if (sink === 0) console.log('(sink)');
  readTimes.sort();
  findTimes.sort();
  const mean = (times: Float64Array): number => times.reduce((sum, t) => sum + t, 0) / times.length;
  return {
    sizeBytes: log.sizeBytes,
    segments: log.segmentCount,
    offsets: log.logEndOffset - start,
    readMeanUs: mean(readTimes) * 1000,
    readP50Us: percentile(readTimes, 50) * 1000,
    readP99Us: percentile(readTimes, 99) * 1000,
    findMeanUs: mean(findTimes) * 1000,
    findP99Us: percentile(findTimes, 99) * 1000,
  };
}

// ---- 3. group commit ---------------------------------------------------------------------------------

interface FsyncResult {
  concurrency: number;
  appends: number;
  fsyncs: number;
  ms: number;
  appendsPerS: number;
  fsyncsPerS: number;
  meanLatencyMs: number;
  p99LatencyMs: number;
}

async function runGroupCommit(batch: Uint8Array, concurrency: number): Promise<FsyncResult> {
  const counting = new CountingFileSystem();
  const log = new PartitionLog({ directory: path.join(dataDir, `fsync${concurrency}-0`), config: { ...CONFIG, flushMessages: 1 }, fs: counting });
  try {
    for (let i = 0; i < 20; i++) await log.append(batch); // warm-up: JIT, file creation, first index files
    counting.fsyncs = 0;
    const latencies: number[] = [];
    let appends = 0;
    const started = now();
    const stopAt = started + FSYNC_WINDOW_MS;
    // One shared buffer is safe: append() parses, rewrites the base offset and writes it
    // synchronously before its first await (the fsync).
    const appender = async (): Promise<void> => {
      while (now() < stopAt && appends < FSYNC_MAX_APPENDS) {
        const t = now();
        await log.append(batch);
        latencies.push(now() - t);
        appends++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, appender));
    const ms = now() - started;
    const sorted = Float64Array.from(latencies).sort();
    return {
      concurrency,
      appends,
      fsyncs: counting.fsyncs,
      ms,
      appendsPerS: appends / (ms / 1000),
      fsyncsPerS: counting.fsyncs / (ms / 1000),
      meanLatencyMs: latencies.reduce((sum, t) => sum + t, 0) / latencies.length,
      p99LatencyMs: percentile(sorted, 99),
    };
  } finally {
    log.deleteAll();
  }
}

// ---- 5. recovery after an unclean stop ------------------------------------------------------------

interface RecoveryResult {
  label: string;
  logBytes: number;
  tailBytes: number;
  buildMs: number;
  flushMs: number;
  recoveryMs: number;
  scannedBytes: number;
  droppedFds: number;
  segments: { base: number; bytes: number; recovered: boolean }[];
  recoveryPoint: number;
  logEndOffset: number;
  ok: boolean;
  notes: string[];
}

async function runRecovery(label: string, batch: Uint8Array, logBatches: number, tailBatches: number): Promise<RecoveryResult> {
  const root = path.join(dataDir, `recovery-${label}`);
  const notes: string[] = [];
  const configFor = (): LogConfig => CONFIG;
  const writing = new CountingFileSystem();
  const directory = new LogDirectory({ root, fs: writing, configFor });
  const log = directory.getOrCreate('bench', 0);
  const buildStarted = now();
  const deadline = buildStarted + RECOVERY_BUILD_MS;
  const written = await appendBatches(log, batch, logBatches, deadline);
  const buildMs = now() - buildStarted;
  if (written < logBatches) notes.push(`build cut short by the deadline: ${written} of ${logBatches} batches`);
  const flushStarted = now();
  await log.flush();
  directory.checkpoint();
  const flushMs = now() - flushStarted;
  const recoveryPoint = log.recoveryPoint;
  const tail = await appendBatches(log, batch, tailBatches, now() + RECOVERY_BUILD_MS);
  const logEndOffset = log.logEndOffset;
  // Unclean stop: no flush, no close() (which would write the index files), no clean-shutdown
  // marker; the descriptors are closed the way a dying process's are.
  const droppedFds = writing.dropDescriptors();
  const files = segmentFiles(path.join(root, 'bench-0'));

  const reading = new CountingFileSystem();
  const recoveryStarted = now();
  const reopened = new LogDirectory({ root, fs: reading, configFor });
  const recoveryMs = now() - recoveryStarted;
  const recovered = reopened.get('bench', 0);
  let ok = true;
  const check = (condition: boolean, what: string): void => {
    if (!condition) {
      ok = false;
      notes.push(`CHECK FAILED: ${what}`);
    }
  };
  check(reopened.recoveredFromUncleanStop, 'the reopen did not see an unclean stop');
  check(recovered !== undefined, 'partition bench-0 missing after reopen');
  if (recovered) {
    check(recovered.logEndOffset === logEndOffset, `log end ${recovered.logEndOffset} after recovery, ${logEndOffset} before`);
    check(recovered.recoveredTruncatedBytes === 0, `recovery cut ${recovered.recoveredTruncatedBytes} bytes`);
    check(recovered.recoveryPoint === recoveryPoint, `recovery point ${recovered.recoveryPoint}, checkpointed ${recoveryPoint}`);
    check(recovered.sizeBytes === (written + tail) * batch.byteLength, 'log size changed');
  }
  reopened.delete('bench', 0);
  fs.rmSync(root, { recursive: true, force: true });
  const segments = files.map((file, i) => ({ ...file, recovered: (files[i + 1]?.base ?? Number.MAX_SAFE_INTEGER) > recoveryPoint }));
  return {
    label,
    logBytes: written * batch.byteLength,
    tailBytes: tail * batch.byteLength,
    buildMs,
    flushMs,
    recoveryMs,
    scannedBytes: reading.readBytes,
    droppedFds,
    segments,
    recoveryPoint,
    logEndOffset,
    ok,
    notes,
  };
}

function printRecovery(r: RecoveryResult): void {
  console.log(
    `  ${r.label}: ${sizeLabel(r.logBytes)} written in ${(r.buildMs / 1000).toFixed(1)} s, flush + checkpoint ${(r.flushMs / 1000).toFixed(2)} s ` +
      `(recovery point ${r.recoveryPoint}), then ${sizeLabel(r.tailBytes)} unflushed; ${r.droppedFds} descriptors dropped without close()`,
  );
  for (const segment of r.segments) {
    console.log(
      `      segment ${String(segment.base).padStart(9)}  ${sizeLabel(segment.bytes).padStart(9)}  ` +
        (segment.recovered ? 'at/past the recovery point: full scan (framing + CRC of every batch), indexes rebuilt' : 'below the recovery point: index files loaded and checked, tail after the last entry walked'),
    );
  }
  console.log(
    `      reopen (new LogDirectory) took ${(r.recoveryMs / 1000).toFixed(3)} s; read ${sizeLabel(r.scannedBytes)} ` +
      `(${mbps(r.scannedBytes, r.recoveryMs).toFixed(0)} MB/s incl. index rewrites); log end offset ${r.logEndOffset} restored: ${r.ok ? 'yes' : 'NO'}`,
  );
  for (const note of r.notes) console.log(`      ${note}`);
}

// ---- main ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = now();
  const cpus = os.cpus();
  console.log(`samsa log bench — node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), ${os.platform()} ${os.arch()}, ${(os.totalmem() / GiB).toFixed(0)} GiB RAM, scale ${SCALE}`);
  const stat = fs.statfsSync(dataDir);
  const free = stat.bavail * stat.bsize;
  console.log(`data dir ${dataDir} (${(free / GiB).toFixed(0)} GiB free); segment.bytes ${sizeLabel(SEGMENT_BYTES)}, index.interval.bytes ${CONFIG.indexIntervalBytes}, MB = 10^6 bytes`);
  if (free < FREE_BYTES_NEEDED) throw new Error(`need ${sizeLabel(FREE_BYTES_NEEDED)} free under ${os.tmpdir()}, have ${sizeLabel(free)}`);

  const { batch, records } = buildBatch(BATCH_BYTES, VALUE_BYTES, Date.now());
  console.log(`batch: ${batch.byteLength} bytes, magic 2, uncompressed, ${records} records (${VALUE_BYTES}-byte values, null keys), CRC-32C checked by parseBatches (${crc32cImplementation})`);

  console.log(`\n[1] append ${sizeLabel(APPEND_BATCHES * BATCH_BYTES)} via PartitionLog.append (no flush) vs fs.writeSync of the same batch, ${APPEND_ROUNDS} alternating rounds`);
  const appended = await runAppendVsPlain(batch);
  const appendMBps = mbps(appended.appendBytes, appended.appendMs);
  const plainMBps = mbps(appended.plainBytes, appended.plainMs);
  const appendRatio = appendMBps / plainMBps;
  const sortedRatios = [...appended.groupRatios].sort((a, b) => a - b);
  const groupRatioMedian = sortedRatios[Math.floor(sortedRatios.length / 2)] ?? NaN;
  console.log(`  groups' append/plain: median ${groupRatioMedian.toFixed(2)}, min ${(sortedRatios[0] ?? NaN).toFixed(2)}, max ${(sortedRatios[sortedRatios.length - 1] ?? NaN).toFixed(2)}`);
  console.log(`  total: append ${appendMBps.toFixed(0)} MB/s (${((appended.appendMs * 1000) / (appended.appendBytes / BATCH_BYTES)).toFixed(2)} µs/batch), plain ${plainMBps.toFixed(0)} MB/s (${((appended.plainMs * 1000) / (appended.plainBytes / BATCH_BYTES)).toFixed(2)} µs/batch): ${appendRatio.toFixed(2)}x`);

  console.log(`\n[1b] CPU per 16 KiB batch, no page allocation (explains the gap; page-cache-speed estimate)`);
  const cpu = await runCpuCost(batch);
  // The log's write replaces fs.writeSync's: append = its write + everything else.
  const cacheSpeedRatio = cpu.cachedWriteUs / (cpu.cachedLogWriteUs + cpu.appendNoWriteUs);
  const cell = (us: number): string => `${us.toFixed(2).padStart(6)} µs`;
  console.log(`  crc32c of the batch alone (${crc32cImplementation.padEnd(17)})   ${cell(cpu.crcUs)}  (${(batch.byteLength / cpu.crcUs / 1000).toFixed(2)} GB/s)`);
  console.log(`  the same with @node-rs/crc32 (the fallback)       ${cell(cpu.nodeRsCrcUs)}  (${(batch.byteLength / cpu.nodeRsCrcUs / 1000).toFixed(2)} GB/s)`);
  console.log(`  checkBatches (framing + CRC-32C + size check)     ${cell(cpu.checkUs)}`);
  console.log(`  PartitionLog.append with a no-op fs.write         ${cell(cpu.appendNoWriteUs)}  (everything but the write)`);
  console.log(`  fs.writeSync into already-cached file pages       ${cell(cpu.cachedWriteUs)}  (vs ${((appended.plainMs * 1000) / (appended.plainBytes / BATCH_BYTES)).toFixed(2)} µs growing a file above)`);
  console.log(`  the log's write (${nodeFileSystem.write.name === 'writeWithNode' ? 'fs.writeSync' : 'native pwrite'}) into the same pages   ${cell(cpu.cachedLogWriteUs)}`);
  console.log(`  => append/plain when writes cost only the copy: ${cpu.cachedWriteUs.toFixed(2)} / (${cpu.cachedLogWriteUs.toFixed(2)} + ${cpu.appendNoWriteUs.toFixed(2)}) = ${cacheSpeedRatio.toFixed(2)}`);

  console.log(`\n[2] sequential read-back of that log, read(offset, 1 MiB, logEndOffset)`);
  const readBack = runReadBack(appended.log);
  const readMBps = mbps(readBack.bytes, readBack.ms);
  console.log(`  ${sizeLabel(readBack.bytes)} in ${readBack.reads} reads, ${(readBack.ms / 1000).toFixed(2)} s: ${readMBps.toFixed(0)} MB/s (page cache warm: just written)`);

  console.log(`\n[4] offset lookup, ${LOOKUPS} random offsets per log after ${LOOKUP_WARMUP} warm-up reads`);
  const small = new PartitionLog({ directory: path.join(dataDir, 'small-0'), config: CONFIG });
  await appendBatches(small, batch, SMALL_LOG_BATCHES, now() + 30_000);
  const big = appended.log;
  const extendStarted = now();
  const extended = await appendBatches(big, batch, BIG_LOG_BATCHES - big.sizeBytes / BATCH_BYTES, now() + BUILD_BIG_LOG_MS);
  const extendMs = now() - extendStarted;
  console.log(
    `  built: small log ${sizeLabel(small.sizeBytes)} (${small.segmentCount} segment); big log = the step-1 log extended by ${sizeLabel(extended * BATCH_BYTES)} ` +
      `in ${(extendMs / 1000).toFixed(1)} s (${mbps(extended * BATCH_BYTES, extendMs).toFixed(0)} MB/s) to ${sizeLabel(big.sizeBytes)} (${big.segmentCount} segments)`,
  );
  // read() stops at the high watermark by default; replication would have moved it to the end.
  small.setHighWatermark(small.logEndOffset);
  big.setHighWatermark(big.logEndOffset);
  const lookupSmall = runLookups(small, 1);
  const lookupBig = runLookups(big, 2);
  const lookupRatio = lookupBig.readMeanUs / lookupSmall.readMeanUs;
  for (const [name, r] of [['small', lookupSmall], ['big', lookupBig]] as const) {
    console.log(
      `  ${name.padEnd(5)} ${sizeLabel(r.sizeBytes).padStart(9)}, ${r.segments} seg, ${r.offsets} offsets: read(o, 1) mean ${r.readMeanUs.toFixed(2)} µs, ` +
        `p50 ${r.readP50Us.toFixed(2)} µs, p99 ${r.readP99Us.toFixed(2)} µs; findBatch alone mean ${r.findMeanUs.toFixed(2)} µs, p99 ${r.findP99Us.toFixed(2)} µs`,
    );
  }
  console.log(`  ratio big/small (mean read): ${lookupRatio.toFixed(2)}  (both logs in the page cache: ${(os.totalmem() / GiB).toFixed(0)} GiB RAM)`);
  small.deleteAll();
  big.deleteAll(); // dirty pages of deleted files are dropped, not written back

  let syncMs = -1;
  try {
    const syncStarted = now();
    execFileSync('sync', { stdio: 'ignore', timeout: 60_000 });
    syncMs = now() - syncStarted;
  } catch {
    // no sync(1): the fsync figures may include writeback of earlier steps
  }

  console.log(`\n[3] group commit: flush.messages=1, N appenders each looping await append(16 KiB batch), ${FSYNC_WINDOW_MS / 1000} s each` + (syncMs >= 0 ? ` (after sync: ${(syncMs / 1000).toFixed(2)} s)` : ''));
  const groupCommit: FsyncResult[] = [];
  for (const concurrency of FSYNC_CONCURRENCY) {
    const r = await runGroupCommit(batch, concurrency);
    groupCommit.push(r);
    console.log(
      `  ${String(concurrency).padStart(2)} appenders: ${r.appendsPerS.toFixed(0).padStart(6)} appends/s, ${r.fsyncsPerS.toFixed(0).padStart(5)} fsyncs/s, ` +
        `${(r.appends / Math.max(1, r.fsyncs)).toFixed(1).padStart(5)} appends/fsync, latency mean ${r.meanLatencyMs.toFixed(2)} ms, p99 ${r.p99LatencyMs.toFixed(2)} ms ` +
        `(${r.appends} appends, ${r.fsyncs} fsyncs in ${(r.ms / 1000).toFixed(2)} s)`,
    );
  }

  console.log(`\n[5] recovery after an unclean stop (reopen timed; page cache warm, as after a process crash)`);
  const recoveryBig = await runRecovery('big', batch, RECOVERY_LOG_BATCHES, RECOVERY_TAIL_BATCHES);
  printRecovery(recoveryBig);
  const recoverySmall = await runRecovery('small', batch, RECOVERY_SMALL_LOG_BATCHES, RECOVERY_TAIL_BATCHES);
  printRecovery(recoverySmall);
  const scanRate = mbps(recoveryBig.scannedBytes + recoverySmall.scannedBytes, recoveryBig.recoveryMs + recoverySmall.recoveryMs);
  console.log(
    `  recovery time follows the bytes in segments at/past the recovery point (at most segment.bytes + the tail), not the log size; ` +
      `worst case here ~${sizeLabel(SEGMENT_BYTES + RECOVERY_TAIL_BATCHES * BATCH_BYTES)} at ~${scanRate.toFixed(0)} MB/s = ~${((SEGMENT_BYTES + RECOVERY_TAIL_BATCHES * BATCH_BYTES) / MB / scanRate).toFixed(1)} s`,
  );

  const fsyncAt = (c: number): FsyncResult => groupCommit.find((r) => r.concurrency === c)!;
  const appendOk = appendRatio >= 0.8;
  const lookupOk = lookupRatio <= 2;
  const rows: [string, string, string, string][] = [
    ['append (PartitionLog.append, 16 KiB batches)', `${appendMBps.toFixed(0)} MB/s`, '>= 0.8 x plain', `${passMiss(appendOk)} (${appendRatio.toFixed(2)}x)`],
    ['plain fs.writeSync, same bytes', `${plainMBps.toFixed(0)} MB/s`, 'baseline', ''],
    ['append CPU excl. the write (no-op fs.write)', `${cpu.appendNoWriteUs.toFixed(2)} µs/batch`, `CRC ${cpu.crcUs.toFixed(2)} µs`, `est. ${cacheSpeedRatio.toFixed(2)}x at cached-page write speed`],
    ['sequential read(offset, 1 MiB)', `${readMBps.toFixed(0)} MB/s`, '', ''],
    ...FSYNC_CONCURRENCY.map((c): [string, string, string, string] => [
      `flush.messages=1, ${c} appender${c === 1 ? '' : 's'}`,
      `${fsyncAt(c).appendsPerS.toFixed(0)} appends/s`,
      `${fsyncAt(c).fsyncsPerS.toFixed(0)} fsyncs/s`,
      `${(fsyncAt(c).appends / Math.max(1, fsyncAt(c).fsyncs)).toFixed(1)} appends/fsync`,
    ]),
    [`lookup read(o, 1), ${sizeLabel(lookupSmall.sizeBytes)} log`, `${lookupSmall.readMeanUs.toFixed(2)} µs`, `p99 ${lookupSmall.readP99Us.toFixed(2)} µs`, ''],
    [`lookup read(o, 1), ${sizeLabel(lookupBig.sizeBytes)} log`, `${lookupBig.readMeanUs.toFixed(2)} µs`, `p99 ${lookupBig.readP99Us.toFixed(2)} µs`, ''],
    ['lookup ratio big/small', lookupRatio.toFixed(2), '<= 2 (flat)', passMiss(lookupOk)],
    [`recovery, ${sizeLabel(recoveryBig.logBytes)} + ${sizeLabel(recoveryBig.tailBytes)} tail`, `${recoveryBig.recoveryMs.toFixed(0)} ms`, `read ${sizeLabel(recoveryBig.scannedBytes)}`, recoveryBig.ok ? 'log restored' : 'CHECK FAILED'],
    [`recovery, ${sizeLabel(recoverySmall.logBytes)} + ${sizeLabel(recoverySmall.tailBytes)} tail`, `${recoverySmall.recoveryMs.toFixed(0)} ms`, `read ${sizeLabel(recoverySmall.scannedBytes)}`, recoverySmall.ok ? 'log restored' : 'CHECK FAILED'],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['metric', 'value', 'target / detail', 'result'][i]!.length));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(`\n==== summary (node ${process.version}, ${cpus.length} CPUs, MB = 10^6 bytes, ${((now() - started) / 1000).toFixed(0)} s) ====`);
  console.log(line(['metric', 'value', 'target / detail', 'result']));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));

  const summary = {
    node: process.version,
    cpus: cpus.length,
    scale: SCALE,
    append_MB_per_s: round(appendMBps, 1),
    plain_write_MB_per_s: round(plainMBps, 1),
    append_vs_plain: round(appendRatio, 3),
    append_target_pass: appendOk,
    append_vs_plain_group_median: round(groupRatioMedian, 3),
    append_vs_plain_cold_first_64MiB: round(appended.coldStart.plainUs / appended.coldStart.appendUs, 3),
    append_vs_plain_group_min: round(sortedRatios[0] ?? NaN, 3),
    append_vs_plain_group_max: round(sortedRatios[sortedRatios.length - 1] ?? NaN, 3),
    append_cpu_us_per_batch_excl_write: round(cpu.appendNoWriteUs, 2),
    crc32c_us_per_batch: round(cpu.crcUs, 2),
    crc32c_implementation: crc32cImplementation,
    crc32c_node_rs_us_per_batch: round(cpu.nodeRsCrcUs, 2),
    cached_write_us_per_batch: round(cpu.cachedWriteUs, 2),
    cached_log_write_us_per_batch: round(cpu.cachedLogWriteUs, 2),
    append_vs_plain_cached_pages_estimate: round(cacheSpeedRatio, 3),
    read_MB_per_s: round(readMBps, 1),
    fsync_appends_per_s_1: round(fsyncAt(1).appendsPerS, 1),
    fsync_appends_per_s_8: round(fsyncAt(8).appendsPerS, 1),
    fsync_appends_per_s_64: round(fsyncAt(64).appendsPerS, 1),
    fsyncs_per_s_1: round(fsyncAt(1).fsyncsPerS, 1),
    fsyncs_per_s_8: round(fsyncAt(8).fsyncsPerS, 1),
    fsyncs_per_s_64: round(fsyncAt(64).fsyncsPerS, 1),
    lookup_us_10MB: round(lookupSmall.readMeanUs, 2),
    lookup_us_4GB: round(lookupBig.readMeanUs, 2),
    lookup_p99_us_10MB: round(lookupSmall.readP99Us, 2),
    lookup_p99_us_4GB: round(lookupBig.readP99Us, 2),
    lookup_find_us_10MB: round(lookupSmall.findMeanUs, 2),
    lookup_find_us_4GB: round(lookupBig.findMeanUs, 2),
    lookup_ratio: round(lookupRatio, 3),
    lookup_target_pass: lookupOk,
    recovery_s: round(recoveryBig.recoveryMs / 1000, 4),
    recovery_scanned_bytes: recoveryBig.scannedBytes,
    recovery_s_small_log: round(recoverySmall.recoveryMs / 1000, 4),
    recovery_scanned_bytes_small_log: recoverySmall.scannedBytes,
    recovery_ok: recoveryBig.ok && recoverySmall.ok,
    total_s: round((now() - started) / 1000, 1),
  };
  console.log(JSON.stringify(summary));
  if (!summary.recovery_ok) process.exitCode = 1;
}

runBench(main, scratch);
