/**
 * The log's native addon (native/: CRC-32C, positional writes, write-behind), built by node-gyp at
 * `npm install`, or undefined where it was not built or does not load; callers then fall back
 * to @node-rs/crc32 and fs.writeSync. SAMSA_NATIVE=off ignores it (tests of the fallbacks).
 *
 * Looked up from src/log (tests, run from the sources) and from dist/src/log (the build).
 */
import { createRequire } from 'node:module';

/** A page-cache call: runs off the calling thread, then done(null) or done(error) on it. */
export type PageCacheCall = (fd: number, position: number, length: number, done: (error: Error | null) => void) => void;

export interface NativeAddon {
  /** The CRC-32C of bytes[start, start + length), unsigned. */
  crc32c(bytes: Uint8Array, start: number, length: number): number;
  /** 'avx512-vpclmulqdq', 'avx2-vpclmulqdq', 'sse4.2-pclmulqdq' or 'software' (no carry-less multiply on this CPU). */
  readonly crc32cImplementation: string;
  /** Writes all of `bytes` at `position` (pwrite); throws an Error with code, errno, syscall. Not on Windows. */
  readonly writeAt?: (fd: number, bytes: Uint8Array, position: number) => void;
  /**
   * sync_file_range(SYNC_FILE_RANGE_WRITE) of the range, on the libuv thread pool; then
   * done(null) or done(error), the error shaped like writeAt's. Bad arguments throw. Linux only.
   */
  readonly startWriteback?: PageCacheCall;
  /** Waits for the range's writeback (sync_file_range), then posix_fadvise DONTNEED; on the pool, like startWriteback. Linux only. */
  readonly evictWritten?: PageCacheCall;
  /** posix_fadvise WILLNEED of the range (read ahead, no wait); on the pool, like startWriteback. Linux only. */
  readonly readAhead?: PageCacheCall;
  /** fallocate(FALLOC_FL_KEEP_SIZE) of the range (blocks allocated, size unchanged); on the pool, like startWriteback. Linux only. */
  readonly preallocate?: PageCacheCall;
}

const ADDON_PATHS = ['../../native/build/Release/samsa_native.node', '../../../native/build/Release/samsa_native.node'];

function load(): NativeAddon | undefined {
  if (process.env.SAMSA_NATIVE === 'off') return undefined;
  const require = createRequire(import.meta.url);
  for (const candidate of ADDON_PATHS) {
    try {
      return require(candidate) as NativeAddon;
    } catch {
      // not built there (or built for another platform): try the next place
    }
  }
  return undefined;
}

export const nativeAddon: NativeAddon | undefined = load();
