/**
 * A bounded FIFO of messages for one actor. `push` refuses when full; the caller then waits on
 * `whenSpace()`, so a flooded actor slows its senders instead of growing without limit.
 */
export class Mailbox<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  private count = 0;
  private spaceWaiters: (() => void)[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`mailbox capacity must be a positive integer, got ${capacity}`);
    this.slots = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  push(message: T): boolean {
    if (this.count === this.capacity) return false;
    this.slots[(this.head + this.count) % this.capacity] = message;
    this.count++;
    return true;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const message = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    if (this.spaceWaiters.length > 0) {
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const wake of waiters) wake();
    }
    return message;
  }

  /** Resolves once the mailbox has room (at once if it has now). */
  whenSpace(): Promise<void> {
    if (this.count < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Removes and returns every queued message (used when an actor moves or stops). */
  drain(): T[] {
    const messages: T[] = [];
    let message: T | undefined;
    while ((message = this.shift()) !== undefined) messages.push(message);
    return messages;
  }
}
