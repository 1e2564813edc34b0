import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decompressBytes } from '../../src/runtime/codecs.js';
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
      // Full blocks but the last: the estimate is at most the output (a bound of exactly the
      // output is not refused), and at most a block below it (what the package may overshoot).
      const { estimate } = zstdOutputEstimate(compressed);
      expect(estimate).toBeLessThanOrEqual(size);
      expect(size).toBeLessThanOrEqual(estimate + 128 * 1024);
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
  });

  it('refuses a declared content size over the bound, and a frame that lies about it, before inflating', () => {
    // kafka-python's frame of 300,000 bytes: its last block need not be full, so the blocks are
    // estimated below that, but the size it declares is over a bound of one byte less.
    const original = textLike(300_000);
    const fromPython = kafkaPythonCodec('zstd_encode', original);
    expect(zstdOutputEstimate(fromPython).estimate).toBeLessThan(original.byteLength);
    expect(codecError(() => zstdDecompress(fromPython, original.byteLength - 1, backend)).code).toBe('OUTPUT_TOO_LARGE');
    const raw = new Uint8Array(randomBytes(1000));
    expect(Buffer.from(zstdDecompress(frameDeclaring(1000, raw), MIB, backend)).equals(Buffer.from(raw))).toBe(true);
    // Declares 10 bytes, holds 1000; declares 2 MiB, its one raw block holds 1000: the header
    // walk refuses both, whichever path would inflate.
    for (const liar of [frameDeclaring(10, raw), frameDeclaring(2 * MIB, raw)]) {
      expect(codecError(() => zstdOutputEstimate(liar)).code).toBe('CORRUPT_INPUT');
      expect(codecError(() => zstdDecompress(liar, MIB, backend)).code).toBe('CORRUPT_INPUT');
    }
  });

  it('does not take a declared content size as the bound: a frame declaring 1 MiB of 128 KiB RLE blocks', () => {
    // Streaming, libzstd compares a frame's output with its declared size only at the frame's
    // end: this frame would inflate 4 bytes into 128 KiB, ~32 GiB from 1 MiB of blocks, first.
    const blocks = 4096;
    const frame = Buffer.alloc(10 + 4 * blocks);
    frame.writeUInt32LE(0xfd2fb528, 0);
    frame[4] = 0x80; // a 4-byte content size, not single segment
    frame[5] = 0x38; // window 128 KiB
    frame.writeUInt32LE(MIB, 6);
    for (let i = 0; i < blocks; i++) {
      frame.writeUIntLE(((128 * 1024) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0), 10 + 4 * i, 3); // RLE
      frame[13 + 4 * i] = 0x61;
    }
    expect(codecError(() => zstdOutputEstimate(frame)).message).toMatch(/declares 1048576 bytes, its blocks hold 536870912/);
    expect(codecError(() => zstdDecompress(frame, 64 * MIB, backend)).code).toBe('CORRUPT_INPUT');
    // The same blocks without a declared size: estimated at 512 MiB, refused as too large.
    const undeclared = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]), frame.subarray(10)]);
    expect(zstdOutputEstimate(undeclared).estimate).toBe(512 * MIB);
    expect(codecError(() => zstdDecompress(undeclared, 64 * MIB, backend)).code).toBe('OUTPUT_TOO_LARGE');
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
    expect(codecError(() => zstdDecompress(damaged, MIB, backend)).code).toBe('CORRUPT_INPUT');
  });
});

it('zstd is there on every Node Samsa supports: zlib from 22.15, the package before', () => {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  expect(zstdDefaultBackend).toBe(major > 23 || (major === 23 && minor >= 8) || (major === 22 && minor >= 15) ? 'zlib' : 'package');
  const original = textLike(10_000);
  expect(Buffer.from(decompressBytes('zstd', zstdCompress(original), original.byteLength)).equals(Buffer.from(original))).toBe(true);
  // Through codecs.ts as the log calls it: the bound and corruption come out as CodecErrors.
  expect(codecError(() => decompressBytes('zstd', zstdCompress(original), original.byteLength - 1)).code).toBe('OUTPUT_TOO_LARGE');
  expect(codecError(() => decompressBytes('zstd', Buffer.from('not zstd'), MIB)).code).toBe('CORRUPT_INPUT');
});
