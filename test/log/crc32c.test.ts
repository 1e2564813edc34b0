import { crc32c as nodeRsCrc32c } from '@node-rs/crc32';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cImplementation, nodeRsCrc32cOf } from '../../src/log/crc32c.js';

const ADDON = new URL('../../native/build/Release/samsa_native.node', import.meta.url).pathname;
const reference = (bytes: Uint8Array, start: number, length: number): number => nodeRsCrc32c(Buffer.from(bytes.buffer, bytes.byteOffset + start, length)) >>> 0;

function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state;
  }
  return bytes;
}

describe('crc32c', () => {
  it('uses the addon where it was built (npm install builds it with node-gyp)', () => {
    // Where the build failed (no compiler), @node-rs/crc32 is the documented fallback.
    if (existsSync(ADDON) && process.env.SAMSA_NATIVE !== 'off') expect(crc32cImplementation).not.toBe('@node-rs/crc32');
    expect(crc32c(new TextEncoder().encode('123456789'), 0, 9)).toBe(0xe3069283);
  });

  it('matches @node-rs/crc32 for every length up to 1100 and every start alignment', () => {
    const bytes = randomBytes(1200, 7);
    for (let length = 0; length <= 1100; length++) {
      for (let start = 0; start < 8; start += 3) expect(crc32c(bytes, start, length), `length ${length}, start ${start}`).toBe(reference(bytes, start, length));
    }
  });

  it('matches @node-rs/crc32 on random ranges of up to 256 KiB, also inside a larger buffer', () => {
    const bytes = randomBytes(300_000, 11);
    const view = new Uint8Array(bytes.buffer, 13, bytes.byteLength - 13);
    fc.assert(
      fc.property(fc.nat(view.byteLength - 1), fc.nat(256 * 1024), (start, size) => {
        const length = Math.min(size, view.byteLength - start);
        expect(crc32c(view, start, length)).toBe(reference(view, start, length));
      }),
      { numRuns: 300 },
    );
  });

  it('the fallback gives the same values', () => {
    const bytes = randomBytes(20_000, 3);
    for (const [start, length] of [[0, 0], [21, 16363], [5, 4096], [1, 19_999]] as const) expect(nodeRsCrc32cOf(bytes, start, length)).toBe(crc32c(bytes, start, length));
  });

  // This CPU may take the AVX-512 path; SAMSA_CRC32C caps the addon to each slower path in turn.
  for (const path of ['avx2', 'sse4.2', 'software']) {
    it(`the addon's ${path} path matches @node-rs/crc32 (child process with SAMSA_CRC32C=${path})`, () => {
      if (!existsSync(ADDON)) return;
      const script = `
        const require = (await import('node:module')).createRequire(${JSON.stringify(import.meta.url)});
        const addon = require(${JSON.stringify(ADDON)});
        const { crc32c } = require('@node-rs/crc32');
        const bytes = new Uint8Array(70000).map((_, i) => (i * 2654435761) >>> 24);
        const lengths = [...Array(1100).keys(), 4096, 16363, 65536, 69990];
        let bad = 0;
        for (const length of lengths) for (const start of [0, 1, 7]) {
          if (addon.crc32c(bytes, start, length) !== crc32c(Buffer.from(bytes.buffer, start, length)) >>> 0) bad++;
        }
        console.log(JSON.stringify({ implementation: addon.crc32cImplementation, bad }));`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, SAMSA_CRC32C: path }, encoding: 'utf8' });
      expect(child.stderr).toBe('');
      const result = JSON.parse(child.stdout) as { implementation: string; bad: number };
      expect(result.bad).toBe(0);
      if (path === 'software') expect(result.implementation).toBe('software');
    });
  }

  it('the addon refuses ranges outside the array and non-Uint8Array arguments', () => {
    if (!existsSync(ADDON)) return;
    const addon = createRequire(import.meta.url)(ADDON) as { crc32c: (bytes: unknown, start: number, length: number) => number };
    const bytes = new Uint8Array(100);
    expect(() => addon.crc32c(bytes, 50, 51)).toThrow(RangeError);
    expect(() => addon.crc32c(bytes, -1, 10)).toThrow(RangeError);
    expect(() => addon.crc32c(bytes, 1.5, 10)).toThrow(RangeError);
    expect(() => addon.crc32c(bytes, Number.NaN, 10)).toThrow(RangeError);
    expect(() => addon.crc32c(new Uint16Array(10), 0, 2)).toThrow(TypeError);
    expect(addon.crc32c(bytes.subarray(10), 0, 90)).toBe(reference(bytes, 10, 90));
  });
});
