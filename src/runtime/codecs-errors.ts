/** The codec names and the error every codec (codecs.ts, snappy-codec.ts, lz4-codec.ts) throws for what a client can cause. */
import { createRequire } from 'node:module';

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

/**
 * A codec package (napi-rs: its binary comes from npm as an optional dependency), loaded on
 * first use; where it does not load, every use throws UNSUPPORTED_CODEC saying why.
 */
export function lazyCodecPackage<T>(name: string, codec: CompressionCodec): () => T {
  let loaded: T | Error | undefined;
  return () => {
    if (loaded === undefined) {
      try {
        loaded = createRequire(import.meta.url)(name) as T;
      } catch (error) {
        loaded = error as Error;
      }
    }
    if (loaded instanceof Error) throw new CodecError('UNSUPPORTED_CODEC', `${codec} is not available in this install (${name}: ${loaded.message})`);
    return loaded;
  };
}
