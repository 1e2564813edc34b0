/**
 * zstd as Kafka clients write it: RFC 8878 frames (librdkafka and kafka-python write one frame
 * that declares its content size; the Java client's streaming writer one that does not).
 *
 * Node's zlib has zstd from 22.15 and 23.8. On older Node (20) the `@toondepauw/node-zstd`
 * package does the same work (napi-rs over libzstd, binaries from npm), so compaction and
 * ListOffsets max timestamp read zstd batches on every Node Samsa runs on.
 *
 * Both paths first estimate the output from the frames' block headers: each raw or RLE block's
 * size, and the block maximum (the window, at most 128 KiB, which libzstd enforces) for each
 * compressed block but the very last of the input (writers fill every block but a frame's
 * last). A declared content size is never taken instead: streaming, libzstd checks it only at
 * the frame's end, after inflating every block (a frame declaring 1 MiB could hold gigabytes of
 * RLE blocks). A frame whose raw and RLE blocks alone pass its declared size, or whose blocks
 * cannot hold it, is corrupt; a declared size over the bound is refused at once. An input whose
 * estimate is over the bound is refused without inflating, and a malformed frame as corrupt,
 * whichever path runs. zlib then bounds its output itself; the package inflates a whole input
 * at once, so there the real output can exceed the estimate by one block (128 KiB) before the
 * caller's check of the output's size refuses it. Frames whose blocks are not full (several
 * frames, or a writer that splits blocks) are estimated high by up to a block each: Kafka
 * clients write one frame per batch, in full blocks.
 *
 *   frame: magic 28 B5 2F FD | descriptor | [window] | [dictionary id] | [content size]
 *          blocks: header u24 LE (bit 0 last, bits 1-2 type: raw, RLE, compressed; size) | data
 *          [content checksum u32]
 * Skippable frames (magic 0x184D2A5?) are walked over; several frames may follow each other.
 */
import { kMaxLength } from 'node:buffer';
import zlib from 'node:zlib';
import { CodecError, lazyCodecPackage } from './codecs-errors.js';
import { FrameInput } from './frame-input.js';

const FRAME_MAGIC = 0xfd2fb528;
const BLOCK_MAX_BYTES = 128 * 1024;
const DICTIONARY_ID_BYTES = [0, 1, 2, 4];
const BLOCK_RAW = 0;
const BLOCK_RLE = 1;
const BLOCK_COMPRESSED = 2;

/** Kafka's default zstd level (compression.zstd.level), and zlib's. */
const LEVEL = 3;

function corrupt(detail: string): CodecError {
  return new CodecError('CORRUPT_INPUT', `zstd input is corrupt: ${detail}`);
}

function tooLarge(maxOutputBytes: number): CodecError {
  return new CodecError('OUTPUT_TOO_LARGE', `zstd output exceeds maxOutputBytes (${maxOutputBytes})`);
}

/** What the frames in `bytes` inflate to, as written by a Kafka client (see above), and the content sizes they declare; throws on a malformed frame. */
export function zstdOutputEstimate(bytes: Uint8Array): { estimate: number; declared: number } {
  const { estimate, declared } = walkFrames(bytes);
  return { estimate, declared };
}

/** The estimate (see above), and where each frame that holds data starts and ends (skippable frames left out). */
function walkFrames(bytes: Uint8Array): { estimate: number; declared: number; frames: [number, number][] } {
  const frames: [number, number][] = [];
  const input = new FrameInput(bytes, corrupt);
  const { view } = input;
  const need = input.need.bind(input);
  if (bytes.byteLength === 0) throw corrupt('no frame');
  let estimate = 0;
  let declared = 0;
  /** The block maximum of the last compressed block seen: it need not be full. */
  let lastCompressedBlockMax = 0;
  input.walk(FRAME_MAGIC, 'a zstd', (at) => {
    need(at + 4, 1, 'frame header');
    const descriptor = bytes[at + 4]!;
    if (descriptor & 0x08) throw corrupt('reserved bit set in the frame header');
    const singleSegment = (descriptor & 0x20) !== 0;
    let position = at + 5;
    let windowBytes = 0;
    if (!singleSegment) {
      need(position, 1, 'window descriptor');
      const window = bytes[position++]!;
      const base = 2 ** (10 + (window >> 3));
      windowBytes = base + (base / 8) * (window & 7);
    }
    position += DICTIONARY_ID_BYTES[descriptor & 3]!;
    const contentSizeFlag = descriptor >> 6;
    const contentSizeBytes = contentSizeFlag === 0 ? (singleSegment ? 1 : 0) : 2 ** contentSizeFlag;
    need(position, contentSizeBytes, 'content size');
    let contentSize: number | undefined;
    if (contentSizeBytes === 1) contentSize = bytes[position]!;
    else if (contentSizeBytes === 2) contentSize = view.getUint16(position, true) + 256;
    else if (contentSizeBytes === 4) contentSize = view.getUint32(position, true);
    else if (contentSizeBytes === 8) contentSize = Number(view.getBigUint64(position, true));
    position += contentSizeBytes;
    if (singleSegment) windowBytes = contentSize!;
    const blockMax = Math.min(windowBytes, BLOCK_MAX_BYTES);
    /** The frame's raw and RLE output (exact), and what its compressed blocks can hold at most. */
    let storedBytes = 0;
    let compressedBytesMax = 0;
    for (;;) {
      need(position, 3, 'block header');
      const header = bytes[position]! | (bytes[position + 1]! << 8) | (bytes[position + 2]! << 16);
      position += 3;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === BLOCK_RAW || type === BLOCK_RLE) {
        const stored = type === BLOCK_RAW ? size : 1;
        need(position, stored, 'block');
        if (size > blockMax) throw corrupt(`a block of ${size} bytes, over the frame's maximum ${blockMax}`);
        storedBytes += size;
        lastCompressedBlockMax = 0;
        position += stored;
      } else if (type === BLOCK_COMPRESSED) {
        need(position, size, 'block');
        compressedBytesMax += blockMax;
        lastCompressedBlockMax = blockMax;
        position += size;
      } else {
        throw corrupt('reserved block type');
      }
      if (header & 1) break;
    }
    if (descriptor & 0x04) position += 4; // content checksum (the walk checks the frame's end)
    if (contentSize !== undefined) {
      if (storedBytes > contentSize || contentSize > storedBytes + compressedBytesMax) {
        throw corrupt(`a frame declares ${contentSize} bytes, its blocks hold ${storedBytes} to ${storedBytes + compressedBytesMax}`);
      }
      declared += contentSize;
    }
    estimate += storedBytes + compressedBytesMax;
    frames.push([at, position]);
    return position;
  });
  return { estimate: estimate - lastCompressedBlockMax, declared, frames };
}

interface ZlibZstd {
  zstdCompressSync(input: Uint8Array): Buffer;
  zstdDecompressSync(input: Uint8Array, options: { maxOutputLength: number }): Buffer;
}

interface PackageZstd {
  Encoder: new (level: number) => { encodeSync(input: Buffer): Buffer };
  Decoder: new () => { decodeSync(input: Buffer): Buffer };
}

export type ZstdBackend = 'zlib' | 'package';

/** zlib where this Node has zstd (22.15+, 23.8+), else the package. */
export const zstdDefaultBackend: ZstdBackend = typeof (zlib as unknown as Partial<ZlibZstd>).zstdDecompressSync === 'function' ? 'zlib' : 'package';

const zstdPackage = lazyCodecPackage<PackageZstd>('@toondepauw/node-zstd', 'zstd');
let packageCodec: { encoder: { encodeSync(input: Buffer): Buffer }; decoder: { decodeSync(input: Buffer): Buffer } } | undefined;

function packageCoders(): NonNullable<typeof packageCodec> {
  if (!packageCodec) {
    const { Encoder, Decoder } = zstdPackage();
    packageCodec = { encoder: new Encoder(LEVEL), decoder: new Decoder() };
  }
  return packageCodec;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function zstdCompress(bytes: Uint8Array, backend: ZstdBackend = zstdDefaultBackend): Uint8Array {
  if (backend === 'zlib') return (zlib as unknown as ZlibZstd).zstdCompressSync(bytes);
  return packageCoders().encoder.encodeSync(asBuffer(bytes));
}

/** Inflates `bytes`, refusing to produce more than `maxOutputBytes` (checked again by the caller, codecs.ts). */
export function zstdDecompress(bytes: Uint8Array, maxOutputBytes: number, backend: ZstdBackend = zstdDefaultBackend): Uint8Array {
  const { estimate, declared, frames } = walkFrames(bytes);
  if (estimate > maxOutputBytes || declared > maxOutputBytes) throw tooLarge(maxOutputBytes);
  if (backend === 'zlib') {
    // zlib stops at the end of the first frame: one call per frame, each within what is left.
    const outputs: Buffer[] = [];
    let produced = 0;
    for (const [start, end] of frames) {
      // zlib rejects a limit of 0 or one above kMaxLength; the caller's length check keeps 0 exact.
      const maxOutputLength = Math.min(Math.max(maxOutputBytes - produced, 1), kMaxLength);
      let output: Buffer;
      try {
        output = (zlib as unknown as ZlibZstd).zstdDecompressSync(bytes.subarray(start, end), { maxOutputLength });
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxOutputBytes);
        throw corrupt((error as Error).message);
      }
      outputs.push(output);
      produced += output.byteLength;
      if (produced > maxOutputBytes) throw tooLarge(maxOutputBytes);
    }
    return outputs.length === 1 ? outputs[0]! : Buffer.concat(outputs, produced);
  }
  const decoder = packageCoders().decoder;
  try {
    return decoder.decodeSync(asBuffer(bytes));
  } catch (error) {
    throw corrupt((error as Error).message);
  }
}
