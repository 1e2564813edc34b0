/**
 * Where each actor lives, shared by every thread: an Int32Array over a SharedArrayBuffer.
 *
 *   slot 0          next actor id to hand out (Atomics.add), so any thread can allocate ids
 *   slot id (>= 1)  thread index + 1 of the thread hosting actor `id`; 0 = no such actor
 *
 * The supervisor writes a slot when it places or moves an actor; senders read it on every
 * cross-thread send, so a move redirects new messages at once.
 */
import type { Address } from './actor.js';

export const NO_THREAD = -1;

export class Directory {
  private readonly slots: Int32Array;
  readonly capacity: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.slots = new Int32Array(buffer);
    this.capacity = this.slots.length - 1;
  }

  static create(maxActors: number): Directory {
    const directory = new Directory(new SharedArrayBuffer((maxActors + 1) * 4));
    Atomics.store(directory.slots, 0, 1);
    return directory;
  }

  allocate(): Address {
    const id = Atomics.add(this.slots, 0, 1);
    if (id > this.capacity) throw new RangeError(`actor limit reached (${this.capacity} actors)`);
    return id;
  }

  threadOf(id: Address): number {
    if (!(id >= 1 && id <= this.capacity)) return NO_THREAD;
    return Atomics.load(this.slots, id) - 1;
  }

  place(id: Address, thread: number): void {
    Atomics.store(this.slots, id, thread + 1);
  }

  remove(id: Address): void {
    Atomics.store(this.slots, id, 0);
  }
}
