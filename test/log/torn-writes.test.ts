/**
 * Crash damage on disk, and what opening the log must make of it. A log of several segments is
 * written and closed cleanly once (the template); each case copies it, damages the copy the
 * way a crash or a failing disk would, reopens it, and checks the result against the batches
 * the template holds:
 *
 *   - torn tail: the last segment's .log cut at every byte of its last three batches
 *   - flipped bits in the tail batches (anything the CRC covers, plus length and magic)
 *   - a zero-filled tail, as a preallocated file after a crash
 *   - .index / .timeindex truncated, garbled, bit-flipped or deleted under a clean-shutdown
 *     marker (so they are loaded, not rebuilt: the log must notice)
 *   - leftovers of a compaction cut short (.log.cleaned, .log.swap, .tmp, orphan indexes)
 *
 * Recovery must end exactly at the last whole valid batch, serve only intact batches (parseBatches
 * checks each CRC), and take appends at the right offset. Nothing may throw out of open.
 * Random choices come from one seed, printed on failure; replay with SAMSA_TORN_SEED=<seed>.
 */
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/log/log-config.js';
import { CLEAN_SHUTDOWN_FILE, LogDirectory } from '../../src/log/log-directory.js';
import { PartitionLog } from '../../src/log/partition-log.js';
import { parseBatches } from '../../src/log/record-batch.js';
import { segmentFileName } from '../../src/log/segment.js';
import { SeededRandom } from '../../src/runtime/prng.js';
import { buildBatch, fillerBytes } from './batch-builder.js';
import { TemporaryDirectories } from './temporary-directory.js';

const SEED = Number(process.env.SAMSA_TORN_SEED ?? 20240611);
const replay = `(seed ${SEED}; replay with SAMSA_TORN_SEED=${SEED})`;

const TOPIC = 'torn';
const config: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 2048, indexIntervalBytes: 128 };
const START_MS = 1_700_000_000_000;

interface StoredBatch {
  readonly base: number;
  readonly last: number;
  readonly bytes: Uint8Array;
  readonly maxTimestamp: number;
  readonly segmentBase: number;
  /** Byte position in its segment's .log file. */
  readonly position: number;
}

interface Template {
  readonly root: string;
  readonly batches: readonly StoredBatch[];
  readonly segmentBases: readonly number[];
}

const directories = new TemporaryDirectories();
let template: Template;

beforeAll(async () => {
  template = await writeTemplate(directories.make('samsa-torn-template-'));
});
afterAll(() => directories.removeAll());

async function writeTemplate(root: string): Promise<Template> {
  const rng = new SeededRandom(SEED);
  const directory = new LogDirectory({ root, configFor: () => config, now: () => START_MS });
  const log = directory.getOrCreate(TOPIC, 0, config);
  for (let i = 0; i < 66; i++) {
    // The last segment gets six smaller batches of its own, so its tail has three to tear.
    if (i === 60) log.roll();
    const records = Array.from({ length: 1 + rng.below(i < 60 ? 4 : 3) }, (_, r) => ({ key: fillerBytes(4, i * 10 + r), value: fillerBytes(10 + rng.below(i < 60 ? 110 : 50), i * 10 + r + 5), timestampDelta: rng.below(20) }));
    // Timestamps mostly rising, sometimes back in time, as producers' clocks do.
    await log.append(buildBatch(records, { baseTimestamp: START_MS + i * 1000 - rng.below(4) * 1500 }));
  }
  await directory.close();
  // Ground truth from the files themselves.
  const partition = path.join(root, `${TOPIC}-0`);
  const bases = readdirSync(partition).filter((name) => name.endsWith('.log')).map((name) => Number(name.slice(0, 20))).sort((a, b) => a - b);
  const batches: StoredBatch[] = [];
  for (const segmentBase of bases) {
    const bytes = new Uint8Array(readFileSync(path.join(partition, segmentFileName(segmentBase, '.log'))));
    for (const header of parseBatches(bytes)) {
      batches.push({
        base: header.baseOffset,
        last: header.baseOffset + header.lastOffsetDelta,
        bytes: bytes.slice(header.position, header.position + header.sizeBytes),
        maxTimestamp: header.maxTimestamp,
        segmentBase,
        position: header.position,
      });
    }
  }
  return { root, batches, segmentBases: bases };
}

// ---- helpers ----------------------------------------------------------------------------------

/** A fresh copy of the template; returns its root and partition directory. */
function copyTemplate(): { root: string; partition: string } {
  const root = directories.make('samsa-torn-case-');
  cpSync(template.root, root, { recursive: true });
  return { root, partition: path.join(root, `${TOPIC}-0`) };
}

function segmentPath(partition: string, base: number, suffix: '.log' | '.index' | '.timeindex'): string {
  return path.join(partition, segmentFileName(base, suffix));
}

type OpenMode = 'unclean, checkpointed recovery point' | 'unclean, full recovery' | 'clean';

/** Opens the copy as the broker would after the kind of stop `mode` names. */
function open(root: string, mode: OpenMode): { log: PartitionLog; close: () => Promise<void> } {
  const partition = path.join(root, `${TOPIC}-0`);
  if (mode !== 'clean') rmSync(path.join(root, CLEAN_SHUTDOWN_FILE), { force: true });
  if (mode === 'unclean, full recovery') {
    const log = new PartitionLog({ directory: partition, config, recover: true, recoveryPoint: 0, now: () => START_MS });
    return { log, close: async () => log.close() };
  }
  const directory = new LogDirectory({ root, configFor: () => config, now: () => START_MS });
  expect(directory.recoveredFromUncleanStop, `recoveredFromUncleanStop for a ${mode} open`).toBe(mode !== 'clean');
  return { log: directory.get(TOPIC, 0)!, close: () => directory.close() };
}

function same(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)) === 0;
}

/**
 * The log must hold exactly `expected` (a prefix of the template's batches), read back whole,
 * batch by batch and by timestamp, then take an append at the next offset.
 */
async function checkLog(log: PartitionLog, expected: readonly StoredBatch[], what: string): Promise<void> {
  const end = expected.length > 0 ? expected.at(-1)!.last + 1 : 0;
  expect(log.logEndOffset, `${what}: log end offset ${replay}`).toBe(end);
  expect(log.logStartOffset, `${what}: log start offset`).toBe(0);
  // Everything, in reads of varied sizes; every served batch passes its CRC.
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; offset < end; i++) {
    const read = log.read(offset, [1, 300, 1000, 5000][i % 4]!, end);
    expect(read.bytes.byteLength, `${what}: read at ${offset} ${replay}`).toBeGreaterThan(0);
    parseBatches(read.bytes);
    parts.push(read.bytes);
    offset = read.nextOffset;
  }
  expect(same(Buffer.concat(parts), Buffer.concat(expected.map((batch) => batch.bytes))), `${what}: bytes read back ${replay}`).toBe(true);
  // Each offset finds its own batch through the (possibly rebuilt) index.
  for (const batch of expected) {
    for (const probe of new Set([batch.base, batch.last])) {
      const read = log.read(probe, 1, end);
      if (read.firstOffset !== batch.base || !same(read.bytes, batch.bytes)) {
        throw new Error(`${what}: read(${probe}) gave batch ${read.firstOffset}, expected ${batch.base} ${replay}`);
      }
    }
  }
  // Timestamps through the (possibly rebuilt) time index.
  for (const batch of expected.filter((_, i) => i % 3 === 0)) {
    for (const target of [batch.maxTimestamp, batch.maxTimestamp + 1]) {
      const first = expected.find((candidate) => candidate.maxTimestamp >= target);
      const found = log.offsetForTimestamp(target);
      expect(found?.offset, `${what}: offsetForTimestamp(${target}) ${replay}`).toBe(first?.base);
    }
  }
  // Appends continue right after the last whole batch.
  const next = buildBatch([{ key: null, value: fillerBytes(50, end) }], { baseTimestamp: START_MS + 999_000 });
  const appended = await log.append(next.slice());
  expect(appended.baseOffset, `${what}: offset of the first append after recovery ${replay}`).toBe(end);
  const readBack = log.read(end, 10_000, log.logEndOffset);
  expect(readBack.firstOffset, `${what}: appended batch read back`).toBe(end);
  parseBatches(readBack.bytes);
}

/** Opens with `mode`, checks against `expected`, closes. Opening must not throw. */
async function reopenAndCheck(root: string, mode: OpenMode, expected: readonly StoredBatch[], what: string, cutBytes?: number): Promise<void> {
  let opened: ReturnType<typeof open>;
  try {
    opened = open(root, mode);
  } catch (error) {
    throw new Error(`${what} (${mode}): open threw ${String(error)} ${replay}`, { cause: error });
  }
  if (cutBytes !== undefined) expect(opened.log.recoveredTruncatedBytes, `${what} (${mode}): bytes cut by recovery ${replay}`).toBe(cutBytes);
  await checkLog(opened.log, expected, `${what} (${mode})`);
  await opened.close();
}

const lastSegmentBase = (): number => template.segmentBases.at(-1)!;
const tailBatches = (): StoredBatch[] => template.batches.filter((batch) => batch.segmentBase === lastSegmentBase()).slice(-3);

function flipBit(bytes: Uint8Array, byte: number, bit: number): void {
  bytes[byte] = bytes[byte]! ^ (1 << bit);
}

function withoutRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

// ---- cases ------------------------------------------------------------------------------------

describe('recovery from torn and corrupt log files', () => {
  it('the template has several segments, six batches in the last', () => {
    expect(template.segmentBases.length).toBeGreaterThanOrEqual(5);
    expect(template.batches.filter((batch) => batch.segmentBase === lastSegmentBase())).toHaveLength(6);
  });

  it('a .log cut at every byte of its last three batches recovers to the last whole batch', async () => {
    const tail = tailBatches();
    const lastLogSize = tail.at(-1)!.position + tail.at(-1)!.bytes.byteLength;
    let cases = 0;
    for (let cut = tail[0]!.position; cut <= lastLogSize; cut++) {
      const whole = template.batches.filter((batch) => batch.segmentBase < lastSegmentBase() || batch.position + batch.bytes.byteLength <= cut);
      const lastWhole = whole.at(-1)!;
      const validEnd = lastWhole.segmentBase === lastSegmentBase() ? lastWhole.position + lastWhole.bytes.byteLength : 0;
      const mode: OpenMode = cut % 2 === 0 ? 'unclean, checkpointed recovery point' : 'unclean, full recovery';
      const { root, partition } = copyTemplate();
      truncateSync(segmentPath(partition, lastSegmentBase(), '.log'), cut);
      await reopenAndCheck(root, mode, whole, `.log cut at byte ${cut}`, cut - validEnd);
      withoutRoot(root);
      cases++;
    }
    expect(cases).toBeGreaterThan(200);
  });

  it('a flipped bit in a tail batch is caught by the CRC: the log is cut before that batch', async () => {
    const rng = new SeededRandom(SEED + 1);
    for (const [index, victim] of tailBatches().entries()) {
      for (let flip = 0; flip < 25; flip++) {
        // Bytes a bit flip must not get past: batchLength, magic, the CRC and all it covers.
        // (baseOffset and partitionLeaderEpoch are outside Kafka's CRC by design.)
        const covered = [8, 9, 10, 11, 16, ...Array.from({ length: victim.bytes.byteLength - 17 }, (_, i) => 17 + i)];
        const byte = covered[rng.below(covered.length)]!;
        const bit = rng.below(8);
        const { root, partition } = copyTemplate();
        const file = segmentPath(partition, lastSegmentBase(), '.log');
        const bytes = readFileSync(file);
        flipBit(bytes, victim.position + byte, bit);
        writeFileSync(file, bytes);
        const expected = template.batches.filter((batch) => batch.base < victim.base);
        const mode: OpenMode = flip % 2 === 0 ? 'unclean, checkpointed recovery point' : 'unclean, full recovery';
        await reopenAndCheck(root, mode, expected, `tail batch #${index} (offset ${victim.base}) with bit ${bit} of byte ${byte} flipped`, bytes.byteLength - victim.position);
        withoutRoot(root);
      }
    }
  });

  it('a flipped bit in an early segment cuts the log there under full recovery, dropping later segments', async () => {
    const rng = new SeededRandom(SEED + 2);
    const victims = template.batches.filter((batch) => batch.segmentBase === template.segmentBases[1]);
    for (let flip = 0; flip < 10; flip++) {
      const victim = victims[rng.below(victims.length)]!;
      const { root, partition } = copyTemplate();
      const file = segmentPath(partition, victim.segmentBase, '.log');
      const bytes = readFileSync(file);
      flipBit(bytes, victim.position + 21 + rng.below(victim.bytes.byteLength - 21), rng.below(8));
      writeFileSync(file, bytes);
      await reopenAndCheck(root, 'unclean, full recovery', template.batches.filter((batch) => batch.base < victim.base), `batch ${victim.base} in segment ${victim.segmentBase} flipped`);
      // The segments after the corrupt one are gone (one may have been rolled at the new end).
      const left = readdirSync(partition).filter((name) => name.endsWith('.log')).map((name) => Number(name.slice(0, 20)));
      expect(Math.max(...left), `segments after the corrupt one are deleted ${replay}`).toBeLessThanOrEqual(victim.base);
      withoutRoot(root);
    }
  });

  it('a zero-filled tail (a preallocated file after a crash) is cut off', async () => {
    const tail = tailBatches();
    const lastLog = (partition: string): string => segmentPath(partition, lastSegmentBase(), '.log');
    const modes: OpenMode[] = ['unclean, checkpointed recovery point', 'unclean, full recovery'];
    for (const mode of modes) {
      // 4 KiB of zeros after the last batch.
      let { root, partition } = copyTemplate();
      const size = statSync(lastLog(partition)).size;
      truncateSync(lastLog(partition), size + 4096);
      await reopenAndCheck(root, mode, template.batches, `4 KiB of zeros after the last batch`, 4096);
      withoutRoot(root);
      // A torn last batch followed by zeros up to a preallocation boundary. (When the bytes
      // lost were zeros anyway, the batch is whole again and stays.)
      const lastBatch = tail.at(-1)!;
      for (const into of [1, 20, 61, lastBatch.bytes.byteLength - 2, lastBatch.bytes.byteLength - 1]) {
        ({ root, partition } = copyTemplate());
        const cut = lastBatch.position + into;
        truncateSync(lastLog(partition), cut);
        truncateSync(lastLog(partition), cut + 4096);
        const restored = lastBatch.bytes.subarray(into).every((byte) => byte === 0);
        const expected = restored ? template.batches : template.batches.slice(0, -1);
        const cutBytes = restored ? 4096 - (lastBatch.bytes.byteLength - into) : into + 4096;
        await reopenAndCheck(root, mode, expected, `last batch torn ${into} bytes in, then zeros`, cutBytes);
        withoutRoot(root);
      }
      // The whole last segment zeroed, same size.
      ({ root, partition } = copyTemplate());
      writeFileSync(lastLog(partition), new Uint8Array(size));
      await reopenAndCheck(root, mode, template.batches.filter((batch) => batch.segmentBase < lastSegmentBase()), 'last segment all zeros', size);
      withoutRoot(root);
      // A new segment file rolled just before the crash: empty, or zeros.
      for (const bytes of [0, 4096]) {
        ({ root, partition } = copyTemplate());
        const end = template.batches.at(-1)!.last + 1;
        writeFileSync(segmentPath(partition, end, '.log'), new Uint8Array(bytes));
        await reopenAndCheck(root, mode, template.batches, `an extra segment at the log end holding ${bytes} zero bytes`, bytes);
        withoutRoot(root);
      }
    }
  });

  describe('index files damaged under a clean-shutdown marker (loaded, not rebuilt)', () => {
    const targets = (): { name: string; base: number }[] => [
      { name: 'a middle segment', base: template.segmentBases[1]! },
      { name: 'the last segment', base: lastSegmentBase() },
    ];

    async function damaged(base: number, suffix: '.index' | '.timeindex', damage: (bytes: Buffer) => Buffer | undefined, what: string): Promise<void> {
      const { root, partition } = copyTemplate();
      const file = segmentPath(partition, base, suffix);
      const replaced = damage(readFileSync(file));
      if (replaced === undefined) unlinkSync(file);
      else writeFileSync(file, replaced);
      await reopenAndCheck(root, 'clean', template.batches, what, 0);
      // The index files left behind are whole again: a second clean open loads them as they are.
      await reopenAndCheck(root, 'clean', [...template.batches, appendedAfter(template.batches)], `${what}, reopened`, 0);
      withoutRoot(root);
    }

    it('an index truncated at every byte, or deleted, still gives right lookups and reads', async () => {
      for (const { name, base } of targets()) {
        for (const suffix of ['.index', '.timeindex'] as const) {
          const size = statSync(segmentPath(path.join(template.root, `${TOPIC}-0`), base, suffix)).size;
          expect(size, `${suffix} of ${name} has entries`).toBeGreaterThan(12);
          for (let cut = 0; cut < size; cut++) {
            await damaged(base, suffix, (bytes) => bytes.subarray(0, cut), `${suffix} of ${name} cut at ${cut} of ${size}`);
          }
          await damaged(base, suffix, () => undefined, `${suffix} of ${name} deleted`);
        }
      }
    });

    it('garbage, zeros and flipped bits in an index are detected or harmless', async () => {
      const rng = new SeededRandom(SEED + 3);
      for (const { name, base } of targets()) {
        for (const suffix of ['.index', '.timeindex'] as const) {
          const entryBytes = suffix === '.index' ? 8 : 12;
          for (let trial = 0; trial < 12; trial++) {
            // Random bytes over a run of whole entries.
            await damaged(base, suffix, (bytes) => {
              const entries = bytes.byteLength / entryBytes;
              const first = rng.below(entries);
              const count = 1 + rng.below(Math.min(3, entries - first));
              bytes.set(fillerBytes(count * entryBytes, rng.nextUint32()), first * entryBytes);
              return bytes;
            }, `${suffix} of ${name}: garbage over entries (trial ${trial})`);
          }
          // Zeros: the file kept its size but lost its content.
          await damaged(base, suffix, (bytes) => Buffer.alloc(bytes.byteLength), `${suffix} of ${name} zeroed`);
          // Extra zero entries at the end, as a file extended but never written.
          await damaged(base, suffix, (bytes) => Buffer.concat([bytes, Buffer.alloc(entryBytes * 2)]), `${suffix} of ${name} with zero entries appended`);
        }
        // Single flipped bits in the offset index: each entry, each field, low and high bits.
        const index = readFileSync(segmentPath(path.join(template.root, `${TOPIC}-0`), base, '.index'));
        for (let entry = 0; entry < index.byteLength / 8; entry++) {
          for (const [field, bit] of [[0, 0], [0, 1], [0, 4], [4, 0], [4, 2], [4, 5], [4, 9], [0, 30]] as const) {
            const byte = entry * 8 + field + 3 - Math.floor(bit / 8);
            await damaged(base, '.index', (bytes) => {
              flipBit(bytes, byte, bit % 8);
              return bytes;
            }, `.index of ${name}: entry ${entry}, ${field === 0 ? 'relative offset' : 'position'} bit ${bit} flipped`);
          }
        }
        // The last time index entry pointing at another batch, or holding another timestamp.
        const timeIndex = readFileSync(segmentPath(path.join(template.root, `${TOPIC}-0`), base, '.timeindex'));
        const last = timeIndex.byteLength - 12;
        for (const [what, change] of [
          ['timestamp - 1', (bytes: Buffer) => bytes.writeBigInt64BE(bytes.readBigInt64BE(last) - 1n, last)],
          ['timestamp + 1', (bytes: Buffer) => bytes.writeBigInt64BE(bytes.readBigInt64BE(last) + 1n, last)],
          ['relative offset + 1', (bytes: Buffer) => bytes.writeUInt32BE(bytes.readUInt32BE(last + 8) + 1, last + 8)],
        ] as const) {
          await damaged(base, '.timeindex', (bytes) => (change(bytes), bytes), `.timeindex of ${name}: last entry ${what}`);
        }
      }
    });
  });

  describe('leftovers of a compaction cut short', () => {
    it('a .log.cleaned is discarded and the segment kept as it was', async () => {
      for (const mode of ['clean', 'unclean, checkpointed recovery point', 'unclean, full recovery'] as const) {
        const { root, partition } = copyTemplate();
        const base = template.segmentBases[1]!;
        writeFileSync(`${segmentPath(partition, base, '.log')}.cleaned`, fillerBytes(700, base));
        writeFileSync(`${segmentPath(partition, base, '.index')}.tmp`, fillerBytes(13, base));
        await reopenAndCheck(root, mode, template.batches, `.log.cleaned left over (${mode})`, 0);
        const left = readdirSync(partition);
        expect(left.filter((name) => name.endsWith('.cleaned') || name.endsWith('.tmp')), 'leftovers deleted').toEqual([]);
        withoutRoot(root);
      }
    });

    it('a .log.swap completes the swap: the cleaned segment replaces the old one, its stale indexes are not used', async () => {
      for (const mode of ['clean', 'unclean, checkpointed recovery point', 'unclean, full recovery'] as const) {
        for (const segmentIndex of [0, 1]) {
          const { root, partition } = copyTemplate();
          const base = template.segmentBases[segmentIndex]!;
          // "Compaction" output: every other batch of the segment, offsets unchanged (gaps).
          const inSegment = template.batches.filter((batch) => batch.segmentBase === base);
          const kept = inSegment.filter((_, i) => i % 2 === 0);
          writeFileSync(`${segmentPath(partition, base, '.log')}.swap`, Buffer.concat(kept.map((batch) => batch.bytes)));
          // And a .cleaned of the next segment, not yet renamed: discarded.
          writeFileSync(`${segmentPath(partition, template.segmentBases[segmentIndex + 1]!, '.log')}.cleaned`, fillerBytes(300, 1));
          const opened = open(root, mode);
          const expected = template.batches.filter((batch) => batch.segmentBase !== base || kept.includes(batch));
          const end = template.batches.at(-1)!.last + 1;
          // Read through: the dropped batches are gaps a fetch skips over.
          const parts: Uint8Array[] = [];
          for (let offset = 0; offset < end; ) {
            const read = opened.log.read(offset, 700, end);
            parseBatches(read.bytes);
            parts.push(read.bytes);
            offset = read.nextOffset;
          }
          expect(same(Buffer.concat(parts), Buffer.concat(expected.map((batch) => batch.bytes))), `swapped segment ${base} read back (${mode}) ${replay}`).toBe(true);
          // An offset that was dropped reads as the next batch kept.
          for (const dropped of inSegment.filter((batch) => !kept.includes(batch))) {
            const next = expected.find((batch) => batch.base > dropped.base)!;
            expect(opened.log.read(dropped.base, 1, end).firstOffset, `read of dropped offset ${dropped.base} (${mode})`).toBe(next.base);
          }
          expect(opened.log.logEndOffset).toBe(end);
          expect(readdirSync(partition).filter((name) => name.endsWith('.swap') || name.endsWith('.cleaned'))).toEqual([]);
          await opened.close();
          withoutRoot(root);
        }
      }
    });

    it('index files whose segment is gone are deleted; stray files do not stop the open', async () => {
      const { root, partition } = copyTemplate();
      const end = template.batches.at(-1)!.last + 1;
      writeFileSync(segmentPath(partition, end + 500, '.index'), fillerBytes(16, 2));
      writeFileSync(segmentPath(partition, end + 500, '.timeindex'), fillerBytes(24, 3));
      writeFileSync(path.join(partition, 'notes.txt'), 'not a segment');
      await reopenAndCheck(root, 'unclean, checkpointed recovery point', template.batches, 'orphan index files', 0);
      expect(existsSync(segmentPath(partition, end + 500, '.index'))).toBe(false);
      expect(existsSync(segmentPath(partition, end + 500, '.timeindex'))).toBe(false);
      withoutRoot(root);
    });
  });
});

/** The batch checkLog appends, as the next open sees it (offsets only; bytes are not compared). */
function appendedAfter(batches: readonly StoredBatch[]): StoredBatch {
  const end = batches.at(-1)!.last + 1;
  const bytes = buildBatch([{ key: null, value: fillerBytes(50, end) }], { baseTimestamp: START_MS + 999_000, baseOffset: end });
  return { base: end, last: end, bytes, maxTimestamp: START_MS + 999_000, segmentBase: -1, position: -1 };
}
