/**
 * Pure restart decisions for the supervisor: whether a crashed actor or a dead worker is started
 * again. A bounded restart intensity (at most `maxRestarts` within `windowMs`, as in Erlang/OTP)
 * keeps a crash loop from spinning forever; past it the actor (or worker) is given up on.
 */
import type { RestartPolicy } from './actor.js';

export type RestartDecision = 'restart' | 'stop';

export function decideAfterCrash(policy: RestartPolicy, intensityAllows: boolean): RestartDecision {
  if (policy === 'temporary') return 'stop';
  return intensityAllows ? 'restart' : 'stop';
}

export class RestartIntensity {
  private readonly times: number[] = [];

  constructor(readonly maxRestarts: number, readonly windowMs: number) {}

  /** Records a restart at `now` if the budget allows it; returns whether it did. */
  tryRestart(now: number): boolean {
    while (this.times.length > 0 && now - this.times[0]! > this.windowMs) this.times.shift();
    if (this.times.length >= this.maxRestarts) return false;
    this.times.push(now);
    return true;
  }
}
