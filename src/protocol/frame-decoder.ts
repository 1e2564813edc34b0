/**
 * Kafka framing on a byte stream: every request and response is a 4-byte big-endian size, then
 * that many bytes.
 *
 *   chunk 1            chunk 2                  chunk 3
 *   [00 00 00 2a ....] [.......................][.. 00 00 00 10 ....]
 *    size=42 | 42 bytes of frame 1 .............. | size=16 | frame 2
 *
 * TCP delivers chunks of any size, so a frame may span chunks and a chunk may hold many frames.
 * Chunks are kept in a list and joined once per frame (not once per chunk), so a 100 MB frame
 * arriving in 64 KiB chunks costs one copy, not thousands. The clients read responses this way;
 * the broker reads requests straight into buffers of their size instead (frame-receiver.ts),
 * with the same size checks (checkFrameSize).
 *
 * The size is checked before any byte of the frame is buffered: a size above the limit
 * (socket.request.max.bytes) or below the smallest possible request is hostile or garbage, and
 * the caller must close the connection, as Kafka does (InvalidReceiveException).
 */

export const FRAME_SIZE_PREFIX_BYTES = 4;
/** Kafka's socket.request.max.bytes default. */
export const SOCKET_REQUEST_BYTES_MAX_DEFAULT = 104857600;
/** The smallest request frame: api key, version, correlation id, client id length. */
export const REQUEST_FRAME_BYTES_MIN = 10;

export class InvalidFrameError extends Error {
  constructor(message: string, readonly declaredSizeBytes: number) {
    super(message);
    this.name = 'InvalidFrameError';
  }
}

/**
 * Throws InvalidFrameError for a declared frame size outside [min, max]: hostile or garbage
 * input, after which the connection must close.
 */
export function checkFrameSize(size: number, frameBytesMin: number, frameBytesMax: number): void {
  if (size > frameBytesMax) throw new InvalidFrameError(`frame of ${size} bytes exceeds socket.request.max.bytes ${frameBytesMax}`, size);
  if (size < frameBytesMin) throw new InvalidFrameError(`frame of ${size} bytes is too small for a request`, size);
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Size of the frame being assembled, once its prefix has been read. */
  private pendingFrameBytes = -1;

  /**
   * @param frameBytesMax largest frame accepted (without the size prefix)
   * @param frameBytesMin smallest frame accepted (default: a request header's)
   */
  constructor(
    private readonly frameBytesMax = SOCKET_REQUEST_BYTES_MAX_DEFAULT,
    private readonly frameBytesMin = REQUEST_FRAME_BYTES_MIN,
  ) {}

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.bufferedBytes;
  }

  /**
   * Adds a chunk and returns every frame it completes, in order. Throws InvalidFrameError on a
   * size outside the limits; the decoder must not be used after that.
   */
  push(chunk: Buffer): Buffer[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.byteLength;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.pendingFrameBytes < 0) {
        if (this.bufferedBytes < FRAME_SIZE_PREFIX_BYTES) break;
        const size = this.take(FRAME_SIZE_PREFIX_BYTES).readInt32BE(0);
        checkFrameSize(size, this.frameBytesMin, this.frameBytesMax);
        this.pendingFrameBytes = size;
      }
      if (this.bufferedBytes < this.pendingFrameBytes) break;
      frames.push(this.take(this.pendingFrameBytes));
      this.pendingFrameBytes = -1;
    }
    return frames;
  }

  /** Removes the first `count` buffered bytes; a view without copy when one chunk holds them. */
  private take(count: number): Buffer {
    this.bufferedBytes -= count;
    const first = this.chunks[0]!;
    if (first.byteLength >= count) {
      const taken = first.subarray(0, count);
      if (first.byteLength === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
      return taken;
    }
    const taken = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.chunks[0]!;
      const part = Math.min(chunk.byteLength, count - filled);
      chunk.copy(taken, filled, 0, part);
      filled += part;
      if (part === chunk.byteLength) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    return taken;
  }
}
