/**
 * LZ4 as Kafka clients write it: the LZ4 frame format (Kafka's KafkaLZ4BlockOutputStream,
 * librdkafka's lz4f), decoded and encoded by the `lz4-napi` package (napi-rs, binaries from npm;
 * lz4_flex). Compression writes independent blocks without checksums, as the Java client does,
 * of the size lz4_flex picks for the input (64 KiB to 4 MiB; every client reads each).
 *
 * The library inflates a whole frame at once, so the output is estimated before that from the
 * frames' block headers: each stored block's size and the block maximum for each compressed
 * block but the very last (writers fill every block but the last). An input whose estimate, or
 * whose declared content size, is over the bound is refused without inflating; otherwise the
 * real output can exceed the estimate by one block (4 MiB at most) before the caller's check of
 * the output's size refuses it. A declared content size is never trusted to be small: a client
 * can write any.
 *
 *   frame: magic 04 22 4D 18 | FLG | BD | [content size u64 LE] | [dict id u32] | header check
 *          blocks: size u32 LE (high bit: stored) | data | [block checksum u32]; size 0 ends
 *          [content checksum u32]
 * Skippable frames (magic 0x184D2A5?) are walked over; several frames may follow each other.
 */
import { CodecError, lazyCodecPackage } from './codecs-errors.js';
import { FrameInput } from './frame-input.js';

const FRAME_MAGIC = 0x184d2204;
const BLOCK_MAX_BYTES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

interface Lz4Bindings {
  compressFrameSync(input: Buffer, options?: { contentChecksum?: boolean; blockChecksums?: boolean }): Buffer;
  decompressFrameSync(input: Buffer): Buffer;
}

const lz4 = lazyCodecPackage<Lz4Bindings>('lz4-napi', 'lz4');

function corrupt(detail: string): CodecError {
  return new CodecError('CORRUPT_INPUT', `lz4 input is corrupt: ${detail}`);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** What the frames in `bytes` inflate to, as written by a Kafka client (see above), and the content sizes they declare; throws on a malformed frame. */
export function lz4OutputEstimate(bytes: Uint8Array): { estimate: number; declared: number } {
  const input = new FrameInput(bytes, corrupt);
  const { view } = input;
  const need = input.need.bind(input);
  let estimate = 0;
  let declared = 0;
  /** The block maximum of the last compressed block seen: it need not be full. */
  let lastCompressedBlockMax = 0;
  input.walk(FRAME_MAGIC, 'an LZ4', (at) => {
    need(at + 4, 3, 'frame header');
    const flags = bytes[at + 4]!;
    if (flags >> 6 !== 1) throw corrupt(`frame version ${flags >> 6}`);
    const blockMax = BLOCK_MAX_BYTES[(bytes[at + 5]! >> 4) & 7]!;
    if (blockMax === 0) throw corrupt('bad block maximum size');
    const blockChecksums = (flags & 0x10) !== 0;
    const hasContentSize = (flags & 0x08) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    let position = at + 6;
    let contentSize: number | undefined;
    if (hasContentSize) {
      need(position, 8, 'content size');
      contentSize = Number(view.getBigUint64(position, true));
      position += 8;
    }
    if (flags & 0x01) position += 4; // dictionary id
    position += 1; // header checksum
    let frameEstimate = 0;
    for (;;) {
      need(position, 4, 'block size');
      const word = view.getUint32(position, true);
      position += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      need(position, size, 'block');
      const stored = (word & 0x80000000) !== 0;
      frameEstimate += stored ? size : blockMax;
      lastCompressedBlockMax = stored ? 0 : blockMax;
      position += size + (blockChecksums ? 4 : 0);
    }
    if (contentChecksum) position += 4;
    declared += contentSize ?? 0;
    estimate += frameEstimate;
    return position;
  });
  return { estimate: estimate - lastCompressedBlockMax, declared };
}

export function lz4Decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  const { estimate, declared } = lz4OutputEstimate(bytes);
  if (estimate > maxOutputBytes || declared > maxOutputBytes) throw new CodecError('OUTPUT_TOO_LARGE', `lz4 output exceeds maxOutputBytes (${maxOutputBytes})`);
  try {
    return lz4().decompressFrameSync(asBuffer(bytes));
  } catch (error) {
    if (error instanceof CodecError) throw error;
    throw corrupt((error as Error).message);
  }
}

export function lz4Compress(bytes: Uint8Array): Uint8Array {
  return lz4().compressFrameSync(asBuffer(bytes), { contentChecksum: false, blockChecksums: false });
}
