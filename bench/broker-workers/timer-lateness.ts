/**
 * How late a timer of this (mostly idle) thread fired during a window: a 10 ms interval notes
 * each firing more than LATE_MS_MIN late. The bench's main thread only orchestrates, so when it
 * and the load workers and the broker all stall at the same moment, the machine stalled (the
 * VM's cores taken away, or the kernel busy), not one of them; a stall that only the broker
 * shows is the broker's.
 */
const LATE_MS_MIN = 2;
/** Late firings kept (pairs); older ones are dropped first. A sampler lives for one case (~10 s). */
const KEPT_MAX = 4096;

export class TimerLateness {
  private readonly timer: NodeJS.Timeout;
  /** Pairs (epoch ms of the firing, ms late). */
  private readonly late: number[] = [];
  private expectedAt: number;

  constructor(private readonly intervalMs = 10) {
    this.expectedAt = performance.now() + intervalMs;
    this.timer = setInterval(() => this.fired(), intervalMs);
  }

  /** Stops; the most a firing within [fromMs, toMs] (epoch ms) was late, 0 if none was over LATE_MS_MIN. */
  stop(fromMs: number, toMs: number): number {
    clearInterval(this.timer);
    let max = 0;
    for (let i = 0; i < this.late.length; i += 2) if (this.late[i]! >= fromMs && this.late[i]! <= toMs) max = Math.max(max, this.late[i + 1]!);
    return max;
  }

  private fired(): void {
    const now = performance.now();
    const lateMs = now - this.expectedAt;
    this.expectedAt = now + this.intervalMs;
    if (lateMs <= LATE_MS_MIN) return;
    if (this.late.length >= 2 * KEPT_MAX) this.late.splice(0, 2);
    this.late.push(performance.timeOrigin + now, lateMs);
  }
}
