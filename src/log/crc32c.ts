/**
 * CRC-32C (Castagnoli), the checksum of every record batch, at memory speed.
 *
 * The append path checks the CRC of every byte it writes, so the checksum's speed bounds the
 * log's: `@node-rs/crc32` does 3-5 GB/s (~5 µs per 16 KiB batch, as much as the write itself),
 * the native addon (native/crc32c.c) 15-45 GB/s by folding with carry-less multiplication
 * (PCLMULQDQ, or VPCLMULQDQ on 256- or 512-bit registers). Where the addon is missing, fails its self-check, or
 * has only its table code (a CPU without those instructions), `@node-rs/crc32` is used.
 *
 * `crc32c(bytes, start, length)` takes a range instead of a subarray, so a check costs no
 * allocation.
 */
import { crc32c as nodeRsCrc32c } from '@node-rs/crc32';
import { nativeAddon, type NativeAddon } from './native-addon.js';

export type Crc32c = (bytes: Uint8Array, start: number, length: number) => number;

/** The CRC-32C of bytes[start, start + length) with @node-rs/crc32 (unsigned). */
export function nodeRsCrc32cOf(bytes: Uint8Array, start: number, length: number): number {
  return nodeRsCrc32c(Buffer.from(bytes.buffer, bytes.byteOffset + start, length)) >>> 0;
}

/** The addon's CRC, if it is there, fast, and right: a wrong checksum would refuse every produce. */
function nativeCrc32c(addon: NativeAddon | undefined): Crc32c | undefined {
  if (!addon || addon.crc32cImplementation === 'software') return undefined;
  const sample = new Uint8Array(1021).map((_, i) => (i * 131 + 7) & 0xff);
  const check = new TextEncoder().encode('123456789');
  if (addon.crc32c(check, 0, 9) !== 0xe3069283 || addon.crc32c(sample, 3, 1013) !== nodeRsCrc32cOf(sample, 3, 1013)) return undefined;
  return addon.crc32c;
}

const native = nativeCrc32c(nativeAddon);

/** The CRC-32C of bytes[start, start + length), unsigned. */
export const crc32c: Crc32c = native ?? nodeRsCrc32cOf;

/** Which code computes it: the addon's ('avx512-vpclmulqdq', 'avx2-vpclmulqdq', 'sse4.2-pclmulqdq') or '@node-rs/crc32'. */
export const crc32cImplementation: string = native ? nativeAddon!.crc32cImplementation : '@node-rs/crc32';
