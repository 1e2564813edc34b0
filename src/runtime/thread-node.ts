/**
 * One thread's share of the runtime: the actors it hosts, their mailboxes, and its ends of the
 * rings to every other thread. The main thread and every worker each run one ThreadNode.
 *
 * Data path: `send` looks the receiver up in the shared directory; on this thread the message
 * goes straight into the mailbox, on another it is written once into the ring towards that
 * thread. The pump reads this thread's inbound rings and hands each message to its actor as a
 * view into the ring; the ring space is released when the handler's promise settles.
 *
 * Backpressure: a full mailbox makes a local sender wait; for a ring message the pump stops
 * reading that ring until the mailbox has room, so the ring fills and the remote sender waits
 * in turn. Nothing is dropped; every queue has a bound.
 *
 * The supervision plane (spawn, crash reports, restarts, moves) is driven from outside through
 * the public methods; this file does no postMessage of its own.
 */
import type { Logger } from 'pino';
import { DEFAULT_MAILBOX_CAPACITY, MAILBOX_CAPACITY_MAX, type Actor, type ActorContext, type ActorFactory, type ActorSpec, type Address, type Message } from './actor.js';
import { systemClock, systemRandom, type Clock, type RandomSource, type TimerHandle } from './clock.js';
import { Directory, NO_THREAD } from './directory.js';
import type { Doorbell } from './doorbell.js';
import { readEnvelope, writeEnvelope } from './envelope.js';
import { Mailbox } from './mailbox.js';
import { RingClosedError, RingReader, RingWriter } from './ring.js';
import { loadFactory } from './factory-loader.js';
import { RestartIntensity } from './restart-policy.js';

const CHILD_RESTARTS_MAX = 10;
const CHILD_RESTART_WINDOW_MS = 10_000;
/** Messages a pump handles before it yields to the event loop (so I/O callbacks run). */
const PUMP_BUDGET = 4096;

interface Delivery extends Message {
  readonly reader: RingReader | undefined;
  readonly token: number;
}

type HostedState = 'running' | 'crashed' | 'arriving' | 'stopped';

interface HostedActor {
  readonly id: Address;
  readonly spec: ActorSpec | undefined;
  readonly factory: ActorFactory;
  readonly args: unknown;
  readonly mailbox: Mailbox<Delivery>;
  readonly context: ActorContext;
  readonly timers: Map<number, TimerHandle>;
  instance: Actor | undefined;
  state: HostedState;
  busy: boolean;
  restarts: number;
  /** Set while a move waits for the current message to finish. */
  onIdle: (() => void) | undefined;
}

interface InboundRing {
  readonly from: number;
  readonly reader: RingReader;
  /** A message whose mailbox was full: it is retried first once the mailbox has room. */
  blocked: Delivery | undefined;
  blockedTo: HostedActor | undefined;
}

export interface ThreadNodeOptions {
  readonly threadIndex: number;
  readonly directory: Directory;
  readonly doorbell: Doorbell;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Told when an actor's handler threw; the supervisor answers with restart or stop. */
  readonly onCrash: (id: Address, error: Error) => void;
}

export class ThreadNode {
  readonly threadIndex: number;
  readonly directory: Directory;
  private readonly doorbell: Doorbell;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly onCrash: (id: Address, error: Error) => void;
  private readonly actors = new Map<Address, HostedActor>();
  /** Children (spawnChild): restarted here after a crash, within their restart intensity. */
  private readonly children = new Map<Address, RestartIntensity>();
  private readonly outbound = new Map<number, RingWriter>();
  private readonly inbound = new Map<number, InboundRing>();
  private pumping = false;
  private stopped = false;
  private nextTimer = 1;
  deadLetters = 0;

  constructor(options: ThreadNodeOptions) {
    this.threadIndex = options.threadIndex;
    this.directory = options.directory;
    this.doorbell = options.doorbell;
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.onCrash = options.onCrash;
  }

  /**
   * Connects (or, after a peer restarted, reconnects) this thread to `peer`: the ring towards it
   * (whose writes ring the peer's doorbell) and the ring from it. A replaced writer is closed, so
   * senders parked on a dead peer's full ring give up instead of waiting forever.
   */
  connectPeer(peer: number, toPeer: SharedArrayBuffer, peerDoorbell: Doorbell, fromPeer: SharedArrayBuffer): void {
    this.outbound.get(peer)?.close();
    this.outbound.set(peer, new RingWriter(toPeer, peerDoorbell));
    this.inbound.set(peer, { from: peer, reader: new RingReader(fromPeer, this.doorbell), blocked: undefined, blockedTo: undefined });
    this.doorbell.wake();
  }

  hosts(id: Address): boolean {
    return this.actors.has(id);
  }

  actorIds(): Address[] {
    return [...this.actors.keys()];
  }

  // ---- supervision plane ------------------------------------------------------------------

  async spawn(id: Address, spec: ActorSpec, state?: unknown, restarts = 0): Promise<void> {
    const factory = await loadFactory(spec.module, spec.factory);
    this.spawnWithFactory(id, factory, spec.args, spec, state, restarts);
  }

  spawnWithFactory(id: Address, factory: ActorFactory, args: unknown, spec?: ActorSpec, state?: unknown, restarts = 0): void {
    const capacity = spec?.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY;
    if (capacity > MAILBOX_CAPACITY_MAX) throw new RangeError(`mailbox capacity ${capacity} exceeds ${MAILBOX_CAPACITY_MAX}`);
    if (this.actors.has(id)) throw new Error(`actor ${id} already runs on thread ${this.threadIndex}`);
    const hosted: HostedActor = {
      id,
      spec,
      factory,
      args,
      mailbox: new Mailbox<Delivery>(capacity),
      context: this.contextFor(id),
      timers: new Map(),
      instance: undefined,
      state: 'arriving',
      busy: false,
      restarts,
      onIdle: undefined,
    };
    this.actors.set(id, hosted);
    this.directory.place(id, this.threadIndex);
    hosted.instance = hosted.factory(hosted.context, { args: hosted.args, state, restarts });
    hosted.state = 'running';
    this.schedule(hosted);
  }

  /** Makes a mailbox for an actor about to arrive from another thread; messages queue in it. */
  prepare(id: Address, spec: ActorSpec): Promise<void> {
    return loadFactory(spec.module, spec.factory).then((factory) => {
      const capacity = spec.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY;
      this.actors.set(id, {
        id, spec, factory, args: spec.args, mailbox: new Mailbox<Delivery>(capacity), context: this.contextFor(id),
        timers: new Map(), instance: undefined, state: 'arriving', busy: false, restarts: 0, onIdle: undefined,
      });
    });
  }

  /** After a crash report: start a fresh instance; queued messages are kept. */
  restart(id: Address): void {
    const hosted = this.actors.get(id);
    if (!hosted) return;
    this.cancelTimers(hosted);
    hosted.restarts++;
    hosted.instance = hosted.factory(hosted.context, { args: hosted.args, state: undefined, restarts: hosted.restarts });
    hosted.state = 'running';
    this.schedule(hosted);
  }

  /** Stops an actor: waits for its current message, calls stop(), drops what is queued. */
  async stop(id: Address, normal: boolean): Promise<void> {
    const hosted = this.actors.get(id);
    if (!hosted) return;
    await this.whenIdle(hosted);
    const wasRunning = hosted.state === 'running';
    hosted.state = 'stopped';
    this.cancelTimers(hosted);
    if (normal && wasRunning) {
      try {
        await hosted.instance?.stop?.();
      } catch (error) {
        this.log.warn({ actor: id, err: error }, 'actor stop() threw');
      }
    }
    this.actors.delete(id);
    if (this.directory.threadOf(id) === this.threadIndex) this.directory.remove(id);
    for (const delivery of hosted.mailbox.drain()) {
      this.deadLetters++;
      this.releaseDelivery(delivery);
    }
  }

  /**
   * Hands an actor to thread `to`: finishes its current message, takes its snapshot, points the
   * directory at `to`, and forwards what was queued. Returns the snapshot for the new thread.
   */
  async release(id: Address, to: number): Promise<unknown> {
    const hosted = this.actors.get(id);
    if (!hosted) throw new Error(`actor ${id} is not on thread ${this.threadIndex}`);
    await this.whenIdle(hosted);
    hosted.state = 'stopped';
    this.cancelTimers(hosted);
    const state = hosted.instance?.exportState?.();
    this.actors.delete(id);
    this.directory.place(id, to);
    for (const delivery of hosted.mailbox.drain()) {
      await this.sendFrom(delivery.from, id, delivery.body, delivery.data);
      this.releaseDelivery(delivery);
    }
    return state;
  }

  /** Completes a move: the prepared actor starts from the snapshot and drains what queued. */
  adopt(id: Address, state: unknown): void {
    const hosted = this.actors.get(id);
    if (!hosted) throw new Error(`actor ${id} was not prepared on thread ${this.threadIndex}`);
    hosted.instance = hosted.factory(hosted.context, { args: hosted.args, state, restarts: hosted.restarts });
    hosted.state = 'running';
    this.schedule(hosted);
  }

  // ---- data plane ---------------------------------------------------------------------------

  /** Sends on behalf of `from`; see ActorContext.send. */
  sendFrom(from: Address, to: Address, body: unknown, data: Uint8Array | undefined): Promise<void> {
    const thread = this.directory.threadOf(to);
    if (thread === this.threadIndex) return this.deliverLocal(from, to, body, data);
    if (thread === NO_THREAD) {
      this.deadLetters++;
      this.log.debug({ to, from }, 'dead letter: no such actor');
      return Promise.resolve();
    }
    const writer = this.outbound.get(thread);
    if (!writer) {
      this.deadLetters++;
      return Promise.resolve();
    }
    const pending = writeEnvelope(writer, to, from, body, data);
    if (pending === undefined) return Promise.resolve();
    return pending.catch((error: unknown) => {
      if (!(error instanceof RingClosedError)) throw error;
      this.deadLetters++;
      this.log.debug({ to, from }, 'dead letter: the receiving thread died');
    });
  }

  private async deliverLocal(from: Address, to: Address, body: unknown, data: Uint8Array | undefined): Promise<void> {
    for (;;) {
      const hosted = this.actors.get(to);
      if (!hosted) {
        // Moved away meanwhile, or gone.
        if (this.directory.threadOf(to) !== this.threadIndex) return this.sendFrom(from, to, body, data);
        this.deadLetters++;
        return;
      }
      if (hosted.mailbox.push({ from, body, data, reader: undefined, token: -1 })) {
        this.schedule(hosted);
        return;
      }
      await hosted.mailbox.whenSpace();
    }
  }

  /** Starts the loop that reads the inbound rings. */
  startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pumpLoop();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.doorbell.wake();
    for (const id of [...this.actors.keys()]) await this.stop(id, true);
    for (const writer of this.outbound.values()) await writer.flushed().catch(() => undefined);
  }

  private async pumpLoop(): Promise<void> {
    while (!this.stopped) {
      const handled = this.pumpOnce();
      if (handled >= PUMP_BUDGET) {
        await new Promise<void>((resolve) => setImmediate(resolve));
      } else if (handled === 0) {
        await this.doorbell.sleepUnless(() => this.hasReadableRing());
      } else {
        // Let handlers' microtasks and I/O callbacks run before the next pass.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  private hasReadableRing(): boolean {
    if (this.stopped) return true;
    for (const ring of this.inbound.values()) {
      if (ring.blocked === undefined && ring.reader.hasUnread()) return true;
    }
    return false;
  }

  private pumpOnce(): number {
    let handled = 0;
    for (const ring of this.inbound.values()) {
      while (handled < PUMP_BUDGET && ring.blocked === undefined) {
        const message = ring.reader.tryRead();
        if (message === null) break;
        handled++;
        const envelope = readEnvelope(message.bytes);
        this.deliverFromRing(ring, { from: envelope.from, body: envelope.body, data: envelope.data, reader: ring.reader, token: message.token }, envelope.to);
      }
    }
    return handled;
  }

  private deliverFromRing(ring: InboundRing, delivery: Delivery, to: Address): void {
    const hosted = this.actors.get(to);
    if (!hosted) {
      const thread = this.directory.threadOf(to);
      if (thread !== NO_THREAD && thread !== this.threadIndex) {
        // The actor moved: forward (a copy into the next ring), then free this frame.
        void this.sendFrom(delivery.from, to, delivery.body, delivery.data).finally(() => this.releaseDelivery(delivery));
        return;
      }
      this.deadLetters++;
      this.log.debug({ to, from: delivery.from }, 'dead letter: no such actor on this thread');
      this.releaseDelivery(delivery);
      return;
    }
    if (hosted.mailbox.push(delivery)) {
      this.schedule(hosted);
      return;
    }
    ring.blocked = delivery;
    ring.blockedTo = hosted;
    void hosted.mailbox.whenSpace().then(() => this.unblock(ring));
  }

  private unblock(ring: InboundRing): void {
    const delivery = ring.blocked;
    const hosted = ring.blockedTo;
    if (!delivery || !hosted) return;
    ring.blocked = undefined;
    ring.blockedTo = undefined;
    if (this.actors.get(hosted.id) !== hosted) {
      this.deliverFromRing(ring, delivery, hosted.id);
    } else if (hosted.mailbox.push(delivery)) {
      this.schedule(hosted);
    } else {
      ring.blocked = delivery;
      ring.blockedTo = hosted;
      void hosted.mailbox.whenSpace().then(() => this.unblock(ring));
      return;
    }
    this.doorbell.wake();
  }

  // ---- running actors -----------------------------------------------------------------------

  private schedule(hosted: HostedActor): void {
    if (hosted.busy || hosted.state !== 'running' || hosted.mailbox.size === 0) return;
    hosted.busy = true;
    this.run(hosted);
  }

  /** Processes messages one at a time; synchronous handlers run back to back without yielding. */
  private run(hosted: HostedActor): void {
    for (;;) {
      if (hosted.state !== 'running') break;
      const delivery = hosted.mailbox.shift();
      if (delivery === undefined) break;
      let result: void | Promise<void>;
      try {
        result = hosted.instance!.receive(delivery);
      } catch (error) {
        this.releaseDelivery(delivery);
        this.crashed(hosted, error);
        break;
      }
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(
          () => {
            this.releaseDelivery(delivery);
            this.run(hosted);
          },
          (error: unknown) => {
            this.releaseDelivery(delivery);
            this.crashed(hosted, error);
            this.finishRun(hosted);
          },
        );
        return;
      }
      this.releaseDelivery(delivery);
    }
    this.finishRun(hosted);
  }

  private finishRun(hosted: HostedActor): void {
    hosted.busy = false;
    const onIdle = hosted.onIdle;
    if (onIdle) {
      hosted.onIdle = undefined;
      onIdle();
    }
  }

  private whenIdle(hosted: HostedActor): Promise<void> {
    if (!hosted.busy) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = hosted.onIdle;
      hosted.onIdle = () => {
        previous?.();
        resolve();
      };
    });
  }

  private crashed(hosted: HostedActor, error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    hosted.state = 'crashed';
    hosted.instance = undefined;
    this.cancelTimers(hosted);
    this.log.error({ actor: hosted.id, err: failure }, 'actor crashed');
    const child = this.children.get(hosted.id);
    if (!child) {
      this.onCrash(hosted.id, failure);
    } else if (child.tryRestart(this.clock.now())) {
      this.restart(hosted.id);
    } else {
      this.log.error({ actor: hosted.id }, 'child actor crashed too often; stopped');
      this.children.delete(hosted.id);
      void this.stop(hosted.id, false);
    }
  }

  private releaseDelivery(delivery: Delivery): void {
    if (delivery.reader) delivery.reader.release(delivery.token);
  }

  private cancelTimers(hosted: HostedActor): void {
    for (const handle of hosted.timers.values()) this.clock.cancelTimer(handle);
    hosted.timers.clear();
  }

  private contextFor(id: Address): ActorContext {
    const node = this;
    const log = this.log.child({ actor: id });
    return {
      self: id,
      log,
      send: (to, body, data) => node.sendFrom(id, to, body, data),
      now: () => node.clock.now(),
      random: () => node.random.next(),
      schedule(delayMs, body) {
        const hosted = node.actors.get(id);
        const timer = node.nextTimer++;
        const handle = node.clock.setTimer(delayMs, () => {
          hosted?.timers.delete(timer);
          void node.deliverLocal(id, id, body, undefined);
        });
        hosted?.timers.set(timer, handle);
        return timer;
      },
      cancel(timer) {
        const hosted = node.actors.get(id);
        const handle = hosted?.timers.get(timer);
        if (handle) {
          node.clock.cancelTimer(handle);
          hosted!.timers.delete(timer);
        }
      },
      spawnChild(factory, args, options = {}) {
        const child = node.directory.allocate();
        node.children.set(child, new RestartIntensity(CHILD_RESTARTS_MAX, CHILD_RESTART_WINDOW_MS));
        const spec = options.mailboxCapacity ? ({ module: '', factory: '', mailboxCapacity: options.mailboxCapacity } as ActorSpec) : undefined;
        node.spawnWithFactory(child, factory, args, spec);
        return child;
      },
      async stopChild(child) {
        if (!node.children.delete(child)) return;
        await node.stop(child, true);
      },
    };
  }
}
