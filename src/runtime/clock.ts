/**
 * Every source of time and randomness an actor may use goes through these interfaces, so the
 * deterministic runtime can swap in a virtual clock and a seeded generator and replay a run.
 */
export interface Clock {
  /** Milliseconds since the epoch (wall clock) or since the start of a simulation. */
  now(): number;
  /** Calls `callback` after `delayMs`; returns a handle for cancel. */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
  cancelTimer(handle: TimerHandle): void;
}

export type TimerHandle = { readonly id: number };

export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    return { id: 0, timer } as TimerHandle;
  },
  cancelTimer(handle) {
    clearTimeout((handle as unknown as { timer: NodeJS.Timeout }).timer);
  },
};

export const systemRandom: RandomSource = {
  next: () => Math.random(),
};
