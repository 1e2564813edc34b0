/**
 * A doorbell lets one consumer thread sleep until any of its producers has published something,
 * without ever blocking its event loop (Atomics.waitAsync, never Atomics.wait).
 *
 * Layout (Int32 slots of a SharedArrayBuffer, each on its own 64-byte line):
 *
 *   slot SLEEPING (byte 0)  : 1 while the consumer is parked (or about to park), else 0
 *   slot SEQUENCE (byte 64) : bumped by a producer that saw SLEEPING = 1; the consumer waits on it
 *
 * Why no lost wake-up: the consumer stores SLEEPING = 1, reads SEQUENCE, then re-checks its
 * queues before waiting on SEQUENCE's old value. A producer publishes first, then loads
 * SLEEPING. Atomics are sequentially consistent, so either the producer sees SLEEPING = 1 and
 * bumps SEQUENCE (the wait returns at once or is notified), or the consumer's re-check sees the
 * published data.
 *
 * Note: a pending Atomics.waitAsync does not keep Node's event loop alive. A thread that parks
 * here must hold something that does (a worker's parentPort listener, a server socket, a timer).
 */
export const DOORBELL_BYTES = 128;
const SLEEPING = 0;
const SEQUENCE = 16;

export class Doorbell {
  private readonly slots: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer, byteOffset = 0) {
    this.slots = new Int32Array(buffer, byteOffset, DOORBELL_BYTES / 4);
  }

  static create(): Doorbell {
    return new Doorbell(new SharedArrayBuffer(DOORBELL_BYTES));
  }

  /** Producer side: called after publishing. Cheap when nobody sleeps (one atomic load). */
  ring(): void {
    // Only the first producer to see the consumer asleep pays for the wake-up: it clears the
    // flag, so later publishes before the consumer runs cost one load.
    if (Atomics.load(this.slots, SLEEPING) !== 0 && Atomics.compareExchange(this.slots, SLEEPING, 1, 0) === 1) {
      Atomics.add(this.slots, SEQUENCE, 1);
      Atomics.notify(this.slots, SEQUENCE);
    }
  }

  /**
   * Consumer side: resolves when `hasWork()` is true or a producer rang. `timeoutMs` bounds
   * the sleep (used for periodic housekeeping); Infinity waits for a ring.
   */
  async sleepUnless(hasWork: () => boolean, timeoutMs = Infinity): Promise<void> {
    Atomics.store(this.slots, SLEEPING, 1);
    const sequence = Atomics.load(this.slots, SEQUENCE);
    if (hasWork()) {
      Atomics.store(this.slots, SLEEPING, 0);
      return;
    }
    const waited = Atomics.waitAsync(this.slots, SEQUENCE, sequence, timeoutMs);
    if (waited.async) await waited.value;
    Atomics.store(this.slots, SLEEPING, 0);
  }

  /** Wakes the consumer unconditionally (used when its thread is told to stop). */
  wake(): void {
    Atomics.add(this.slots, SEQUENCE, 1);
    Atomics.notify(this.slots, SEQUENCE);
  }
}
