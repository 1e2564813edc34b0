/**
 * Reusable buffers for the log's large reads (Fetch): the read, the response and the socket
 * write all use the same bytes, and the buffer comes back here once the socket has written them.
 *
 *   Segment.read --acquire--> [1 MiB buffer | read bytes ......|.........]  lent
 *   Fetch response chunk = the read bytes (not copied, ProtocolWriter.writeRecords)
 *   socket write done --release(chunk)--> free list (at most FREE_BUFFERS_MAX kept)
 *
 * Why: a fresh 1 MiB buffer per fetch made V8 collect garbage for "external memory pressure"
 * many times a second (a third of a broker thread's time when consuming). A buffer that is
 * never released (a response dropped by a long poll's next round, a connection closed before
 * the write) is simply collected, as before; only buffers released through here are reused, and
 * `release` ignores anything this pool did not lend (and a second release of the same buffer).
 *
 * One pool per thread (module state): a broker's reads and its sockets' writes are on its thread.
 */

/** Reads from this size on use pooled buffers; smaller ones are cheap to allocate. */
export const POOLED_READ_BYTES_MIN = 64 * 1024;
/** Size of every pooled buffer (Kafka's default max.partition.fetch.bytes); larger reads are not pooled. */
export const POOLED_BUFFER_BYTES = 1024 * 1024;
/** Free buffers kept per thread; more released ones are left to the garbage collector. */
const FREE_BUFFERS_MAX = 16;

export class ReadBufferPool {
  private readonly free: Buffer[] = [];
  private readonly lent = new WeakSet<ArrayBufferLike>();

  /** A buffer of at least `length` bytes: pooled when the length is in the pooled range. */
  acquire(length: number): Buffer {
    if (length < POOLED_READ_BYTES_MIN || length > POOLED_BUFFER_BYTES) return Buffer.allocUnsafe(length);
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(POOLED_BUFFER_BYTES);
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
    if (this.free.length < FREE_BUFFERS_MAX) this.free.push(Buffer.from(arrayBuffer, 0, POOLED_BUFFER_BYTES));
  }

  /** Free buffers held now (for tests). */
  get freeBuffers(): number {
    return this.free.length;
  }
}

/** This thread's pool: Segment.read takes from it, a connection gives back what it has written. */
export const readBuffers = new ReadBufferPool();
