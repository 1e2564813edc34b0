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
  /** Pairs (epoch ms the firing was due, ms late): each a pause of this thread. */
  private readonly late: number[] = [];
  private expectedAt: number;

  constructor(private readonly intervalMs = 10) {
    this.expectedAt = performance.now() + intervalMs;
    this.timer = setInterval(() => this.fired(), intervalMs);
  }

  /** Stops; the firings more than LATE_MS_MIN late, as pairs (epoch ms due, ms late), the shape of a load worker's GC pauses. */
  stop(): Float64Array {
    clearInterval(this.timer);
    return Float64Array.from(this.late);
  }

  private fired(): void {
    const now = performance.now();
    const lateMs = now - this.expectedAt;
    this.expectedAt = now + this.intervalMs;
    if (lateMs <= LATE_MS_MIN) return;
    if (this.late.length >= 2 * KEPT_MAX) this.late.splice(0, 2);
    this.late.push(performance.timeOrigin + now - lateMs, lateMs);
  }
}
