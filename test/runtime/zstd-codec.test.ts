import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CodecError, decompressBytes } from '../../src/runtime/codecs.js';
import { zstdCompress, zstdDecompress, zstdDefaultBackend, zstdOutputEstimate, type ZstdBackend } from '../../src/runtime/zstd-codec.js';
import { codecError, kafkaPythonCodec } from './kafka-python-codec.js';

const MIB = 1024 * 1024;
/** zlib has zstd from Node 22.15 / 23.8; the package runs everywhere. */
const BACKENDS: ZstdBackend[] = zstdDefaultBackend === 'zlib' ? ['zlib', 'package'] : ['package'];

/** Text-like bytes: compressible, as record batches are. */
function textLike(size: number): Uint8Array {
  const words = ['samsa', 'kafka', 'record', 'offset', 'partition', 'batch', 'leader', 'epoch'];
  let text = '';
  let i = 0;
  while (text.length < size) text += `${words[(i * 7919) % words.length]}-${i++} `;
  return new Uint8Array(Buffer.from(text.slice(0, size)));
}

/** A frame header with a content size of `declared` (4-byte field), then one raw block of `raw`. */
function frameDeclaring(declared: number, raw: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 1 + 1 + 4);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0x80; // content size field of 4 bytes, not single segment, no checksum, no dictionary
  header[5] = 0x58; // window 2 MiB
  header.writeUInt32LE(declared, 6);
  const blockHeader = Buffer.alloc(3);
  blockHeader.writeUIntLE(1 | (0 << 1) | (raw.byteLength << 3), 0, 3); // last, raw
  return Buffer.concat([header, blockHeader, raw]);
}

describe.each(BACKENDS)('zstd through %s', (backend) => {
  it.each([0, 1, 1000, 128 * 1024, 3 * MIB + 17])('round-trips %i bytes, compressible and random', (size) => {
    for (const original of [textLike(size), new Uint8Array(randomBytes(size))]) {
      const compressed = zstdCompress(original, backend);
      expect(Buffer.from(zstdDecompress(compressed, size, backend)).equals(Buffer.from(original))).toBe(true);
      // Full blocks but the last: the estimate is never below what the frame holds.
      expect(zstdOutputEstimate(compressed).estimate).toBeLessThanOrEqual(size);
    }
  });

  it("reads kafka-python's frames (zstandard, content size declared), and kafka-python reads this one's", () => {
    const original = textLike(300_000);
    const fromPython = kafkaPythonCodec('zstd_encode', original);
    expect(zstdOutputEstimate(fromPython).declared).toBe(original.byteLength);
    expect(Buffer.from(zstdDecompress(fromPython, original.byteLength, backend)).equals(Buffer.from(original))).toBe(true);
    expect(kafkaPythonCodec('zstd_decode', zstdCompress(original, backend)).equals(Buffer.from(original))).toBe(true);
  });

  it('reads frames one after another, and walks over skippable frames', () => {
    const a = textLike(5000);
    const b = new Uint8Array(randomBytes(700));
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a53, 0);
    skippable.writeUInt32LE(5, 4);
    const input = Buffer.concat([zstdCompress(a, backend), skippable, zstdCompress(b, backend)]);
    expect(Buffer.from(zstdDecompress(input, MIB, backend)).equals(Buffer.concat([a, b]))).toBe(true);
    // Frames that declare their sizes (kafka-python's) are estimated exactly, however many.
    const declaring = Buffer.concat([kafkaPythonCodec('zstd_encode', a), skippable, kafkaPythonCodec('zstd_encode', b)]);
    expect(zstdOutputEstimate(declaring)).toEqual({ estimate: 5700, declared: 5700 });
    expect(Buffer.from(zstdDecompress(declaring, 5700, backend)).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('refuses a bomb before inflating it: 256 MiB of zeros in a few kilobytes', () => {
    const bomb = zstdCompress(new Uint8Array(256 * MIB), 'package');
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    expect(zstdOutputEstimate(bomb).estimate).toBeGreaterThan(255 * MIB);
    expect(codecError(() => zstdDecompress(bomb, MIB, backend)).code).toBe('OUTPUT_TOO_LARGE');
    // Through codecs.ts as the log calls it, with the same answer.
    expect(codecError(() => decompressBytes('zstd', bomb, MIB)).code).toBe('OUTPUT_TOO_LARGE');
  });

  it('refuses a declared content size over the bound, and a frame that lies about it', () => {
    const raw = new Uint8Array(randomBytes(1000));
    expect(codecError(() => zstdDecompress(frameDeclaring(2 * MIB, raw), MIB, backend)).code).toBe('OUTPUT_TOO_LARGE');
    expect(Buffer.from(zstdDecompress(frameDeclaring(1000, raw), MIB, backend)).equals(Buffer.from(raw))).toBe(true);
    // Declares 10 bytes, holds 1000: libzstd refuses it, through either path.
    expect(() => decompressBytes('zstd', frameDeclaring(10, raw), MIB)).toThrow(CodecError);
  });

  it('says CORRUPT_INPUT for garbage, truncation, a reserved block type and an empty input', () => {
    const compressed = Buffer.from(zstdCompress(textLike(200_000), backend));
    const reservedType = Buffer.from(frameDeclaring(4, Uint8Array.of(1, 2, 3, 4)));
    reservedType[10] = (reservedType[10]! & ~0x06) | (3 << 1);
    for (const bad of [Buffer.from('not zstd at all'), compressed.subarray(0, compressed.byteLength - 5), compressed.subarray(0, 6), reservedType, Buffer.alloc(0)]) {
      const error = codecError(() => zstdDecompress(bad, MIB, backend));
      expect(error.code).toBe('CORRUPT_INPUT');
      expect(error.message).toMatch(/^zstd input is corrupt/);
    }
    // A block whose bytes are damaged passes the header walk; the library refuses it.
    const damaged = Buffer.from(compressed);
    for (let i = 20; i < 60; i++) damaged[i] = 0xff;
    expect(codecError(() => decompressBytes('zstd', damaged, MIB)).code).toBe('CORRUPT_INPUT');
  });
});

it('zstd is there on every Node Samsa supports: zlib from 22.15, the package before', () => {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  expect(zstdDefaultBackend).toBe(major > 23 || (major === 23 && minor >= 8) || (major === 22 && minor >= 15) ? 'zlib' : 'package');
  const original = textLike(10_000);
  expect(Buffer.from(decompressBytes('zstd', zstdCompress(original), original.byteLength)).equals(Buffer.from(original))).toBe(true);
});
