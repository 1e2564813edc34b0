/** The codec names and the error every codec (codecs.ts, snappy-codec.ts, lz4-codec.ts) throws for what a client can cause. */

/** Kafka's names for the codecs Samsa runs (record batch attributes 1-4). */
export type CompressionCodec = 'gzip' | 'snappy' | 'lz4' | 'zstd';

export type CodecErrorCode = 'UNSUPPORTED_CODEC' | 'OUTPUT_TOO_LARGE' | 'CORRUPT_INPUT';

export class CodecError extends Error {
  override readonly name = 'CodecError';

  constructor(
    readonly code: CodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}
