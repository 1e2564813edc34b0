/**
 * Single-producer / single-consumer ring buffer over a SharedArrayBuffer.
 *
 * One ring carries messages one way between two threads. A message is written once into the
 * ring by the producer and read in place by the consumer (a Uint8Array view into the ring), with
 * no structured clone and no postMessage. The consumer may hold several views at once and
 * release them in any order; space is reclaimed up to the oldest view still held.
 *
 * Buffer layout (byte offsets; every control word is an Int32 on its own 64-byte line so the
 * producer and consumer never write the same cache line):
 *
 *   0    WRITE      bytes ever published by the producer (free-running, wraps at 2^32)
 *   64   RELEASE    bytes ever released by the consumer   (free-running, wraps at 2^32)
 *   128  WAITING    1 while the producer is parked waiting for space; the consumer clears it
 *                   (compare-and-exchange) when it wakes the producer, so it notifies once
 *   160  WANT       the RELEASE value at which the parked producer has the space it wants
 *   256  doorbell   the consumer's default doorbell (see doorbell.ts), 128 bytes
 *   512  data       `capacity` bytes, a power of two; positions are cursor & (capacity - 1)
 *
 *   used = WRITE - RELEASE (mod 2^32), always <= capacity
 *
 *        RELEASE            read cursor (consumer-local)        WRITE
 *   ───────┼──── views held ───────┼──────── unread frames ──────┼──── free ────
 *
 * Frames inside the data region are 8-byte aligned:
 *
 *   +0  u32 frameBytes   header + payload, before alignment padding
 *   +4  u32 kind         PAD | WHOLE | FIRST | MIDDLE | LAST
 *   +8  payload          (FIRST starts with u32 totalBytes, u32 reserved, then the chunk)
 *
 * A frame never straddles the end of the region: when it does not fit in the bytes left before
 * the end, a PAD frame fills them and the frame starts at position 0 (wrap-around). A message
 * up to `maxWholeBytes` (a quarter of the ring) travels as one WHOLE frame and is read in place;
 * a larger one, even larger than the whole ring, travels as FIRST, MIDDLE..., LAST fragments and
 * the consumer reassembles it into one new buffer (the only copy on the read side, and only for
 * messages that cannot fit the ring at once).
 *
 * A full ring never drops anything: `write` queues the message and the producer waits with
 * Atomics.waitAsync on WAITING until the consumer has freed half the ring (or what the message
 * needs, if more); queued messages keep their order. Waiting for a good share of the ring, not
 * just one message, keeps the two threads from waking each other for every message.
 *
 * Each side keeps a cached copy of the other side's cursor and reloads it (one atomic load on a
 * cache line the other core writes) only when the cached value says the ring is full or empty.
 */
import { Doorbell, DOORBELL_BYTES } from './doorbell.js';

const WRITE = 0;
const RELEASE = 16;
const WAITING = 32;
const WANT = 40;
const DOORBELL_OFFSET = 256;
export const RING_HEADER_BYTES = 512;

const FRAME_HEADER_BYTES = 8;
const FIRST_EXTRA_BYTES = 8;
const KIND_PAD = 0;
const KIND_WHOLE = 1;
const KIND_FIRST = 2;
const KIND_MIDDLE = 3;
const KIND_LAST = 4;

export const RING_CAPACITY_MIN = 256;
export const RING_CAPACITY_MAX = 1 << 30;

function align8(bytes: number): number {
  return (bytes + 7) & ~7;
}

export function createRingBuffer(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < RING_CAPACITY_MIN || capacity > RING_CAPACITY_MAX || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two in [${RING_CAPACITY_MIN}, ${RING_CAPACITY_MAX}], got ${capacity}`);
  }
  if (DOORBELL_OFFSET + DOORBELL_BYTES > RING_HEADER_BYTES) throw new Error('ring header layout overlaps');
  return new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
}

function capacityOf(buffer: SharedArrayBuffer): number {
  return buffer.byteLength - RING_HEADER_BYTES;
}

export class RingClosedError extends Error {
  constructor() {
    super('ring closed: the consumer is gone');
  }
}

interface QueuedWrite {
  bytes: Uint8Array;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class RingWriter {
  /** The data region; payload offsets from tryReserve index into it. */
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly capacity: number;
  /** Largest payload sent as one frame (read in place); larger ones are fragmented. */
  readonly maxWholeBytes: number;
  private readonly control: Int32Array;
  private readonly mask: number;
  private readonly doorbell: Doorbell;
  /** Producer-local copy of WRITE including a reservation not yet published. */
  private writeCursor: number;
  private reservedCursor: number;
  /** Last RELEASE value seen; reloaded only when it makes the ring look full. */
  private cachedRelease: number;
  private readonly queue: QueuedWrite[] = [];
  private draining = false;
  /** Settles when the drain running (or the last one) has finished; it never rejects. */
  private drainDone: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(readonly buffer: SharedArrayBuffer, doorbell?: Doorbell) {
    this.capacity = capacityOf(buffer);
    this.mask = this.capacity - 1;
    this.control = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
    this.data = new Uint8Array(buffer, RING_HEADER_BYTES, this.capacity);
    this.view = new DataView(buffer, RING_HEADER_BYTES, this.capacity);
    this.doorbell = doorbell ?? new Doorbell(buffer, DOORBELL_OFFSET);
    this.maxWholeBytes = this.capacity / 4 - FRAME_HEADER_BYTES;
    this.writeCursor = Atomics.load(this.control, WRITE) >>> 0;
    this.reservedCursor = this.writeCursor;
    this.cachedRelease = Atomics.load(this.control, RELEASE) >>> 0;
  }

  /** True when earlier writes still wait for space; a new message must then queue behind them. */
  get backlogged(): boolean {
    return this.queue.length > 0;
  }

  freeBytes(): number {
    return this.capacity - ((this.writeCursor - Atomics.load(this.control, RELEASE)) >>> 0);
  }

  /**
   * Reserves a WHOLE frame for `payloadBytes` if it fits now. Returns the payload's offset in
   * `data` (fill it, then call publish), or -1 when the ring lacks space or has a backlog.
   * Only one reservation may be open at a time.
   */
  tryReserve(payloadBytes: number): number {
    if (this.queue.length > 0 || this.closed) return -1;
    return this.reserve(KIND_WHOLE, payloadBytes);
  }

  /** Makes every reserved frame visible to the consumer and rings its doorbell. */
  publish(): void {
    this.writeCursor = this.reservedCursor;
    Atomics.store(this.control, WRITE, this.writeCursor | 0);
    this.doorbell.ring();
  }

  /**
   * Writes a complete message, waiting asynchronously for space as needed; order is kept with
   * every earlier write. Returns undefined when written at once, else a promise settled once
   * the message is in the ring. `bytes` must not change until then.
   */
  write(bytes: Uint8Array): Promise<void> | undefined {
    if (this.closed) return Promise.reject(new RingClosedError());
    if (this.queue.length === 0 && bytes.byteLength <= this.maxWholeBytes) {
      const offset = this.reserve(KIND_WHOLE, bytes.byteLength);
      if (offset >= 0) {
        this.data.set(bytes, offset);
        this.publish();
        return undefined;
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      if (!this.draining) this.drainDone = this.drain();
    });
  }

  /**
   * Resolves when nothing is queued (every write is in the ring, or failed because the ring
   * closed). It waits for the drain rather than for space itself: the producer's one WANT and
   * WAITING pair must have one waiter, or the drain could clear WAITING under a parked flush
   * that no release would then wake.
   */
  async flushed(): Promise<void> {
    while (this.queue.length > 0) await this.drainDone;
  }

  /** The consumer is gone: queued writes fail, a parked producer wakes. */
  close(): void {
    this.closed = true;
    Atomics.store(this.control, WAITING, 0);
    Atomics.notify(this.control, WAITING);
    const pending = this.queue.splice(0);
    for (const write of pending) write.reject(new RingClosedError());
  }

  private reserve(kind: number, payloadBytes: number): number {
    const frameBytes = FRAME_HEADER_BYTES + payloadBytes;
    const aligned = align8(frameBytes);
    const position = this.reservedCursor & this.mask;
    const untilEnd = this.capacity - position;
    const needed = aligned <= untilEnd ? aligned : untilEnd + aligned;
    if (this.capacity - ((this.reservedCursor - this.cachedRelease) >>> 0) < needed) {
      this.cachedRelease = Atomics.load(this.control, RELEASE) >>> 0;
      if (this.capacity - ((this.reservedCursor - this.cachedRelease) >>> 0) < needed) return -1;
    }
    let start = position;
    if (aligned > untilEnd) {
      this.view.setUint32(position, untilEnd, true);
      this.view.setUint32(position + 4, KIND_PAD, true);
      start = 0;
    }
    this.view.setUint32(start, frameBytes, true);
    this.view.setUint32(start + 4, kind, true);
    this.reservedCursor = (this.reservedCursor + needed) >>> 0;
    return start + FRAME_HEADER_BYTES;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const next = this.queue[0]!;
        await this.writeQueued(next.bytes);
        this.queue.shift();
        next.resolve();
      }
    } catch (error) {
      const pending = this.queue.splice(0);
      for (const write of pending) write.reject(error as Error);
    } finally {
      this.draining = false;
    }
  }

  private async writeQueued(bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength <= this.maxWholeBytes) {
      let offset: number;
      while ((offset = this.reserve(KIND_WHOLE, bytes.byteLength)) < 0) await this.waitForSpace(bytes.byteLength * 2);
      this.data.set(bytes, offset);
      this.publish();
      return;
    }
    const chunkBytes = this.maxWholeBytes - FIRST_EXTRA_BYTES;
    let sent = 0;
    while (sent < bytes.byteLength) {
      const first = sent === 0;
      const chunk = Math.min(chunkBytes, bytes.byteLength - sent);
      const last = sent + chunk === bytes.byteLength;
      const kind = first ? KIND_FIRST : last ? KIND_LAST : KIND_MIDDLE;
      const payload = chunk + (first ? FIRST_EXTRA_BYTES : 0);
      let offset: number;
      while ((offset = this.reserve(kind, payload)) < 0) await this.waitForSpace(payload * 2);
      if (first) {
        this.view.setUint32(offset, bytes.byteLength, true);
        this.view.setUint32(offset + 4, 0, true);
        offset += FIRST_EXTRA_BYTES;
      }
      this.data.set(bytes.subarray(sent, sent + chunk), offset);
      this.publish();
      sent += chunk;
    }
  }

  /**
   * Parks until the consumer has released half the ring, or `bytes` if more (or the ring
   * closes). The consumer wakes it once, when RELEASE reaches WANT.
   */
  private async waitForSpace(bytes: number): Promise<void> {
    const wanted = Math.max(Math.min(bytes + 2 * FRAME_HEADER_BYTES, this.capacity), this.capacity >>> 1);
    for (;;) {
      if (this.closed) throw new RingClosedError();
      Atomics.store(this.control, WANT, (this.writeCursor + wanted - this.capacity) | 0);
      Atomics.store(this.control, WAITING, 1);
      this.cachedRelease = Atomics.load(this.control, RELEASE) >>> 0;
      if (this.capacity - ((this.writeCursor - this.cachedRelease) >>> 0) >= wanted) break;
      const waited = Atomics.waitAsync(this.control, WAITING, 1);
      if (waited.async) await waited.value;
    }
    Atomics.store(this.control, WAITING, 0);
  }
}

/** A message read from a ring: `bytes` is a view into the ring, valid until released. */
export interface RingMessage {
  bytes: Uint8Array;
  /** Pass to release(); -1 for a reassembled message, which holds no ring space. */
  token: number;
}

export class RingReader {
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly capacity: number;
  readonly doorbell: Doorbell;
  private readonly control: Int32Array;
  private readonly mask: number;
  private readCursor: number;
  /** Last WRITE value seen; reloaded only when it makes the ring look empty. */
  private cachedWrite: number;
  private releaseCursor: number;
  /** Frames read but not yet released, oldest first: a circular queue indexed by frame number. */
  private readonly frameEnds: Int32Array;
  private readonly frameReleased: Uint8Array;
  private readonly trackerMask: number;
  private oldestFrame = 0;
  private nextFrame = 0;
  private assembly: Uint8Array | undefined;
  private assembled = 0;

  constructor(readonly buffer: SharedArrayBuffer, doorbell?: Doorbell) {
    this.capacity = capacityOf(buffer);
    this.mask = this.capacity - 1;
    this.control = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
    this.data = new Uint8Array(buffer, RING_HEADER_BYTES, this.capacity);
    this.view = new DataView(buffer, RING_HEADER_BYTES, this.capacity);
    this.doorbell = doorbell ?? new Doorbell(buffer, DOORBELL_OFFSET);
    this.readCursor = Atomics.load(this.control, RELEASE) >>> 0;
    this.cachedWrite = this.readCursor;
    this.releaseCursor = this.readCursor;
    // At most capacity / 8 frames can be outstanding (the smallest frame is 8 bytes).
    const slots = this.capacity / 8;
    this.frameEnds = new Int32Array(slots);
    this.frameReleased = new Uint8Array(slots);
    this.trackerMask = slots - 1;
  }

  /** True when published frames are waiting to be read. */
  hasUnread(): boolean {
    return Atomics.load(this.control, WRITE) !== (this.readCursor | 0);
  }

  /** Reads the next complete message, or null when none is published yet. */
  tryRead(): RingMessage | null {
    for (;;) {
      if (this.readCursor === this.cachedWrite) {
        this.cachedWrite = Atomics.load(this.control, WRITE) >>> 0;
        if (this.readCursor === this.cachedWrite) return null;
      }
      const position = this.readCursor & this.mask;
      const frameBytes = this.view.getUint32(position, true);
      const kind = this.view.getUint32(position + 4, true);
      const advance = kind === KIND_PAD ? frameBytes : align8(frameBytes);
      if (frameBytes < FRAME_HEADER_BYTES || advance > this.capacity - position) {
        throw new Error(`ring corrupt: frame of ${frameBytes} bytes, kind ${kind}, at position ${position}`);
      }
      this.readCursor = (this.readCursor + advance) >>> 0;
      const frame = this.track();
      const payloadStart = position + FRAME_HEADER_BYTES;
      const payloadEnd = position + frameBytes;
      if (kind === KIND_WHOLE) {
        // A view built from the buffer directly: cheaper than subarray on this hot path.
        return { bytes: new Uint8Array(this.buffer, RING_HEADER_BYTES + payloadStart, payloadEnd - payloadStart), token: frame };
      }
      if (kind === KIND_PAD) {
        this.release(frame);
        continue;
      }
      const message = this.reassemble(kind, payloadStart, payloadEnd);
      this.release(frame);
      if (message) return { bytes: message, token: -1 };
    }
  }

  /** Gives the frame's space back; views of it must no longer be used. */
  release(token: number): void {
    if (token < 0) return;
    this.frameReleased[token & this.trackerMask] = 1;
    if (token !== this.oldestFrame) return;
    while (this.oldestFrame !== this.nextFrame) {
      const slot = this.oldestFrame & this.trackerMask;
      if (this.frameReleased[slot] === 0) break;
      this.frameReleased[slot] = 0;
      this.releaseCursor = this.frameEnds[slot]! >>> 0;
      this.oldestFrame = (this.oldestFrame + 1) >>> 0;
    }
    Atomics.store(this.control, RELEASE, this.releaseCursor | 0);
    if (
      Atomics.load(this.control, WAITING) !== 0 &&
      ((this.releaseCursor - Atomics.load(this.control, WANT)) | 0) >= 0 &&
      Atomics.compareExchange(this.control, WAITING, 1, 0) === 1
    ) {
      Atomics.notify(this.control, WAITING);
    }
  }

  /** Parks (without blocking the event loop) until a frame is published. */
  waitForData(timeoutMs = Infinity): Promise<void> {
    return this.doorbell.sleepUnless(() => this.hasUnread(), timeoutMs);
  }

  private track(): number {
    const frame = this.nextFrame;
    const slot = frame & this.trackerMask;
    this.frameEnds[slot] = this.readCursor | 0;
    this.frameReleased[slot] = 0;
    this.nextFrame = (this.nextFrame + 1) >>> 0;
    return frame;
  }

  private reassemble(kind: number, start: number, end: number): Uint8Array | undefined {
    if (kind === KIND_FIRST) {
      const total = this.view.getUint32(start, true);
      this.assembly = new Uint8Array(total);
      this.assembled = 0;
      start += FIRST_EXTRA_BYTES;
    } else if (this.assembly === undefined) {
      throw new Error(`ring corrupt: fragment kind ${kind} without a first fragment`);
    }
    const assembly = this.assembly!;
    const chunk = end - start;
    if (this.assembled + chunk > assembly.byteLength) throw new Error('ring corrupt: fragments exceed the declared length');
    assembly.set(this.data.subarray(start, end), this.assembled);
    this.assembled += chunk;
    if (kind !== KIND_LAST) return undefined;
    if (this.assembled !== assembly.byteLength) throw new Error('ring corrupt: fragments short of the declared length');
    this.assembly = undefined;
    return assembly;
  }
}
