/**
 * Requests an actor sent and awaits replies to, by request id: code outside an actor's handler
 * (a request handler on the broker's thread) asks another actor and gets a promise; the reply
 * arrives as a message to the actor that sent it, which hands it to `settle`. Bounded by what
 * its callers keep in flight; `settleAll` answers everything left when the actor stops.
 */
export class PendingReplies<Reply> {
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private nextRequest = 1;

  get size(): number {
    return this.waiting.size;
  }

  /** Sends with a fresh request id; resolves with the reply, rejects if the send fails. */
  request(send: (requestId: number) => Promise<void>): Promise<Reply> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.waiting.set(requestId, resolve);
      send(requestId).catch((error: unknown) => {
        this.waiting.delete(requestId);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  /** A reply arrived; one for an unknown (already settled) id is ignored. */
  settle(requestId: number, reply: Reply): void {
    const resolve = this.waiting.get(requestId);
    this.waiting.delete(requestId);
    resolve?.(reply);
  }

  /** Answers every request still waiting with `reply`. */
  settleAll(reply: Reply): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const resolve of waiting) resolve(reply);
  }
}
