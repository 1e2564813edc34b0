/**
 * The piscina task behind CpuPool: compresses or decompresses one buffer on a pool thread.
 * Success returns the bytes moved (transferred, not copied) back to the caller; a CodecError
 * comes back as a plain CodecFailure value, because errors cloned across threads keep their
 * message but lose `code`, and Samsa maps that code to a Kafka error. Other errors are bugs and
 * are thrown as usual.
 */
import { move } from 'piscina';
import {
  CodecError,
  compressBytes,
  decompressBytes,
  toCodecFailure,
  type CodecFailure,
  type CompressionCodec,
} from '../codecs.js';
import { transferableBytes } from '../transferable-bytes.js';

export type CodecTask =
  | { readonly operation: 'compress'; readonly codec: CompressionCodec; readonly bytes: Uint8Array }
  | {
      readonly operation: 'decompress';
      readonly codec: CompressionCodec;
      readonly bytes: Uint8Array;
      readonly maxOutputBytes: number;
    };

/** Uint8Array on success; piscina unwraps the moved value before the caller sees it. */
export type CodecTaskResult = Uint8Array | CodecFailure;

export default function runCodecTask(task: CodecTask): CodecTaskResult {
  let output: Uint8Array;
  try {
    output =
      task.operation === 'compress'
        ? compressBytes(task.codec, task.bytes)
        : decompressBytes(task.codec, task.bytes, task.maxOutputBytes);
  } catch (error) {
    if (error instanceof CodecError) return toCodecFailure(error);
    throw error;
  }
  // zlib may hand back a slice of a larger chunk or of the Buffer pool: copy those, move the rest.
  return move(transferableBytes(output)) as Uint8Array;
}
