/**
 * Reusable buffers for the large byte runs of the data path, lent and given back explicitly:
 *
 *   fetch:    Segment.read reads into a lent buffer -> Fetch response chunk (not copied) ->
 *             socket write done -> release
 *   produce:  FrameReceiver reads a request into a lent buffer of its size -> handler
 *             appends the records -> answered -> release (connection.ts; handlers that declare
 *             releasesRequestBytes, i.e. Produce)
 *
 * Why: a fresh ArrayBuffer per fetch read and per received frame is "external memory" to V8, and
 * hundreds of MB/s of it made V8 run scavenges and full mark-compacts for external memory
 * pressure several times a second per broker thread (a third of a consuming thread's time, and
 * 10-30 ms pauses in the produce-to-consume latency).
 *
 * Only what is released is reused, so forgetting to release is safe: a buffer that is never
 * given back (a fetch answer dropped by a long poll's next round, a connection closed before its
 * write, a frame of an API whose handler may keep views of it) is collected as before.
 * `release` ignores anything this pool did not lend, and a second release of the same buffer.
 *
 * Size classes are powers of two from 8 KiB to 1 MiB; a request takes the smallest class that
 * holds it. Smaller buffers are cheap to allocate (and Buffer.allocUnsafe pools the smallest),
 * larger ones are rare: both are plain allocations, never pooled.
 *
 * One pool per use per thread (module state): a broker's reads, frames and socket writes all
 * happen on its own thread.
 */

/** The smallest pooled size: below it, a request gets a plain allocation. */
export const POOLED_BYTES_MIN = 8 * 1024;
/** The largest pooled size (Kafka's default max.partition.fetch.bytes): above it, plain allocations. */
export const POOLED_BYTES_MAX = 1024 * 1024;
const SIZE_CLASSES = Math.log2(POOLED_BYTES_MAX / POOLED_BYTES_MIN) + 1;
/** Free buffers kept per size class; more released ones are left to the garbage collector. */
const FREE_BUFFERS_PER_CLASS_MAX = 8;

export class BufferPool {
  private readonly free: Buffer[][] = Array.from({ length: SIZE_CLASSES }, () => []);
  /** Lent buffers, by their ArrayBuffer (weakly: one never released must stay collectable). */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  /**
   * A buffer of at least `length` bytes (exactly `length` when not pooled). Its bytes are
   * whatever was there before.
   */
  acquire(length: number): Buffer {
    if (length < POOLED_BYTES_MIN || length > POOLED_BYTES_MAX) return Buffer.allocUnsafe(length);
    const sizeClass = Math.ceil(Math.log2(length / POOLED_BYTES_MIN));
    const buffer = this.free[sizeClass]!.pop() ?? Buffer.allocUnsafeSlow(POOLED_BYTES_MIN * 2 ** sizeClass);
    this.lent.add(buffer.buffer);
    return buffer;
  }

  /**
   * Takes back the buffer under `bytes` (any view of it) once nothing uses its bytes any more.
   * Does nothing for bytes this pool did not lend.
   */
  release(bytes: Uint8Array): void {
    const arrayBuffer = bytes.buffer;
    if (!this.lent.delete(arrayBuffer)) return;
    const sizeClass = Math.log2(arrayBuffer.byteLength / POOLED_BYTES_MIN);
    const free = this.free[sizeClass]!;
    if (free.length < FREE_BUFFERS_PER_CLASS_MAX) free.push(Buffer.from(arrayBuffer, 0, arrayBuffer.byteLength));
  }

  /** Free buffers held now, all classes together (for tests). */
  get freeBuffers(): number {
    return this.free.reduce((sum, list) => sum + list.length, 0);
  }
}

/**
 * This thread's pool for the data path: Segment.read's fetch reads and the broker connections'
 * joined frames; the connection gives both back (connection.ts).
 */
export const dataPathBuffers = new BufferPool();
