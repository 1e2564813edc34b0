/**
 * The deterministic mode of the runtime: the same actor factories that run on worker threads run
 * here on one thread, under a scheduler driven by one seed and a virtual clock, so a run (and a
 * failing run) replays exactly from its seed.
 *
 * One scheduler step:
 *   1. timers that are due (virtual time) put their message into their actor's mailbox;
 *   2. among actors that are idle and have mail, the seeded generator picks one and its handler
 *      starts on its next message (one delivery = one step, recorded in the trace);
 *   3. the microtask queue drains (one setImmediate), so handlers that only await simulated things
 *      (sends, other promises already settled) run as far as they can before the next pick.
 * When no actor can be picked, the clock jumps to the earliest timer; with no timer left the run
 * is idle (or deadlocked: every actor waits on something that cannot happen), and run() returns.
 *
 * Nothing here reads the wall clock or Math.random: the order of deliveries depends only on the
 * seed, the actors' code and the messages sent from outside.
 */
import { DEFAULT_MAILBOX_CAPACITY, MAILBOX_CAPACITY_MAX, NO_ADDRESS, type Actor, type ActorContext, type ActorFactory, type ActorSpec, type Address, type Message, type RestartPolicy } from './actor.js';
import { loadFactory } from './factory-loader.js';
import { createLogger, type Logger } from './logger.js';
import { Mailbox } from './mailbox.js';
import { SeededRandom } from './prng.js';
import { RestartIntensity, decideAfterCrash, type RestartDecision } from './restart-policy.js';

export interface DeterministicRuntimeOptions {
  readonly seed: number;
  /** Defaults to a logger bound to the seed, so every line of a failing run names it. */
  readonly log?: Logger;
  /** Where the virtual clock starts, in milliseconds. */
  readonly startTimeMs?: number;
  /** Restart budget per actor, counted in virtual time (same default as ThreadRuntime). */
  readonly restartIntensity?: { max: number; windowMs: number };
  /** Trace bound: past it entries are no longer recorded and `traceTruncated` is set. */
  readonly traceEntriesMax?: number;
}

export type TraceEntry =
  | { readonly kind: 'delivery'; readonly step: number; readonly timeMs: number; readonly to: Address; readonly from: Address; readonly body: unknown }
  | { readonly kind: 'crash'; readonly step: number; readonly timeMs: number; readonly actor: Address; readonly error: string; readonly decision: RestartDecision };

export interface RunLimits {
  /** Deliveries this call may make. */
  readonly maxSteps?: number;
  /** The virtual clock is not advanced past this time. */
  readonly untilMs?: number;
}

interface SimulatedActor {
  readonly id: Address;
  readonly factory: ActorFactory;
  readonly args: unknown;
  readonly policy: RestartPolicy;
  readonly intensity: RestartIntensity;
  readonly mailbox: Mailbox<Message>;
  readonly context: ActorContext;
  instance: Actor;
  /** True from the start of a handler until its promise settles: one message at a time. */
  busy: boolean;
  restarts: number;
}

interface PendingTimer {
  /** Timer ids grow with creation, so they also break ties between timers due at once. */
  readonly id: number;
  readonly owner: Address;
  readonly dueMs: number;
  readonly body: unknown;
}

const DEFAULT_RESTART_INTENSITY = { max: 10, windowMs: 10_000 };
const DEFAULT_TRACE_ENTRIES_MAX = 1_000_000;

export class DeterministicRuntime {
  readonly seed: number;
  private readonly log: Logger;
  private readonly random: SeededRandom;
  private readonly restartIntensity: { max: number; windowMs: number };
  private readonly traceEntriesMax: number;
  private readonly actors = new Map<Address, SimulatedActor>();
  private readonly timers = new Map<number, PendingTimer>();
  private readonly traceEntries: TraceEntry[] = [];
  private clockMs: number;
  private nextActorId = 1;
  private nextTimerId = 1;
  private stepCount = 0;
  private running = false;
  traceTruncated = false;
  /** Messages sent to an actor that does not exist or stopped with them still queued. */
  deadLetters = 0;

  constructor(options: DeterministicRuntimeOptions) {
    this.seed = options.seed;
    this.random = new SeededRandom(options.seed);
    this.log = options.log ?? createLogger('deterministic', { seed: options.seed });
    this.clockMs = options.startTimeMs ?? 0;
    this.restartIntensity = options.restartIntensity ?? DEFAULT_RESTART_INTENSITY;
    this.traceEntriesMax = options.traceEntriesMax ?? DEFAULT_TRACE_ENTRIES_MAX;
  }

  /** Every delivery and crash so far, in order: equal seeds and inputs give equal traces. */
  get trace(): readonly TraceEntry[] {
    return this.traceEntries;
  }

  /** Virtual time in milliseconds. */
  get nowMs(): number {
    return this.clockMs;
  }

  /** Messages queued for `id` (0 for an unknown actor): lets tests watch the bounds hold. */
  mailboxSize(id: Address): number {
    return this.actors.get(id)?.mailbox.size ?? 0;
  }

  spawn(factory: ActorFactory, args?: unknown, options: { mailboxCapacity?: number; restart?: RestartPolicy } = {}): Address {
    const capacity = options.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY;
    if (capacity > MAILBOX_CAPACITY_MAX) throw new RangeError(`mailbox capacity ${capacity} exceeds ${MAILBOX_CAPACITY_MAX}`);
    const id = this.nextActorId++;
    const context = this.contextFor(id);
    const instance = factory(context, { args, state: undefined, restarts: 0 });
    this.actors.set(id, {
      id, factory, args, context, instance, busy: false, restarts: 0,
      policy: options.restart ?? 'permanent',
      intensity: new RestartIntensity(this.restartIntensity.max, this.restartIntensity.windowMs),
      mailbox: new Mailbox<Message>(capacity),
    });
    return id;
  }

  /** Spawns from the same module and export a worker thread would load. */
  async spawnSpec(spec: ActorSpec): Promise<Address> {
    const factory = await loadFactory(spec.module, spec.factory);
    return this.spawn(factory, spec.args, { mailboxCapacity: spec.mailboxCapacity, restart: spec.restart });
  }

  /** A message from outside any actor. Waits while the mailbox is full, i.e. until run() drains it. */
  send(to: Address, body: unknown, data?: Uint8Array): Promise<void> {
    return this.deliver(NO_ADDRESS, to, body, data);
  }

  /** Runs steps until idle, deadlocked, or a limit; `steps` counts this call's deliveries. */
  async run(limits: RunLimits = {}): Promise<{ steps: number; nowMs: number }> {
    if (this.running) throw new Error('DeterministicRuntime.run is already running');
    this.running = true;
    const maxSteps = limits.maxSteps ?? Number.POSITIVE_INFINITY;
    const untilMs = limits.untilMs ?? Number.POSITIVE_INFINITY;
    let steps = 0;
    try {
      // Outside senders parked on a full mailbox may have been woken by an earlier run's last step.
      await settleMicrotasks();
      while (steps < maxSteps) {
        this.fireDueTimers();
        const eligible = [...this.actors.values()].filter((actor) => !actor.busy && actor.mailbox.size > 0);
        if (eligible.length > 0) {
          this.startHandler(eligible[this.random.below(eligible.length)]!);
          steps++;
          await settleMicrotasks();
          continue;
        }
        const next = this.earliestTimer();
        if (next === undefined) {
          const busy = [...this.actors.values()].filter((actor) => actor.busy).map((actor) => actor.id);
          if (busy.length > 0) this.log.warn({ busy, nowMs: this.clockMs }, 'run stopped: actors wait on something no timer or message will bring');
          break;
        }
        if (next.dueMs > untilMs) {
          this.clockMs = Math.max(this.clockMs, untilMs);
          break;
        }
        // The only place virtual time moves: nothing can run before this timer anyway.
        this.clockMs = Math.max(this.clockMs, next.dueMs);
      }
    } finally {
      this.running = false;
    }
    return { steps, nowMs: this.clockMs };
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Queues a message, waiting for room like ThreadNode's local delivery (nothing is dropped). */
  private async deliver(from: Address, to: Address, body: unknown, data: Uint8Array | undefined): Promise<void> {
    for (;;) {
      const actor = this.actors.get(to);
      if (!actor) {
        this.deadLetters++;
        this.log.debug({ to, from }, 'dead letter: no such actor');
        return;
      }
      if (actor.mailbox.push({ from, body, data })) return;
      await actor.mailbox.whenSpace();
    }
  }

  private startHandler(actor: SimulatedActor): void {
    const message = actor.mailbox.shift()!;
    const step = ++this.stepCount;
    this.record({ kind: 'delivery', step, timeMs: this.clockMs, to: actor.id, from: message.from, body: message.body });
    actor.busy = true;
    let result: void | Promise<void>;
    try {
      result = actor.instance.receive(message);
    } catch (error) {
      actor.busy = false;
      this.crashed(actor, error);
      return;
    }
    if (result === undefined || typeof (result as Promise<void>).then !== 'function') {
      actor.busy = false;
      return;
    }
    (result as Promise<void>).then(
      () => {
        actor.busy = false;
      },
      (error: unknown) => {
        actor.busy = false;
        this.crashed(actor, error);
      },
    );
  }

  /** As in ThreadRuntime: timers die with the instance, queued messages wait for the next one. */
  private crashed(actor: SimulatedActor, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.cancelTimersOf(actor.id);
    // A temporary actor never restarts, so it must not spend restart budget either.
    const allowed = actor.policy !== 'temporary' && actor.intensity.tryRestart(this.clockMs);
    const decision = decideAfterCrash(actor.policy, allowed);
    this.record({ kind: 'crash', step: this.stepCount, timeMs: this.clockMs, actor: actor.id, error: reason, decision });
    if (decision === 'restart') {
      actor.restarts++;
      this.log.warn({ actor: actor.id, reason, restarts: actor.restarts }, 'restarting crashed actor');
      try {
        actor.instance = actor.factory(actor.context, { args: actor.args, state: undefined, restarts: actor.restarts });
        return;
      } catch (factoryError) {
        this.log.error({ actor: actor.id, err: factoryError }, 'actor factory threw on restart');
      }
    } else {
      this.log.error({ actor: actor.id, reason, policy: actor.policy }, 'crashed actor not restarted');
    }
    this.actors.delete(actor.id);
    // Draining wakes senders parked on this mailbox; they then find no actor and count a dead letter.
    this.deadLetters += actor.mailbox.drain().length;
  }

  private record(entry: TraceEntry): void {
    if (this.traceEntries.length < this.traceEntriesMax) this.traceEntries.push(entry);
    else this.traceTruncated = true;
  }

  private earliestTimer(): PendingTimer | undefined {
    let earliest: PendingTimer | undefined;
    for (const timer of this.timers.values()) {
      if (earliest === undefined || timer.dueMs < earliest.dueMs) earliest = timer;
    }
    return earliest;
  }

  /** Due timers go to their mailboxes in (due time, creation) order, so ties replay exactly. */
  private fireDueTimers(): void {
    const due = [...this.timers.values()].filter((timer) => timer.dueMs <= this.clockMs);
    due.sort((left, right) => left.dueMs - right.dueMs || left.id - right.id);
    for (const timer of due) {
      this.timers.delete(timer.id);
      void this.deliver(timer.owner, timer.owner, timer.body, undefined);
    }
  }

  private cancelTimersOf(owner: Address): void {
    for (const timer of [...this.timers.values()]) if (timer.owner === owner) this.timers.delete(timer.id);
  }

  private contextFor(id: Address): ActorContext {
    const runtime = this;
    return {
      self: id,
      log: this.log.child({ actor: id }),
      send: (to, body, data) => runtime.deliver(id, to, body, data),
      now: () => runtime.clockMs,
      random: () => runtime.random.next(),
      schedule(delayMs, body) {
        // No liveness check: a factory may schedule before spawn registers its actor, and a
        // timer left by a stopped actor just ends as a dead letter.
        const timerId = runtime.nextTimerId++;
        runtime.timers.set(timerId, { id: timerId, owner: id, dueMs: runtime.clockMs + Math.max(0, delayMs), body });
        return timerId;
      },
      cancel(timer) {
        if (runtime.timers.get(timer)?.owner === id) runtime.timers.delete(timer);
      },
      spawnChild: (factory, args, options = {}) => runtime.spawn(factory, args, { mailboxCapacity: options.mailboxCapacity }),
      stopChild: async (child) => {
        const actor = runtime.actors.get(child);
        if (!actor) return;
        runtime.actors.delete(child);
        runtime.cancelTimersOf(child);
        await actor.instance.stop?.();
        runtime.deadLetters += actor.mailbox.drain().length;
      },
    };
  }
}

/** Resolves after every microtask queued so far (and those they queue) has run. */
function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
