/**
 * The broker's receive path: request frames read straight into the buffers that hold them, the
 * way Kafka's NetworkReceive reads (the size, then the frame into a buffer of that size).
 *
 *   head   [ handed out | partial frame or sizes | free: the next read goes here ]   64 KiB
 *   body   [ frame n: bytes read so far ....... | rest: the next read goes here ]   pool buffer
 *
 * Reads go into `head` until a frame larger than HEAD_FRAME_BYTES_MAX shows its size without
 * being whole: then a buffer of its size is taken from the data-path pool, the bytes already
 * read move there, and the following reads go straight into it, each asking for no more than
 * the frame still lacks. A 256 KiB produce request is read with one copy of at most one head's
 * worth of bytes, and no allocation; with Node's default receive path every read allocated a
 * fresh 64 KiB ArrayBuffer ("external memory" to V8, scavenged several times a second per
 * broker thread) and a frame spanning reads was copied whole to join it.
 *
 * Frames completed inside `head` are copied out (they are at most HEAD_FRAME_BYTES_MAX), so
 * `head` is reused at once. Every frame handed out is its own buffer: from the pool when it is
 * at least POOLED_BYTES_MIN (the connection gives it back when the handler declares it keeps
 * no view, as before), otherwise a plain allocation.
 *
 * The same framing as frame-decoder.ts (which the clients use), for a reader that chooses where
 * its bytes land. Pure state machine: the socket side (src/server/socket-reads.ts) asks `nextBuffer()` for where
 * to read, and reports `received(bytes)`. `push(chunk)` feeds bytes read elsewhere (Node's
 * default path, when the user-buffer read is not available) through the same steps.
 *
 * A size above frameBytesMax (socket.request.max.bytes) or below the smallest request throws
 * InvalidFrameError before any byte of that frame is buffered; the receiver is unusable after.
 */
import type { BufferPool } from './buffer-pool.js';
import { checkFrameSize, FRAME_SIZE_PREFIX_BYTES } from './frame-decoder.js';

/** The receive buffer each connection reads into when no large frame is pending. */
export const HEAD_BYTES = 64 * 1024;
/** Frames up to this size are completed in `head` and copied out; larger ones are read in place. */
export const HEAD_FRAME_BYTES_MAX = 16 * 1024;

export class FrameReceiver {
  private head: Buffer;
  /** First byte of `head` not yet handed out. */
  private start = 0;
  /** First byte of `head` not yet written by a read. */
  private end = 0;
  /** The large frame being read in place, and how many of its bytes are there. */
  private body: Buffer | undefined;
  private bodyFilled = 0;

  /**
   * @param frameBytesMax largest frame accepted (without its size prefix)
   * @param frameBytesMin smallest frame accepted (REQUEST_FRAME_BYTES_MIN for requests)
   * @param pool where the head and large frames come from (head and frames go back to it)
   */
  constructor(
    private readonly frameBytesMax: number,
    private readonly frameBytesMin: number,
    private readonly pool: BufferPool,
  ) {
    this.head = pool.acquire(HEAD_BYTES);
  }

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.body ? this.bodyFilled : this.end - this.start;
  }

  /** Where the next read goes: never past the end of a large frame being read in place. */
  nextBuffer(): Buffer {
    return this.body ? this.body.subarray(this.bodyFilled) : this.head.subarray(this.end);
  }

  /**
   * `bytes` bytes were read into the last nextBuffer(). Returns the frames they complete, in
   * order (without size prefixes).
   */
  received(bytes: number): Buffer[] {
    if (this.body) {
      this.bodyFilled += bytes;
      if (this.bodyFilled < this.body.byteLength) return [];
      const frame = this.body;
      this.body = undefined;
      return [frame];
    }
    this.end += bytes;
    const frames: Buffer[] = [];
    while (this.end - this.start >= FRAME_SIZE_PREFIX_BYTES) {
      const size = this.head.readInt32BE(this.start);
      checkFrameSize(size, this.frameBytesMin, this.frameBytesMax);
      const frameStart = this.start + FRAME_SIZE_PREFIX_BYTES;
      const have = this.end - frameStart;
      if (have >= size) {
        frames.push(this.copyOut(frameStart, size));
        this.start = frameStart + size;
        continue;
      }
      if (size > HEAD_FRAME_BYTES_MAX) {
        // Read the rest of this frame in place; what head holds of it moves there once.
        const body = this.pool.acquire(size).subarray(0, size);
        this.head.copy(body, 0, frameStart, this.end);
        this.body = body;
        this.bodyFilled = have;
        this.start = this.end = 0;
        return frames;
      }
      break;
    }
    this.makeRoom();
    return frames;
  }

  /** Feeds bytes read by someone else (a 'data' chunk): the same steps as reads in place. */
  push(chunk: Uint8Array): Buffer[] {
    const frames: Buffer[] = [];
    let at = 0;
    while (at < chunk.byteLength) {
      const target = this.nextBuffer();
      const count = Math.min(target.byteLength, chunk.byteLength - at);
      target.set(chunk.subarray(at, at + count));
      at += count;
      for (const frame of this.received(count)) frames.push(frame);
    }
    return frames;
  }

  /** Gives the head (and a partial large frame) back to the pool: the connection is gone. */
  dispose(): void {
    this.pool.release(this.head);
    if (this.body) this.pool.release(this.body);
    this.body = undefined;
  }

  private copyOut(from: number, size: number): Buffer {
    const frame = this.pool.acquire(size).subarray(0, size);
    this.head.copy(frame, 0, from, from + size);
    return frame;
  }

  /**
   * Keeps room after `end` for the rest of any small frame: what is pending is then less than
   * one such frame, so moving it to the front leaves three quarters of head free.
   */
  private makeRoom(): void {
    if (this.start === this.end) {
      this.start = this.end = 0;
      return;
    }
    if (this.head.byteLength - this.end >= FRAME_SIZE_PREFIX_BYTES + HEAD_FRAME_BYTES_MAX) return;
    this.head.copyWithin(0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
  }
}
