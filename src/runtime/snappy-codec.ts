/**
 * Snappy as Kafka clients write it: either one raw snappy block (librdkafka, kafka-python) or
 * xerial's framing, which Kafka's Java client writes (SnappyOutputStream):
 *
 *   magic 82 'S' 'N' 'A' 'P' 'P' 'Y' 00 | version i32 BE | compatible version i32 BE
 *   then blocks: compressed length i32 BE | raw snappy block
 *
 * A raw block starts with its uncompressed length (a little-endian base-128 varint), so the
 * output size is known, and bounded, before anything is decompressed. Compression writes xerial
 * framing with 32 KiB blocks, as the Java client does; every client reads it.
 * The snappy blocks themselves come from the `snappy` package (napi-rs, binaries from npm).
 */
import { CodecError, lazyCodecPackage } from './codecs-errors.js';

const XERIAL_MAGIC = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00);
const XERIAL_HEADER_BYTES = 16;
/** SnappyOutputStream's default block: what the Java client writes. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

interface SnappyBindings {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer;
}

const snappy = lazyCodecPackage<SnappyBindings>('snappy', 'snappy');

function corrupt(detail: string): CodecError {
  return new CodecError('CORRUPT_INPUT', `snappy input is corrupt: ${detail}`);
}

function isXerial(bytes: Uint8Array): boolean {
  if (bytes.byteLength < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < XERIAL_MAGIC.byteLength; i++) if (bytes[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The uncompressed length a raw snappy block declares (its leading varint). */
function declaredLength(block: Uint8Array): number {
  let value = 0;
  for (let i = 0; i < 5 && i < block.byteLength; i++) {
    const byte = block[i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return value;
  }
  throw corrupt('bad block length');
}

/** One raw block, refused unasked when it declares more than the `room` left of `maxOutputBytes`. */
function rawBlock(block: Uint8Array, room: number, maxOutputBytes: number): Uint8Array {
  if (declaredLength(block) > room) throw new CodecError('OUTPUT_TOO_LARGE', `snappy output exceeds maxOutputBytes (${maxOutputBytes})`);
  try {
    return snappy().uncompressSync(block, { asBuffer: true });
  } catch (error) {
    if (error instanceof CodecError) throw error;
    throw corrupt((error as Error).message);
  }
}

export function snappyDecompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  if (!isXerial(bytes)) return rawBlock(bytes, maxOutputBytes, maxOutputBytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks: Uint8Array[] = [];
  let total = 0;
  for (let at = XERIAL_HEADER_BYTES; at < bytes.byteLength; ) {
    if (at + 4 > bytes.byteLength) throw corrupt('truncated block length');
    const length = view.getInt32(at);
    if (length < 0 || at + 4 + length > bytes.byteLength) throw corrupt(`block of ${length} bytes overruns the input`);
    const block = rawBlock(bytes.subarray(at + 4, at + 4 + length), maxOutputBytes - total, maxOutputBytes);
    total += block.byteLength;
    blocks.push(block);
    at += 4 + length;
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks, total);
}

export function snappyCompress(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [XERIAL_MAGIC, Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 1)];
  for (let at = 0; at < bytes.byteLength; at += XERIAL_BLOCK_BYTES) {
    const block = snappy().compressSync(bytes.subarray(at, Math.min(at + XERIAL_BLOCK_BYTES, bytes.byteLength)));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.byteLength);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}
