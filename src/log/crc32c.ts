/**
 * CRC-32C (Castagnoli), the checksum of every record batch, at memory speed.
 *
 * The append path checks the CRC of every byte it writes, so the checksum's speed bounds the
 * log's: `@node-rs/crc32` does 3-5 GB/s (~5 µs per 16 KiB batch, as much as the write itself),
 * our addon (native/crc32c, built by node-gyp at `npm install`) 15-45 GB/s by folding with
 * carry-less multiplication (PCLMULQDQ, or VPCLMULQDQ on AVX-512). Where the addon was not
 * built (no compiler) or does not load, `@node-rs/crc32` is used; SAMSA_CRC32C=node-rs forces
 * that, for tests of the fallback.
 *
 * `crc32c(bytes, start, length)` takes a range instead of a subarray, so a check costs no
 * allocation.
 */
import { crc32c as nodeRsCrc32c } from '@node-rs/crc32';
import { createRequire } from 'node:module';

interface Crc32cAddon {
  crc32c(bytes: Uint8Array, start: number, length: number): number;
  readonly implementation: string;
}

export type Crc32c = (bytes: Uint8Array, start: number, length: number) => number;

/** The CRC-32C of bytes[start, start + length) with @node-rs/crc32 (unsigned). */
export function nodeRsCrc32cOf(bytes: Uint8Array, start: number, length: number): number {
  return nodeRsCrc32c(Buffer.from(bytes.buffer, bytes.byteOffset + start, length)) >>> 0;
}

/** From src/log and from dist/src/log: the addon sits in native/crc32c/build under the package root. */
const ADDON_PATHS = ['../../native/crc32c/build/Release/samsa_crc32c.node', '../../../native/crc32c/build/Release/samsa_crc32c.node'];

function loadAddon(): Crc32cAddon | undefined {
  if (process.env.SAMSA_CRC32C === 'node-rs') return undefined;
  const require = createRequire(import.meta.url);
  for (const candidate of ADDON_PATHS) {
    let addon: Crc32cAddon;
    try {
      addon = require(candidate) as Crc32cAddon;
    } catch {
      continue;
    }
    // A wrong checksum would reject every produce: check the build before trusting it.
    const sample = new Uint8Array(1021).map((_, i) => (i * 131 + 7) & 0xff);
    const check = new TextEncoder().encode('123456789');
    if (addon.crc32c(check, 0, 9) !== 0xe3069283 || addon.crc32c(sample, 3, 1013) !== nodeRsCrc32cOf(sample, 3, 1013)) continue;
    // Without CRC instructions (another architecture) the addon's table code is slower than
    // @node-rs/crc32, which has its own paths for ARM.
    return addon.implementation === 'software' ? undefined : addon;
  }
  return undefined;
}

const addon = loadAddon();

/** The CRC-32C of bytes[start, start + length), unsigned. */
export const crc32c: Crc32c = addon ? addon.crc32c : nodeRsCrc32cOf;

/** Which code computes it: the addon's ('avx512-vpclmulqdq', 'sse4.2-pclmulqdq', 'software') or '@node-rs/crc32'. */
export const crc32cImplementation: string = addon ? addon.implementation : '@node-rs/crc32';
