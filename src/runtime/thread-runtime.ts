/**
 * The threaded runtime: a supervisor on the main thread that starts W worker threads, places
 * actors on them, restarts a worker that dies and an actor that crashes (per its restart
 * policy), and moves actors between workers.
 *
 * Threads are numbered 0 (the main thread, which also hosts actors made with spawnLocal) and
 * 1..W (workers). Every ordered pair of threads has its own ring, so each ring has exactly one
 * producer and one consumer:
 *
 *            ring[0][1]            ring[1][2]
 *   main(0) ───────────▶ worker 1 ───────────▶ worker 2
 *           ◀─────────── ...     ◀───────────
 *            ring[1][0]            ring[2][1]
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ActorFactory, ActorSpec, Address, RestartPolicy } from './actor.js';
import { NO_ADDRESS } from './actor.js';
import { Directory, NO_THREAD } from './directory.js';
import { Doorbell } from './doorbell.js';
import { createLogger } from './logger.js';
import { runnableUrl } from './module-url.js';
import { RestartIntensity, decideAfterCrash } from './restart-policy.js';
import { createRingBuffer } from './ring.js';
import type { SupervisorCommand, WorkerBootstrap, WorkerReport } from './supervision.js';
import { ThreadNode } from './thread-node.js';

export interface ThreadRuntimeOptions {
  /** Worker threads; default: the host's available parallelism. */
  readonly workers?: number;
  /** Bytes of each ring (power of two); default 1 MiB. */
  readonly ringBytes?: number;
  /** Upper bound on actors ever spawned; default 65,536. */
  readonly maxActors?: number;
  /** Restart budget per actor and per worker: at most `max` restarts within `windowMs`. */
  readonly restartIntensity?: { max: number; windowMs: number };
  /** Passed to each worker (maxOldGenerationSizeMb...): a worker over it dies and is restarted. */
  readonly resourceLimits?: ResourceLimits;
  readonly log?: Logger;
}

interface ActorRecord {
  readonly spec: ActorSpec | undefined;
  readonly policy: RestartPolicy;
  readonly intensity: RestartIntensity;
  thread: number;
  restarts: number;
}

interface WorkerSlot {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>;
  lastError: Error | undefined;
  intensity: RestartIntensity;
  failed: boolean;
}

export interface ThreadRuntimeEvents {
  workerRestarted: [thread: number, reason: string];
  actorRestarted: [id: Address, reason: string];
  actorStopped: [id: Address, reason: string];
}

const DEFAULT_RING_BYTES = 1 << 20;
const DEFAULT_MAX_ACTORS = 1 << 16;

export class ThreadRuntime extends EventEmitter<ThreadRuntimeEvents> {
  readonly workerCount: number;
  readonly directory: Directory;
  readonly log: Logger;
  private readonly ringBytes: number;
  private readonly doorbells: Doorbell[];
  /** rings[from][to]; null on the diagonal. */
  private readonly rings: (SharedArrayBuffer | null)[][];
  private readonly slots: (WorkerSlot | undefined)[];
  private readonly node: ThreadNode;
  private readonly records = new Map<Address, ActorRecord>();
  private readonly intensity: { max: number; windowMs: number };
  private readonly resourceLimits: ResourceLimits | undefined;
  private readonly workerUrl = runnableUrl(new URL('./worker-main.js', import.meta.url).href.replace(/\.js$/, extensionOfThisFile()));
  private nextRequest = 1;
  private closing = false;

  private constructor(options: ThreadRuntimeOptions) {
    super();
    this.workerCount = options.workers ?? availableParallelism();
    if (!Number.isInteger(this.workerCount) || this.workerCount < 1 || this.workerCount > 256) {
      throw new RangeError(`workers must be an integer in [1, 256], got ${options.workers}`);
    }
    this.ringBytes = options.ringBytes ?? DEFAULT_RING_BYTES;
    this.intensity = options.restartIntensity ?? { max: 10, windowMs: 10_000 };
    this.resourceLimits = options.resourceLimits;
    this.log = options.log ?? createLogger('samsa-runtime', { thread: 0 });
    this.directory = Directory.create(options.maxActors ?? DEFAULT_MAX_ACTORS);
    const threads = this.workerCount + 1;
    this.doorbells = Array.from({ length: threads }, () => Doorbell.create());
    this.rings = Array.from({ length: threads }, (_, from) =>
      Array.from({ length: threads }, (_, to) => (from === to ? null : createRingBuffer(this.ringBytes))),
    );
    this.slots = new Array(threads).fill(undefined);
    this.node = new ThreadNode({
      threadIndex: 0,
      directory: this.directory,
      doorbell: this.doorbells[0]!,
      log: this.log,
      onCrash: (id, error) => this.onActorCrash(0, id, error.message),
    });
    for (let peer = 1; peer < threads; peer++) this.connectMain(peer);
  }

  static async start(options: ThreadRuntimeOptions = {}): Promise<ThreadRuntime> {
    const runtime = new ThreadRuntime(options);
    runtime.node.startPump();
    const starting: Promise<void>[] = [];
    for (let thread = 1; thread <= runtime.workerCount; thread++) starting.push(runtime.startWorker(thread));
    await Promise.all(starting);
    return runtime;
  }

  /** Places an actor on a worker (the least loaded one unless `thread` says which). */
  async spawn(spec: ActorSpec, placement: { thread?: number } = {}): Promise<Address> {
    const thread = placement.thread ?? this.leastLoadedWorker();
    this.checkWorker(thread);
    const id = this.directory.allocate();
    const record: ActorRecord = {
      spec,
      policy: spec.restart ?? 'permanent',
      intensity: new RestartIntensity(this.intensity.max, this.intensity.windowMs),
      thread,
      restarts: 0,
    };
    this.records.set(id, record);
    await this.request(thread, { op: 'spawn', requestId: 0, id, spec, state: undefined, restarts: 0 });
    return id;
  }

  /** An actor on the main thread (for embedding code and tests); restarted locally on crash. */
  spawnLocal(factory: ActorFactory, args?: unknown, options: { restart?: RestartPolicy; mailboxCapacity?: number } = {}): Address {
    const id = this.directory.allocate();
    this.records.set(id, {
      spec: undefined,
      policy: options.restart ?? 'permanent',
      intensity: new RestartIntensity(this.intensity.max, this.intensity.windowMs),
      thread: 0,
      restarts: 0,
    });
    const spec = options.mailboxCapacity ? ({ module: '', factory: '', mailboxCapacity: options.mailboxCapacity } as ActorSpec) : undefined;
    this.node.spawnWithFactory(id, factory, args, spec);
    return id;
  }

  /** Sends from outside any actor. */
  send(to: Address, body: unknown, data?: Uint8Array): Promise<void> {
    return this.node.sendFrom(NO_ADDRESS, to, body, data);
  }

  /** Sends as a main-thread actor (so replies come back to it). */
  sendAs(from: Address, to: Address, body: unknown, data?: Uint8Array): Promise<void> {
    return this.node.sendFrom(from, to, body, data);
  }

  threadOf(id: Address): number {
    return this.directory.threadOf(id);
  }

  /** Moves a worker actor to another worker, carrying its exportState() snapshot. */
  async move(id: Address, toThread: number): Promise<void> {
    const record = this.records.get(id);
    if (!record || !record.spec) throw new Error(`actor ${id} is not a worker actor`);
    this.checkWorker(toThread);
    const from = record.thread;
    if (from === toThread) return;
    await this.request(toThread, { op: 'prepare', requestId: 0, id, spec: record.spec });
    const state = await this.request(from, { op: 'release', requestId: 0, id, to: toThread });
    record.thread = toThread;
    await this.request(toThread, { op: 'adopt', requestId: 0, id, state });
    this.log.info({ actor: id, from, to: toThread }, 'actor moved');
  }

  async stop(id: Address): Promise<void> {
    const record = this.records.get(id);
    if (!record) return;
    this.records.delete(id);
    if (record.thread === 0) await this.node.stop(id, true);
    else await this.request(record.thread, { op: 'stop', requestId: 0, id, normal: true });
  }

  /** The worker thread object (tests use it to kill a worker). */
  workerThread(thread: number): Worker {
    this.checkWorker(thread);
    return this.slots[thread]!.worker;
  }

  async close(): Promise<void> {
    this.closing = true;
    const stopping: Promise<unknown>[] = [];
    for (let thread = 1; thread <= this.workerCount; thread++) {
      const slot = this.slots[thread];
      if (!slot || slot.failed) continue;
      stopping.push(
        this.request(thread, { op: 'shutdown', requestId: 0 })
          .catch(() => undefined)
          .then(() => slot.worker.terminate()),
      );
    }
    await Promise.all(stopping);
    await this.node.shutdown();
  }

  // ---- workers ------------------------------------------------------------------------------

  private startWorker(thread: number): Promise<void> {
    const bootstrap: WorkerBootstrap = {
      threadIndex: thread,
      directory: this.directory.buffer,
      doorbells: this.doorbells.map((doorbell) => doorbell.buffer),
      toPeers: this.rings[thread]!,
      fromPeers: this.rings.map((row) => row[thread] ?? null),
    };
    const worker = new Worker(new URL(this.workerUrl), {
      workerData: bootstrap,
      resourceLimits: this.resourceLimits,
      env: process.env,
    });
    const previous = this.slots[thread];
    let markReady!: () => void;
    const slot: WorkerSlot = {
      worker,
      ready: new Promise<void>((resolve) => (markReady = resolve)),
      pending: new Map(),
      lastError: undefined,
      intensity: previous?.intensity ?? new RestartIntensity(this.intensity.max, this.intensity.windowMs),
      failed: false,
    };
    this.slots[thread] = slot;
    worker.on('message', (report: WorkerReport) => {
      if (report.op === 'ready') markReady();
      else if (report.op === 'reply') {
        const waiter = slot.pending.get(report.requestId);
        slot.pending.delete(report.requestId);
        if (report.error !== undefined) waiter?.reject(new Error(report.error));
        else waiter?.resolve(report.result);
      } else if (report.op === 'crashed') this.onActorCrash(thread, report.id, report.message);
    });
    worker.on('error', (error) => {
      slot.lastError = error;
    });
    worker.on('exit', (code) => void this.onWorkerExit(thread, slot, code));
    return slot.ready;
  }

  private async onWorkerExit(thread: number, slot: WorkerSlot, code: number): Promise<void> {
    for (const waiter of slot.pending.values()) waiter.reject(new Error(`worker ${thread} exited`));
    slot.pending.clear();
    if (this.closing || this.slots[thread] !== slot) return;
    const reason = slot.lastError ? `${slot.lastError.name}: ${slot.lastError.message}` : `exit code ${code}`;
    if (!slot.intensity.tryRestart(Date.now())) {
      slot.failed = true;
      this.log.fatal({ thread, reason }, 'worker died too often; giving up on it');
      return;
    }
    this.log.error({ thread, reason }, 'worker died; restarting it and its actors');
    this.replaceRings(thread);
    await this.startWorker(thread);
    for (const [id, record] of this.records) {
      if (record.thread !== thread || !record.spec) continue;
      if (decideAfterCrash(record.policy, record.intensity.tryRestart(Date.now())) === 'stop') {
        this.records.delete(id);
        this.directory.remove(id);
        this.emit('actorStopped', id, `its worker died (${reason})`);
        continue;
      }
      record.restarts++;
      await this.request(thread, { op: 'spawn', requestId: 0, id, spec: record.spec, state: undefined, restarts: record.restarts });
    }
    this.emit('workerRestarted', thread, reason);
  }

  /** Fresh rings to and from a restarted worker; every live thread switches to them. */
  private replaceRings(thread: number): void {
    const threads = this.workerCount + 1;
    for (let peer = 0; peer < threads; peer++) {
      if (peer === thread) continue;
      this.rings[peer]![thread] = createRingBuffer(this.ringBytes);
      this.rings[thread]![peer] = createRingBuffer(this.ringBytes);
      if (peer === 0) this.connectMain(thread);
      else if (!this.slots[peer]?.failed) {
        this.post(peer, { op: 'peer', peer: thread, toPeer: this.rings[peer]![thread]!, fromPeer: this.rings[thread]![peer]! });
      }
    }
  }

  private connectMain(peer: number): void {
    this.node.connectPeer(peer, this.rings[0]![peer]!, this.doorbells[peer]!, this.rings[peer]![0]!);
  }

  // ---- actors -------------------------------------------------------------------------------

  private onActorCrash(thread: number, id: Address, message: string): void {
    const record = this.records.get(id);
    if (!record) return;
    const decision = decideAfterCrash(record.policy, record.intensity.tryRestart(Date.now()));
    if (decision === 'restart') {
      record.restarts++;
      this.log.warn({ actor: id, thread, reason: message, restarts: record.restarts }, 'restarting crashed actor');
      if (thread === 0) this.node.restart(id);
      else this.post(thread, { op: 'restart', id });
      this.emit('actorRestarted', id, message);
      return;
    }
    this.log.error({ actor: id, thread, reason: message, policy: record.policy }, 'crashed actor not restarted');
    this.records.delete(id);
    this.directory.remove(id);
    if (thread === 0) void this.node.stop(id, false);
    else void this.request(thread, { op: 'stop', requestId: 0, id, normal: false }).catch(() => undefined);
    this.emit('actorStopped', id, message);
  }

  private leastLoadedWorker(): number {
    const load = new Array<number>(this.workerCount + 1).fill(0);
    for (const record of this.records.values()) load[record.thread]!++;
    let best = 1;
    for (let thread = 2; thread <= this.workerCount; thread++) {
      if (!this.slots[thread]?.failed && load[thread]! < load[best]!) best = thread;
    }
    return best;
  }

  private checkWorker(thread: number): void {
    if (!Number.isInteger(thread) || thread < 1 || thread > this.workerCount) {
      throw new RangeError(`no worker thread ${thread} (workers are 1..${this.workerCount})`);
    }
    if (this.slots[thread]?.failed) throw new Error(`worker thread ${thread} has failed`);
  }

  private post(thread: number, command: SupervisorCommand): void {
    this.slots[thread]?.worker.postMessage(command);
  }

  private async request(thread: number, command: SupervisorCommand & { requestId: number }): Promise<unknown> {
    const slot = this.slots[thread];
    if (!slot) throw new Error(`worker thread ${thread} is not running`);
    await slot.ready;
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      slot.pending.set(requestId, { resolve, reject });
      slot.worker.postMessage({ ...command, requestId });
    });
  }
}

/** '.ts' when running from sources (vitest), '.js' when compiled. */
function extensionOfThisFile(): string {
  return import.meta.url.endsWith('.ts') ? '.ts' : '.js';
}

export { NO_THREAD };
