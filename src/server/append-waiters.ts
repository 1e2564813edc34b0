/**
 * Long polling for Fetch: a fetch that finds less than fetch.min.bytes waits here, and an append
 * to any partition it reads wakes it at once; the only timer is its fetch.max.wait.ms deadline.
 *
 *   fetch(orders-0, orders-1) --wait--> waiters["orders-0"] = {wake}, waiters["orders-1"] = {wake}
 *   produce(orders-1) --notify("orders-1")--> wake(): the fetch reads again
 *
 * Each wait registers one callback per partition and removes all of them when it settles, so
 * the table holds only fetches that are waiting now (bounded by connections x in-flight requests).
 */

export type WakeReason = 'append' | 'timeout' | 'closing';

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class AppendWaiters {
  private readonly waiters = new Map<string, Set<(reason: WakeReason) => void>>();
  private readonly all = new Set<(reason: WakeReason) => void>();
  private closing = false;

  /** Resolves on the first append to one of `keys`, at the deadline, or when the broker stops. */
  wait(keys: readonly string[], timeoutMs: number): Promise<WakeReason> {
    if (this.closing) return Promise.resolve('closing');
    return new Promise((resolve) => {
      const wake = (reason: WakeReason): void => {
        clearTimeout(timer);
        this.all.delete(wake);
        for (const key of keys) {
          const set = this.waiters.get(key);
          set?.delete(wake);
          if (set?.size === 0) this.waiters.delete(key);
        }
        resolve(reason);
      };
      const timer = setTimeout(wake, Math.max(0, timeoutMs), 'timeout');
      this.all.add(wake);
      for (const key of keys) {
        let set = this.waiters.get(key);
        if (!set) this.waiters.set(key, (set = new Set()));
        set.add(wake);
      }
    });
  }

  notify(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    for (const wake of [...set]) wake('append');
  }

  /** Number of fetches waiting now. */
  get waiting(): number {
    return this.all.size;
  }

  /** Wakes every waiting fetch so it answers now, and makes later waits return at once. */
  close(): void {
    this.closing = true;
    for (const wake of [...this.all]) wake('closing');
  }
}
