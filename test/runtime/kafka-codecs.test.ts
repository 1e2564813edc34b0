/**
 * snappy (raw and xerial-framed) and lz4 (frames) as Kafka clients write them: round trips,
 * agreement both ways with kafka-python's codecs (python3-snappy and python3-lz4 underneath: an
 * implementation independent of ours, run by /usr/bin/python3 as the interop tests run it), the
 * output bound checked before inflating, and corrupt input answered as CORRUPT_INPUT.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compressBytes, decompressBytes, type CompressionCodec } from '../../src/runtime/codecs.js';
import { lz4OutputEstimate } from '../../src/runtime/lz4-codec.js';
import { codecError, kafkaPythonCodec as python, PYTHON } from './kafka-python-codec.js';

const CODECS = ['snappy', 'lz4'] as const;

/** Text that compresses but not trivially: words from a small vocabulary. */
function sample(bytes: number, seed = 7): Uint8Array {
  const words = ['orders', 'payments', 'kafka', 'samsa', 'broker', 'offset', 'record', '{"id":', '},'];
  const parts: string[] = [];
  let state = seed;
  let length = 0;
  while (length < bytes) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const word = words[state % words.length]!;
    parts.push(word);
    length += word.length + 1;
  }
  return Buffer.from(parts.join(' ').slice(0, bytes));
}

describe.each(CODECS)('%s', (codec: CompressionCodec) => {
  it('round-trips empty, small and multi-block inputs', () => {
    for (const size of [0, 1, 1000, 100_000, 1_000_000]) {
      const input = sample(size);
      const compressed = compressBytes(codec, input);
      if (size >= 1000) expect(compressed.byteLength, `${size} bytes`).toBeLessThan(size);
      expect(Buffer.from(decompressBytes(codec, compressed, size))).toEqual(Buffer.from(input));
    }
  });

  it('reads what kafka-python writes, and kafka-python reads what it writes', () => {
    const input = sample(300_000, 11);
    const encodings = codec === 'snappy' ? [python('snappy_encode', input, ', xerial_compatible=True'), python('snappy_encode', input, ', xerial_compatible=False')] : [python('lz4_encode', input)];
    for (const encoded of encodings) expect(Buffer.from(decompressBytes(codec, encoded, input.byteLength))).toEqual(Buffer.from(input));
    expect(python(codec === 'snappy' ? 'snappy_decode' : 'lz4_decode', compressBytes(codec, input))).toEqual(Buffer.from(input));
  });

  it('refuses output above the bound, and an input whose headers say so before inflating it', () => {
    const zeros = new Uint8Array(1_000_000);
    const compressed = compressBytes(codec, zeros);
    expect(compressed.byteLength).toBeLessThan(60_000);
    expect(codecError(() => decompressBytes(codec, compressed, 999_999)).code).toBe('OUTPUT_TOO_LARGE');
    expect(decompressBytes(codec, compressed, 1_000_000).byteLength).toBe(1_000_000);
    // Far below: refused from the headers (snappy's declared lengths, lz4's blocks).
    expect(codecError(() => decompressBytes(codec, compressed, 100_000)).message).toMatch(/exceeds maxOutputBytes \(100000\)/);
  });

  it('answers garbage and cut input with CORRUPT_INPUT', () => {
    const compressed = compressBytes(codec, sample(100_000));
    const garbage = Buffer.from('definitely not compressed, but long enough to have a header'.repeat(3));
    for (const input of [garbage, compressed.subarray(0, compressed.byteLength - 7), compressed.subarray(0, 20)]) {
      expect(codecError(() => decompressBytes(codec, input, 1 << 20)).code).toBe('CORRUPT_INPUT');
    }
  });
});

describe('snappy framing', () => {
  it('reads a raw block and xerial blocks alike, and refuses a block that overruns the input', () => {
    const input = sample(70_000);
    const raw = python('snappy_encode', input, ', xerial_compatible=False');
    const xerial = python('snappy_encode', input, ', xerial_compatible=True');
    expect(xerial.subarray(0, 8)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
    expect(raw.subarray(0, 8)).not.toEqual(xerial.subarray(0, 8));
    const overrun = Buffer.from(xerial);
    overrun.writeInt32BE(overrun.byteLength, 16);
    expect(codecError(() => decompressBytes('snappy', overrun, 1 << 20)).code).toBe('CORRUPT_INPUT');
    // Each xerial block's declared size counts against the bound as the blocks are read.
    expect(codecError(() => decompressBytes('snappy', xerial, 69_999)).code).toBe('OUTPUT_TOO_LARGE');
  });
});

describe('lz4 frame estimate', () => {
  it('is the declared content size when the frame has one, else full blocks but the last', () => {
    const input = sample(200_000);
    const declared = python('lz4_encode', input);
    // kafka-python (python-lz4) declares the content size, and writes 64 KiB blocks (BD 0x40).
    expect([declared[4]! & 0x08, declared[5]]).toEqual([0x08, 0x40]);
    expect(lz4OutputEstimate(declared)).toEqual({ estimate: 3 * 64 * 1024, declared: 200_000 });
    // The same frame without the content size (flag cleared, its 8 bytes cut; the header
    // checksum is not what is tested here): three full blocks and a last one that need not be.
    const undeclared = Buffer.concat([declared.subarray(0, 4), Buffer.from([declared[4]! & ~0x08, declared[5]!]), declared.subarray(14)]);
    expect(lz4OutputEstimate(undeclared)).toEqual({ estimate: 3 * 64 * 1024, declared: 0 });
    // Two such frames: the first one's last block counts as full.
    expect(lz4OutputEstimate(Buffer.concat([undeclared, undeclared]))).toEqual({ estimate: 7 * 64 * 1024, declared: 0 });
  });
});

describe('lz4 bound against a lying frame', () => {
  it('does not trust a small declared content size: 64 MiB of zeros in 4 MiB blocks claiming 1 byte is refused unread', () => {
    const python = spawnSync(PYTHON, ['-c', [
      'import sys, lz4.frame',
      // 4 MiB blocks (BLOCKSIZE_MAX4MB), content size stored (then overwritten below).
      "sys.stdout.buffer.write(lz4.frame.compress(bytes(64 << 20), block_size=lz4.frame.BLOCKSIZE_MAX4MB, store_size=True))",
    ].join('\n')], { maxBuffer: 64 << 20 });
    expect(python.status, python.stderr.toString()).toBe(0);
    const bomb = Buffer.from(python.stdout);
    expect(bomb[4]! & 0x08).toBe(0x08);
    bomb.writeBigUInt64LE(1n, 6); // declares 1 byte (its header checksum is now wrong too: the estimate refuses it before that matters)
    expect(lz4OutputEstimate(bomb)).toEqual({ estimate: 15 * 4 * 1024 * 1024, declared: 1 });
    const before = process.memoryUsage().rss;
    expect(codecError(() => decompressBytes('lz4', bomb, 1 << 20)).code).toBe('OUTPUT_TOO_LARGE');
    expect(process.memoryUsage().rss - before).toBeLessThan(32 << 20);
  });
});
