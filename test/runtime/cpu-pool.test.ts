import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CodecError } from '../../src/runtime/codecs.js';
import { CpuPool, CpuPoolBusyError, CpuPoolClosedError } from '../../src/runtime/cpu-pool.js';
import { SeededRandom } from '../../src/runtime/prng.js';

const SEED = 0x5a175a;
const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * Random bytes from a 32-symbol alphabet: random enough that any mix-up shows, yet compressible,
 * so deflate emits real Huffman blocks instead of storing the input verbatim.
 */
function randomBytes(size: number, random = new SeededRandom(SEED + size)): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = 0x40 + random.below(32);
  return bytes;
}

function sameBytes(actual: Uint8Array, expected: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), Buffer.from(expected)) === 0;
}

async function expectCodecError(promise: Promise<unknown>, code: CodecError['code']): Promise<CodecError> {
  const error = await promise.then(
    () => expect.fail(`expected a CodecError ${code}`),
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(CodecError);
  expect((error as CodecError).code).toBe(code);
  return error as CodecError;
}

const pool = new CpuPool();
afterAll(() => pool.close());

describe('CpuPool gzip', () => {
  it.each([
    { size: 0, path: 'inline' },
    { size: 1000, path: 'inline' },
    { size: 16 * KIB, path: 'inline' },
    { size: 16 * KIB + 1, path: 'pool' },
    { size: MIB, path: 'pool' },
  ])('round-trips $size random bytes ($path)', async ({ size, path }) => {
    const original = randomBytes(size);
    const input = original.slice();
    const before = pool.counters;
    const compressed = await pool.compress('gzip', input);
    const after = pool.counters;
    if (path === 'inline') expect(after.inlineTasks).toBe(before.inlineTasks + 1);
    else expect(after.pooledTasks).toBe(before.pooledTasks + 1);
    // The pool took ownership of a whole-buffer input instead of copying it.
    if (path === 'pool') expect(input.byteLength).toBe(0);

    // Independent check: plain zlib reads what the pool wrote.
    expect(sameBytes(zlib.gunzipSync(compressed), original)).toBe(true);
    const restored = await pool.decompress('gzip', compressed, size);
    expect(sameBytes(restored, original)).toBe(true);
  });

  it('returns plain Uint8Arrays from both paths, and refuses bytes it already took', async () => {
    const inline = await pool.compress('gzip', randomBytes(100));
    const input = randomBytes(MIB);
    const pooled = await pool.compress('gzip', input);
    expect(Object.getPrototypeOf(inline)).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf(pooled)).toBe(Uint8Array.prototype);
    await expect(pool.compress('gzip', input)).rejects.toThrow(/detached/);
  });

  it('copies, rather than detaches, an input that shares its buffer', async () => {
    const whole = randomBytes(2 * MIB);
    const view = whole.subarray(MIB / 2, MIB / 2 + MIB);
    const compressed = await pool.compress('gzip', view);
    expect(view.byteLength).toBe(MIB);
    expect(whole.byteLength).toBe(2 * MIB);
    expect(sameBytes(zlib.gunzipSync(compressed), view)).toBe(true);
  });

  it('rejects output beyond maxOutputBytes, inline and in the pool', async () => {
    const small = zlib.gzipSync(randomBytes(1000));
    await expectCodecError(pool.decompress('gzip', small, 999), 'OUTPUT_TOO_LARGE');
    await expectCodecError(pool.decompress('gzip', small, 0), 'OUTPUT_TOO_LARGE');
    const before = pool.counters.pooledTasks;
    // A small bomb: 4 MiB of zeros deflates to about 4 KiB.
    const bomb = zlib.gzipSync(new Uint8Array(4 * MIB));
    await expectCodecError(pool.decompress('gzip', bomb, MIB), 'OUTPUT_TOO_LARGE');
    expect(pool.counters.pooledTasks).toBe(before + 1);
  });

  it('reports corrupt input with its code, inline and in the pool', async () => {
    await expectCodecError(pool.decompress('gzip', new TextEncoder().encode('not gzip'), 1000), 'CORRUPT_INPUT');
    await expectCodecError(pool.decompress('gzip', randomBytes(100 * KIB), MIB), 'CORRUPT_INPUT');
    await expectCodecError(pool.decompress('gzip', new Uint8Array(0), 1000), 'CORRUPT_INPUT');
  });

  it('completes a burst of 200 concurrent 64 KiB compressions', async () => {
    const random = new SeededRandom(SEED);
    const originals = Array.from({ length: 200 }, () => randomBytes(64 * KIB, random));
    const compressed = await Promise.all(originals.map((original) => pool.compress('gzip', original.slice())));
    compressed.forEach((bytes, index) => expect(sameBytes(zlib.gunzipSync(bytes), originals[index]!)).toBe(true));
  });
});

describe('CpuPool zstd', () => {
  it.each([100, MIB])(`round-trips %i bytes inline and in the pool's workers (Node ${process.version})`, async (size) => {
    const original = randomBytes(size);
    const compressed = await pool.compress('zstd', original.slice());
    // Each call may take ownership of its input, so each gets its own copy.
    const restored = await pool.decompress('zstd', compressed.slice(), size);
    expect(sameBytes(restored, original)).toBe(true);
    await expectCodecError(pool.decompress('zstd', compressed.slice(), size - 1), 'OUTPUT_TOO_LARGE');
    await expectCodecError(pool.decompress('zstd', original.slice(), 10 * MIB), 'CORRUPT_INPUT');
  });
});

describe('CpuPool bounds', () => {
  it('refuses work beyond its queue with CpuPoolBusyError, and all admitted work completes', async () => {
    const tiny = new CpuPool({ threadsMax: 1, queuedTasksMax: 2 });
    try {
      const originals = Array.from({ length: 6 }, (_, index) => randomBytes(MIB, new SeededRandom(index)));
      const results = await Promise.allSettled(originals.map((original) => tiny.compress('gzip', original.slice())));
      // One running plus two queued are admitted; the rest are refused at once.
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
      results.forEach((result, index) => {
        if (result.status === 'fulfilled') expect(sameBytes(zlib.gunzipSync(result.value), originals[index]!)).toBe(true);
        else expect(result.reason).toBeInstanceOf(CpuPoolBusyError);
      });
    } finally {
      await tiny.close();
    }
  });

  it('refuses work after close', async () => {
    const closing = new CpuPool({ threadsMax: 1 });
    await closing.close();
    await expect(closing.compress('gzip', new Uint8Array(10))).rejects.toBeInstanceOf(CpuPoolClosedError);
  });
});
