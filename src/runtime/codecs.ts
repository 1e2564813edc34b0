/**
 * Kafka's gzip, snappy, lz4 and zstd compression as pure functions over bytes (snappy and lz4
 * with Kafka's framing: snappy-codec.ts, lz4-codec.ts; zstd on every Node: zstd-codec.ts). The
 * CPU pool runs them inline for small inputs and in its worker task for large ones; keeping one
 * implementation means both paths give the same bytes and the same errors.
 *
 * Failures a client can cause (corrupt input, output over the caller's bound, a codec this Node
 * lacks) are CodecErrors with a stable code, so Samsa can map them to Kafka error codes
 * (UNSUPPORTED_COMPRESSION_TYPE, CORRUPT_MESSAGE, ...). Anything else is a bug and is rethrown.
 */
import { kMaxLength } from 'node:buffer';
import zlib from 'node:zlib';
import { CodecError, type CodecErrorCode, type CompressionCodec } from './codecs-errors.js';
import { lz4Compress, lz4Decompress } from './lz4-codec.js';
import { snappyCompress, snappyDecompress } from './snappy-codec.js';
import { zstdCompress, zstdDecompress } from './zstd-codec.js';

export { CodecError, type CodecErrorCode, type CompressionCodec } from './codecs-errors.js';

/** A CodecError as plain data: Error subclasses lose their code when cloned across threads. */
export interface CodecFailure {
  readonly code: CodecErrorCode;
  readonly message: string;
}

export function compressBytes(codec: CompressionCodec, bytes: Uint8Array): Uint8Array {
  switch (codec) {
    case 'gzip':
      return plainBytes(zlib.gzipSync(bytes));
    case 'zstd':
      return plainBytes(zstdCompress(bytes));
    case 'snappy':
      return plainBytes(snappyCompress(bytes));
    case 'lz4':
      return plainBytes(lz4Compress(bytes));
    default:
      throw unknownCodec(codec);
  }
}

/**
 * Inflates `bytes`, refusing to produce more than `maxOutputBytes`: the bound is what stops a
 * small "decompression bomb" from a client growing into gigabytes inside the broker.
 */
export function decompressBytes(codec: CompressionCodec, bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  assertMaxOutputBytes(maxOutputBytes);
  // zlib rejects a limit of 0 or one above kMaxLength; the length check below keeps 0 exact.
  const options = { maxOutputLength: Math.min(Math.max(maxOutputBytes, 1), kMaxLength) };
  let output: Uint8Array;
  try {
    switch (codec) {
      case 'gzip':
        output = zlib.gunzipSync(bytes, options);
        break;
      case 'zstd':
        output = zstdDecompress(bytes, maxOutputBytes);
        break;
      case 'snappy':
        output = snappyDecompress(bytes, maxOutputBytes);
        break;
      case 'lz4':
        output = lz4Decompress(bytes, maxOutputBytes);
        break;
      default:
        throw unknownCodec(codec);
    }
  } catch (error) {
    throw asCodecError(error, codec, maxOutputBytes);
  }
  if (output.byteLength > maxOutputBytes) throw outputTooLarge(codec, maxOutputBytes);
  return plainBytes(output);
}

/**
 * zlib returns Buffers, whose slice() shares memory where Uint8Array's copies. Results cross
 * threads as plain Uint8Arrays, so inline results are too (a view, not a copy): the same call
 * must not behave differently depending on which path ran it.
 */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function assertMaxOutputBytes(maxOutputBytes: number): void {
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) {
    throw new RangeError(`maxOutputBytes must be a non-negative integer, got ${maxOutputBytes}`);
  }
}

export function toCodecFailure(error: CodecError): CodecFailure {
  return { code: error.code, message: error.message };
}

export function fromCodecFailure(failure: CodecFailure): CodecError {
  return new CodecError(failure.code, failure.message);
}

function unknownCodec(codec: never): CodecError {
  return new CodecError('UNSUPPORTED_CODEC', `unknown compression codec ${JSON.stringify(codec)}`);
}

function outputTooLarge(codec: CompressionCodec, maxOutputBytes: number): CodecError {
  return new CodecError('OUTPUT_TOO_LARGE', `${codec} output exceeds maxOutputBytes (${maxOutputBytes})`);
}

/** zlib reports bad gzip input with Z_* codes and the bound with ERR_BUFFER_TOO_LARGE (zstd-codec.ts maps zlib's zstd errors itself). */
function asCodecError(error: unknown, codec: CompressionCodec, maxOutputBytes: number): unknown {
  if (error instanceof CodecError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_BUFFER_TOO_LARGE') return outputTooLarge(codec, maxOutputBytes);
  if (typeof code === 'string' && (code.startsWith('Z_'))) {
    return new CodecError('CORRUPT_INPUT', `${codec} input is corrupt: ${(error as Error).message}`);
  }
  return error;
}
