/**
 * The bench clients' receive path: response frames read the way Kafka's Java client reads them
 * (NetworkReceive: the size, then the frame straight into a buffer that holds it whole), here
 * into one receive buffer per connection that the kernel writes into directly (net.connect's
 * `onread`) and that is reused for every frame. No allocation per socket read, no copy to join
 * a frame that spans reads (Node's default path allocates 64 KiB per read and FrameDecoder joins
 * them into a new buffer per frame: megabytes per second of garbage for a consumer, whose GC
 * pauses and CPU were then part of what the bench measured).
 *
 *   buffer   [ handed out | frame n (partial) ........ | free: the next read goes here ]
 *            0            start                         end                      length
 *
 * Frames are views of the buffer, valid only during the onFrame call. A partial frame that
 * would not fit in the rest of the buffer is moved to its front (or the buffer grows to hold
 * it), so every frame is contiguous.
 */

const SIZE_PREFIX_BYTES = 4;
/** Room a read gets at least: below it, the partial frame moves to the front first. */
const READ_BYTES_MIN = 64 * 1024;

export class FrameReader {
  private buffer: Buffer;
  /** First byte not yet handed out as part of a frame. */
  private start = 0;
  /** First byte not yet written by a read. */
  private end = 0;

  /**
   * @param onFrame called for each whole frame (without its size prefix), during the read that
   *   completes it, with the time that read arrived (`clock()`)
   */
  constructor(
    private readonly onFrame: (frame: Buffer, receivedAt: number) => void,
    private readonly clock: () => number,
    initialBytes = 4 * 1024 * 1024,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** For `net.connect({ ..., onread: reader.onread })`. */
  readonly onread = {
    buffer: (): Buffer => this.buffer.subarray(this.end),
    callback: (bytesRead: number): boolean => {
      this.received(bytesRead);
      return true; // keep reading
    },
  };

  private received(bytesRead: number): void {
    const receivedAt = this.clock();
    this.end += bytesRead;
    while (this.end - this.start >= SIZE_PREFIX_BYTES) {
      const size = this.buffer.readInt32BE(this.start);
      const frameEnd = this.start + SIZE_PREFIX_BYTES + size;
      if (frameEnd > this.end) break;
      const frame = this.buffer.subarray(this.start + SIZE_PREFIX_BYTES, frameEnd);
      this.start = frameEnd;
      this.onFrame(frame, receivedAt);
    }
    this.makeRoom();
  }

  /** Leaves room for the next read and for the whole of the frame being received. */
  private makeRoom(): void {
    if (this.start === this.end) {
      this.start = this.end = 0;
      return;
    }
    const pending = this.end - this.start;
    const frameBytes = pending >= SIZE_PREFIX_BYTES ? SIZE_PREFIX_BYTES + this.buffer.readInt32BE(this.start) : SIZE_PREFIX_BYTES;
    const needed = Math.max(frameBytes, pending + READ_BYTES_MIN);
    if (this.start + needed <= this.buffer.byteLength) return;
    let target = this.buffer;
    if (needed > this.buffer.byteLength) {
      let length = this.buffer.byteLength * 2;
      while (length < needed) length *= 2;
      target = Buffer.allocUnsafeSlow(length);
    }
    this.buffer.copy(target, 0, this.start, this.end);
    this.buffer = target;
    this.start = 0;
    this.end = pending;
  }
}
