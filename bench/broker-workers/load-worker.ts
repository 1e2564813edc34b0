/**
 * The load generator of bench/broker.ts, one worker thread per role (the main thread only
 * orchestrates). Everything goes through the Kafka protocol over loopback TCP:
 *
 *   produce          N connections (one per partition leader x connectionsPerTarget), each
 *                    keeping `window` Produce requests in flight (pipelined): a response frees a
 *                    slot and the next request goes out at once (closed loop), or, with
 *                    `rateRecordsPerS`, requests leave on a schedule (open loop, 1 ms ticks) and
 *                    carry their send time in the first record's value (CRC recomputed).
 *                    Every request is the same pre-built batch (encodeBatch once per shape; the
 *                    broker assigns offsets), in one of window+1 frame copies per connection so a
 *                    frame is never patched while the kernel may still be sending it.
 *   consume-drain    one connection per partition leader, one Fetch in flight each (as a Kafka
 *                    consumer keeps one per broker), from offset 0 up to a given end offset.
 *   consume-latency  the same with long polling (maxWaitMs, minBytes 1) on a live topic: for each
 *                    batch, time seen here minus the send time stamped in it.
 *   loopback         the produce frames written the same way (one write per request frame,
 *                    `window` outstanding per connection, the next written when one is flushed)
 *                    to a server that reads and discards: the TCP ceiling for those bytes.
 *
 * Every client connection reads its responses the way Kafka's Java client does, straight into a
 * reused buffer that holds the whole frame (frame-reader.ts), not through Node's 64 KiB chunks
 * joined per frame: that path cost the consumer more CPU than the broker spent serving it.
 *
 * Measurement windows: counters are snapshotted at warm-up end and at the end of the window;
 * rates use the time between the two snapshots. CPU of the other processes (broker, sink) is
 * read from /proc/<pid>/stat at the same two moments.
 */
import fs from 'node:fs';
import net from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { CORRELATION_ID_AT } from '../../src/client/kafka-connection.js';
import { FrameReader } from './frame-reader.js';
import {
  buildBatch,
  epochMs,
  fetchFrame,
  machineBusyTicks,
  produceFrame,
  readFetchResponse,
  readProduceResponse,
  stampBatch,
  walkBatches,
  type PrebuiltBatch,
} from './wire.js';

/**
 * This worker's garbage-collection pauses as pairs (start epoch ms, duration ms), the most
 * recent GC_PAUSES_KEPT: a latency case reports those in its window, so that a stall of the load
 * generator itself is told apart from the broker's (docs/benchmarks.md, session 16).
 */
const GC_PAUSES_KEPT = 4096;
const gcPauses: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push(performance.timeOrigin + entry.startTime, entry.duration);
  if (gcPauses.length > 2 * GC_PAUSES_KEPT) gcPauses.splice(0, gcPauses.length - 2 * GC_PAUSES_KEPT);
}).observe({ entryTypes: ['gc'] });

/** The GC pauses of this worker that began at or after `fromMs` (epoch), as pairs (start, duration). */
function gcPausesSince(fromMs: number): Float64Array {
  const pauses: number[] = [];
  for (let i = 0; i < gcPauses.length; i += 2) if (gcPauses[i]! >= fromMs) pauses.push(gcPauses[i]!, gcPauses[i + 1]!);
  return Float64Array.from(pauses);
}

export interface Target {
  readonly partition: number;
  readonly port: number;
}

export interface ProduceSpec {
  readonly op: 'produce';
  readonly host: string;
  readonly topic: string;
  readonly targets: readonly Target[];
  readonly connectionsPerTarget: number;
  readonly window: number;
  readonly valueBytes: number;
  readonly batchBytes: number;
  /** Caps records per batch (linger-sized batches in the open-loop case). */
  readonly recordsPerBatch?: number;
  readonly acks: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Stop sending after this many request bytes (bounds the disk written). */
  readonly wireBytesMax: number;
  /** The warm-up also ends once this many request bytes were sent (default: only warmupMs ends it). */
  readonly warmupWireBytesMax?: number;
  /** 0: closed loop (as fast as responses come back); else records/s across all connections. */
  readonly rateRecordsPerS: number;
  readonly stamp: boolean;
  readonly cpuPids: readonly number[];
  readonly clockTicksPerS: number;
}

/** What a measurement window saw (see Window): this thread's ELU and the CPU of the processes watched. */
export interface WindowFigures {
  readonly elu: number;
  /** The given pids, then this bench process, then everything else, in cores. */
  readonly cpuCores: number[];
  readonly sysCores: number[];
  readonly topThreadCores: number[][];
  /** The measurement window on CLOCK_MONOTONIC (µs), to cut a broker CPU profile to it. */
  readonly monotonicUs: [number, number];
}

export interface ProduceResult extends WindowFigures {
  readonly op: 'produced';
  readonly records: number;
  readonly requests: number;
  readonly payloadBytes: number;
  readonly wireBytes: number;
  readonly seconds: number;
  readonly batchRecords: number;
  readonly batchBytes: number;
  readonly frameBytes: number;
  readonly stampAt: number;
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
  readonly errors: string[];
  /** Per partition: the offset after the last acknowledged batch. */
  readonly endOffsets: Record<number, number>;
  readonly totalRecords: number;
  readonly measureStartMs: number;
  readonly measureEndMs: number;
  /** Open loop: sends that found the window full when due; mean/max lag behind schedule. */
  readonly behindSends: number;
  readonly sendLagMeanMs: number;
  readonly sendLagMaxMs: number;
  readonly stoppedBy: 'time' | 'bytes';
  /** This worker's GC pauses from the start of the warm-up on, pairs (start epoch ms, duration ms). */
  readonly gcPauses: Float64Array;
}

export interface DrainTarget extends Target {
  readonly endOffset: number;
}

export interface ConsumeDrainSpec {
  readonly op: 'consume-drain';
  readonly host: string;
  readonly topic: string;
  readonly targets: readonly DrainTarget[];
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly partitionMaxBytes: number;
  readonly timeoutMs: number;
  readonly cpuPids: readonly number[];
  readonly clockTicksPerS: number;
}

export interface ConsumeDrainResult extends WindowFigures {
  readonly op: 'drained';
  readonly records: number;
  readonly batches: number;
  readonly bytes: number;
  readonly fetches: number;
  readonly seconds: number;
  readonly complete: boolean;
  readonly errors: string[];
}

export interface ConsumeLatencySpec {
  readonly op: 'consume-latency';
  readonly host: string;
  readonly topic: string;
  readonly targets: readonly Target[];
  readonly stampAt: number;
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly partitionMaxBytes: number;
  /** After 'stop-consume', how long to wait for the last offsets at most. */
  readonly graceMs: number;
}

export interface ConsumeLatencyResult {
  readonly op: 'latencies';
  /** Pairs (send time ms, latency ms), one per batch. */
  readonly samples: Float64Array;
  readonly records: number;
  readonly batches: number;
  readonly fetches: number;
  readonly complete: boolean;
  readonly badStamps: number;
  readonly errors: string[];
  /** This worker's GC pauses while it consumed, pairs (start epoch ms, duration ms). */
  readonly gcPauses: Float64Array;
}

export interface LoopbackSpec {
  readonly op: 'loopback';
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  readonly window: number;
  readonly valueBytes: number;
  readonly batchBytes: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly cpuPids: readonly number[];
  readonly clockTicksPerS: number;
}

export interface LoopbackResult extends WindowFigures {
  readonly op: 'looped';
  readonly bytes: number;
  readonly frames: number;
  readonly frameBytes: number;
  readonly seconds: number;
}

export interface DiskWriteSpec {
  readonly op: 'disk-write';
  /** A new file; removed afterwards (unlinking drops its dirty pages unwritten). */
  readonly file: string;
  readonly valueBytes: number;
  readonly batchBytes: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly clockTicksPerS: number;
}

export interface DiskWriteResult {
  readonly op: 'written';
  readonly bytes: number;
  readonly writes: number;
  readonly seconds: number;
  /** This bench process's CPU (in practice this thread's), with its kernel share. */
  readonly cpuCores: number;
  readonly sysCores: number;
}

export type Command = ProduceSpec | ConsumeDrainSpec | ConsumeLatencySpec | LoopbackSpec | DiskWriteSpec | { op: 'stop-consume'; endOffsets: Record<number, number> } | { op: 'exit' };
export type Report = ProduceResult | ConsumeDrainResult | ConsumeLatencyResult | LoopbackResult | DiskWriteResult | { op: 'ready' } | { op: 'failed'; error: string };

const port = parentPort!;
const now = (): number => performance.now();

// ---- shared helpers ---------------------------------------------------------------------------

/** utime + stime of a process (all its threads), and stime alone, in clock ticks. */
function cpuTicksOf(pid: number): { total: number; sys: number } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]); // field 14, utime
    const sys = Number(fields[12]); // field 15, stime
    return { total: user + sys, sys };
  } catch {
    return { total: NaN, sys: NaN };
  }
}

function cpuTicks(pid: number): number {
  return cpuTicksOf(pid).total;
}

/** utime + stime of every thread of a process, by thread id. */
function threadTicks(pid: number): Map<string, number> {
  const ticks = new Map<string, number>();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks.set(tid, Number(fields[11]) + Number(fields[12]));
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // no such process
  }
  return ticks;
}

/**
 * A measurement window: wall time, this thread's event-loop utilisation, the CPU of the given
 * processes, of this bench process (all its threads) and of everything else on the machine
 * (other processes and kernel threads: writeback, softirq), in cores.
 */
class Window {
  private startedAt = 0;
  private startTicks: number[] = [];
  private startSysTicks: number[] = [];
  private startThreadTicks: Map<string, number>[] = [];
  private startSelf = 0;
  private startMachine = 0;
  private startElu: ReturnType<typeof performance.eventLoopUtilization> | undefined;
  seconds = 0;
  /** CLOCK_MONOTONIC microseconds at start and end: the clock of V8 CPU profiles' timestamps. */
  monotonicUs: [number, number] = [0, 0];
  /** The given pids, then this bench process, then everything else. */
  cpuCores: number[] = [];
  /** Kernel (system) CPU of the given pids, in cores. */
  sysCores: number[] = [];
  /** For each given pid, the CPU of its three busiest threads, in cores (busiest first). */
  topThreadCores: number[][] = [];
  elu = NaN;

  constructor(private readonly pids: readonly number[], private readonly ticksPerS: number) {}

  start(): void {
    this.monotonicUs[0] = Number(process.hrtime.bigint() / 1000n);
    this.startedAt = now();
    this.startTicks = this.pids.map(cpuTicks);
    this.startSysTicks = this.pids.map((pid) => cpuTicksOf(pid).sys);
    this.startThreadTicks = this.pids.map((pid) => threadTicks(pid));
    this.startSelf = cpuTicks(process.pid);
    this.startMachine = machineBusyTicks();
    this.startElu = performance.eventLoopUtilization();
  }

  end(): void {
    this.monotonicUs[1] = Number(process.hrtime.bigint() / 1000n);
    this.seconds = (now() - this.startedAt) / 1000;
    const toCores = (ticks: number): number => ticks / this.ticksPerS / this.seconds;
    const pids = this.pids.map((pid, i) => cpuTicks(pid) - this.startTicks[i]!);
    const self = cpuTicks(process.pid) - this.startSelf;
    const machine = machineBusyTicks() - this.startMachine;
    this.cpuCores = [...pids.map(toCores), toCores(self), toCores(machine - self - pids.reduce((a, b) => a + b, 0))];
    this.sysCores = this.pids.map((pid, i) => toCores(cpuTicksOf(pid).sys - this.startSysTicks[i]!));
    this.topThreadCores = this.pids.map((pid, i) => {
      const before = this.startThreadTicks[i]!;
      return [...threadTicks(pid)].map(([tid, ticks]) => toCores(ticks - (before.get(tid) ?? 0))).sort((a, b) => b - a).slice(0, 3);
    });
    this.elu = performance.eventLoopUtilization(this.startElu).utilization;
  }

  figures(): WindowFigures {
    return { elu: this.elu, cpuCores: this.cpuCores, sysCores: this.sysCores, topThreadCores: this.topThreadCores, monotonicUs: this.monotonicUs };
  }
}

/**
 * A client connection; its response frames go to `onFrame`, read the way Kafka's Java client
 * reads them (frame-reader.ts), with the arrival time on `clock`.
 */
function connect(host: string, portNumber: number, onFrame: (frame: Buffer, receivedAt: number) => void = () => undefined, clock: () => number = now): Promise<net.Socket> {
  const reader = new FrameReader(onFrame, clock);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: portNumber, onread: reader.onread }, () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const batches = new Map<string, PrebuiltBatch>();
function batchFor(valueBytes: number, batchBytes: number, recordsMax?: number): PrebuiltBatch {
  const key = `${valueBytes}/${batchBytes}/${recordsMax ?? ''}`;
  let batch = batches.get(key);
  if (!batch) batches.set(key, (batch = buildBatch(valueBytes, batchBytes, recordsMax)));
  return batch;
}

/**
 * Numbers appended to a Float64Array that doubles when full. The samples of a latency case (one
 * or two numbers per request) used to go into a JS array: while it grew, each young-generation
 * GC of the worker copied it, and pauses of the load generator of up to 5-9 ms landed in the
 * latencies it measured (docs/benchmarks.md, session 16). A typed array's elements are off the
 * JS heap.
 */
class Float64Log {
  private values = new Float64Array(64 * 1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  toArray(): Float64Array {
    return this.values.slice(0, this.length);
  }
}

// ---- produce --------------------------------------------------------------------------------------

interface InFlight {
  correlationId: number;
  sentAt: number;
}

class ProduceConnection {
  readonly slots: Buffer[];
  readonly inFlight: InFlight[] = [];
  private nextCorrelationId = 1;
  private sequence = 0;
  closed = false;

  static async open(
    host: string,
    target: Target,
    template: Buffer,
    window: number,
    onFrame: (connection: ProduceConnection, frame: Buffer, receivedAt: number) => void,
    onClose: (connection: ProduceConnection) => void,
  ): Promise<ProduceConnection> {
    let connection: ProduceConnection | undefined;
    const socket = await connect(host, target.port, (frame, receivedAt) => onFrame(connection!, frame, receivedAt));
    connection = new ProduceConnection(socket, target.partition, template, window, onClose);
    return connection;
  }

  private constructor(
    readonly socket: net.Socket,
    readonly partition: number,
    template: Buffer,
    window: number,
    onClose: (connection: ProduceConnection) => void,
  ) {
    this.slots = Array.from({ length: window + 1 }, () => Buffer.from(template));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      onClose(this);
    });
  }

  /** The frame for the next request, correlation id patched (and stamped by the caller). */
  nextFrame(): { frame: Buffer; correlationId: number } {
    const frame = this.slots[this.sequence++ % this.slots.length]!;
    const correlationId = this.nextCorrelationId++;
    frame.writeInt32BE(correlationId, CORRELATION_ID_AT);
    return { frame, correlationId };
  }
}

async function runProduce(spec: ProduceSpec): Promise<ProduceResult> {
  const batch = batchFor(spec.valueBytes, spec.batchBytes, spec.recordsPerBatch);
  const templates = new Map(spec.targets.map((target) => [target.partition, produceFrame(spec.topic, target.partition, batch.bytes, spec.acks)]));
  const frameBytes = templates.get(spec.targets[0]!.partition)!.frame.byteLength;
  const batchAt = templates.get(spec.targets[0]!.partition)!.batchAt;
  const errors: string[] = [];
  const endOffsets: Record<number, number> = {};
  const ackLatencies = new Float64Log();
  let ackedRequests = 0;
  let sentBytes = 0;
  let stopping = false;
  let measuring = false;
  let stoppedBy: 'time' | 'bytes' = 'time';
  let windowStartRequests = 0;
  let windowEndRequests = 0;
  let behindSends = 0;
  let lagSum = 0;
  let lagCount = 0;
  let lagMax = 0;
  let measureStartMs = 0;
  let measureEndMs = 0;
  const window = new Window(spec.cpuPids, spec.clockTicksPerS);
  let settle: (() => void) | undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const maybeSettled = (): void => {
    if (stopping && connections.every((connection) => connection.inFlight.length === 0 || connection.closed)) settle?.();
  };

  const send = (connection: ProduceConnection): void => {
    const { frame, correlationId } = connection.nextFrame();
    if (spec.stamp) stampBatch(frame, batchAt, batch.bytes.byteLength, batch.stampAt, epochMs());
    connection.inFlight.push({ correlationId, sentAt: now() });
    sentBytes += frame.byteLength;
    connection.socket.write(frame);
    if (sentBytes >= (spec.warmupWireBytesMax ?? Number.POSITIVE_INFINITY)) startMeasuring(); // once: it returns when measuring or stopping
    if (sentBytes >= spec.wireBytesMax && !stopping) {
      stoppedBy = 'bytes';
      finish();
    }
  };

  const onFrame = (connection: ProduceConnection, frame: Buffer, receivedAt: number): void => {
    const expected = connection.inFlight.shift();
    if (!expected) {
      errors.push('response without a request');
      return;
    }
    try {
      const { correlationId, response } = readProduceResponse(frame);
      if (correlationId !== expected.correlationId) throw new Error(`correlation id ${correlationId}, expected ${expected.correlationId}`);
      const partition = response.responses[0]?.partitionResponses[0];
      if (!partition) throw new Error('empty produce response');
      if (partition.errorCode !== 0) throw new Error(`partition ${partition.index}: error code ${partition.errorCode} ${partition.errorMessage ?? ''}`);
      endOffsets[connection.partition] = Math.max(endOffsets[connection.partition] ?? 0, Number(partition.baseOffset) + batch.records);
    } catch (error) {
      if (errors.length < 10) errors.push((error as Error).message);
      stopping = true;
    }
    ackedRequests++;
    if (measuring) ackLatencies.push(receivedAt - expected.sentAt);
    if (!stopping && spec.rateRecordsPerS === 0) send(connection);
    maybeSettled();
  };

  const onClose = (connection: ProduceConnection): void => {
    if (!stopping) errors.push(`connection to partition ${connection.partition} closed by the broker`);
    stopping = true;
    maybeSettled();
  };
  const connections = await Promise.all(spec.targets.flatMap((target) => Array.from({ length: spec.connectionsPerTarget }, () =>
    ProduceConnection.open(spec.host, target, templates.get(target.partition)!.frame, spec.window, onFrame, onClose))));

  const startedAt = now();
  let warmupTimer: NodeJS.Timeout | undefined;
  let endTimer: NodeJS.Timeout | undefined;
  let tickTimer: NodeJS.Timeout | undefined;
  function finish(): void {
    if (stopping && !measuring) return;
    if (measuring) {
      window.end();
      windowEndRequests = ackedRequests;
      measureEndMs = epochMs();
      measuring = false;
    }
    stopping = true;
    clearTimeout(warmupTimer);
    clearTimeout(endTimer);
    clearTimeout(tickTimer);
    maybeSettled();
  }
  function startMeasuring(): void {
    if (stopping || measuring) return;
    clearTimeout(warmupTimer);
    measuring = true;
    window.start();
    windowStartRequests = ackedRequests;
    measureStartMs = epochMs();
    endTimer = setTimeout(finish, spec.measureMs);
  }
  warmupTimer = setTimeout(startMeasuring, spec.warmupMs);

  if (spec.rateRecordsPerS === 0) {
    for (const connection of connections) for (let i = 0; i < spec.window; i++) send(connection);
  } else {
    // Open loop: batch i is due at startedAt + i * interval, round robin over the connections.
    const intervalMs = (1000 * batch.records) / spec.rateRecordsPerS;
    let sent = 0;
    const tick = (): void => {
      if (stopping) return;
      const t = now();
      const due = Math.floor((t - startedAt) / intervalMs) + 1;
      while (sent < due && !stopping) {
        const connection = connections[sent % connections.length]!;
        if (connection.inFlight.length >= spec.window) {
          behindSends++;
          break;
        }
        const lag = t - (startedAt + sent * intervalMs);
        lagSum += lag;
        lagCount++;
        lagMax = Math.max(lagMax, lag);
        send(connection);
        sent++;
      }
      tickTimer = setTimeout(tick, 1);
    };
    tick();
  }

  const hardDeadline = setTimeout(() => {
    errors.push('in-flight requests not answered within 15 s of the end');
    settle?.();
  }, spec.warmupMs + spec.measureMs + 15_000);
  await settled;
  clearTimeout(hardDeadline);
  for (const connection of connections) connection.socket.destroy();
  const requests = windowEndRequests - windowStartRequests;
  const sorted = ackLatencies.toArray().sort();
  return {
    op: 'produced',
    records: requests * batch.records,
    requests,
    payloadBytes: requests * batch.records * batch.valueBytes,
    wireBytes: requests * frameBytes,
    seconds: window.seconds,
    batchRecords: batch.records,
    batchBytes: batch.bytes.byteLength,
    frameBytes,
    stampAt: batch.stampAt,
    ackP50Ms: percentile(sorted, 50),
    ackP99Ms: percentile(sorted, 99),
    errors,
    endOffsets,
    totalRecords: ackedRequests * batch.records,
    ...window.figures(),
    measureStartMs,
    measureEndMs,
    behindSends,
    sendLagMeanMs: lagCount > 0 ? lagSum / lagCount : 0,
    sendLagMaxMs: lagMax,
    stoppedBy,
    gcPauses: gcPausesSince(measureStartMs - spec.warmupMs),
  };
}

// ---- consume ---------------------------------------------------------------------------------------

class FetchConnection {
  private correlationId = 1;
  offset = 0;
  done = false;

  /** Receive times are epoch ms, the clock of the send times stamped in the batches. */
  static async open(
    host: string,
    target: Target,
    onFrame: (connection: FetchConnection, frame: Buffer, receivedAtMs: number) => void,
    onClose: (connection: FetchConnection) => void,
  ): Promise<FetchConnection> {
    let connection: FetchConnection | undefined;
    const socket = await connect(host, target.port, (frame, receivedAtMs) => onFrame(connection!, frame, receivedAtMs), epochMs);
    connection = new FetchConnection(socket, target.partition, onClose);
    return connection;
  }

  private constructor(
    readonly socket: net.Socket,
    readonly partition: number,
    onClose: (connection: FetchConnection) => void,
  ) {
    socket.on('error', () => undefined);
    socket.on('close', () => onClose(this));
  }

  fetch(topic: string, options: { maxWaitMs: number; minBytes: number; maxBytes: number; partitionMaxBytes: number }): number {
    const id = this.correlationId++;
    this.socket.write(fetchFrame(id, topic, [{ partition: this.partition, offset: this.offset }], options));
    return id;
  }
}

/** The records field of a one-partition Fetch response; throws on an error code. */
function fetchedRecords(frame: Buffer): Uint8Array {
  const { response } = readFetchResponse(frame);
  if (response.errorCode !== 0) throw new Error(`fetch error code ${response.errorCode}`);
  const partition = response.responses[0]?.partitions[0];
  if (!partition) throw new Error('empty fetch response');
  if (partition.errorCode !== 0) throw new Error(`partition ${partition.partitionIndex}: error code ${partition.errorCode}`);
  return partition.records ?? new Uint8Array(0);
}

async function runConsumeDrain(spec: ConsumeDrainSpec): Promise<ConsumeDrainResult> {
  const errors: string[] = [];
  let records = 0;
  let batchCount = 0;
  let bytes = 0;
  let fetches = 0;
  const options = { maxWaitMs: spec.maxWaitMs, minBytes: 1, maxBytes: spec.maxBytes, partitionMaxBytes: spec.partitionMaxBytes };
  const ends = new Map(spec.targets.map((target) => [target.partition, target.endOffset]));
  let finish: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const window = new Window(spec.cpuPids, spec.clockTicksPerS);
  let connections: FetchConnection[] = [];
  const checkDone = (): void => {
    if (connections.every((connection) => connection.done)) finish?.();
  };
  const onFrame = (connection: FetchConnection, frame: Buffer): void => {
    try {
      const data = fetchedRecords(frame);
      const walk = walkBatches(data);
      records += walk.records;
      batchCount += walk.batches;
      bytes += data.byteLength;
      if (walk.nextOffset >= 0) connection.offset = walk.nextOffset;
      fetches++;
      if (connection.offset >= ends.get(connection.partition)!) {
        connection.done = true;
        checkDone();
        return;
      }
      connection.fetch(spec.topic, options);
    } catch (error) {
      if (errors.length < 10) errors.push((error as Error).message);
      connection.done = true;
      checkDone();
    }
  };
  connections = await Promise.all(spec.targets.map((target) => FetchConnection.open(spec.host, target, onFrame, (connection) => {
    if (!connection.done) errors.push(`connection for partition ${connection.partition} closed`);
    connection.done = true;
    checkDone();
  })));
  const timer = setTimeout(() => {
    errors.push(`not done within ${spec.timeoutMs / 1000} s`);
    finish?.();
  }, spec.timeoutMs);
  window.start();
  for (const connection of connections) connection.fetch(spec.topic, options);
  await finished;
  window.end();
  clearTimeout(timer);
  for (const connection of connections) connection.socket.destroy();
  return {
    op: 'drained',
    records,
    batches: batchCount,
    bytes,
    fetches,
    seconds: window.seconds,
    complete: connections.every((connection) => connection.offset >= ends.get(connection.partition)!),
    errors,
    ...window.figures(),
  };
}

let stopConsume: ((endOffsets: Record<number, number>) => void) | undefined;

async function runConsumeLatency(spec: ConsumeLatencySpec): Promise<ConsumeLatencyResult> {
  const errors: string[] = [];
  const samples = new Float64Log();
  let records = 0;
  let batchCount = 0;
  let fetches = 0;
  let badStamps = 0;
  let targetOffsets: Record<number, number> | undefined;
  let finish: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const startedMs = epochMs();
  const options = { maxWaitMs: spec.maxWaitMs, minBytes: 1, maxBytes: spec.maxBytes, partitionMaxBytes: spec.partitionMaxBytes };
  let connections: FetchConnection[] = [];
  const reached = (): boolean => targetOffsets !== undefined && connections.every((connection) => connection.offset >= (targetOffsets![connection.partition] ?? 0));
  const onFrame = (connection: FetchConnection, frame: Buffer, receivedAtMs: number): void => {
    try {
      const walk = walkBatches(fetchedRecords(frame), (at, view) => {
        const stamp = view.getFloat64(at + spec.stampAt);
        if (!(stamp >= startedMs - 1000 && stamp <= receivedAtMs + 1)) {
          badStamps++;
          return;
        }
        samples.push(stamp);
        samples.push(receivedAtMs - stamp);
      });
      records += walk.records;
      batchCount += walk.batches;
      fetches++;
      if (walk.nextOffset >= 0) connection.offset = walk.nextOffset;
    } catch (error) {
      if (errors.length < 10) errors.push((error as Error).message);
      connection.done = true;
    }
    if (reached()) {
      finish?.();
      return;
    }
    if (!connection.done) connection.fetch(spec.topic, options);
  };
  connections = await Promise.all(spec.targets.map((target) => FetchConnection.open(spec.host, target, onFrame, (connection) => {
    if (!connection.done && !reached()) errors.push(`connection for partition ${connection.partition} closed`);
    connection.done = true;
  })));
  let graceTimer: NodeJS.Timeout | undefined;
  stopConsume = (endOffsets) => {
    targetOffsets = endOffsets;
    if (reached()) finish?.();
    graceTimer = setTimeout(() => finish?.(), spec.graceMs);
  };
  for (const connection of connections) connection.fetch(spec.topic, options);
  port.postMessage({ op: 'ready' } satisfies Report);
  await finished;
  clearTimeout(graceTimer);
  stopConsume = undefined;
  for (const connection of connections) connection.socket.destroy();
  return { op: 'latencies', samples: samples.toArray(), records, batches: batchCount, fetches, complete: reached(), badStamps, errors, gcPauses: gcPausesSince(startedMs) };
}

// ---- loopback ceiling -------------------------------------------------------------------------------

async function runLoopback(spec: LoopbackSpec): Promise<LoopbackResult> {
  const batch = batchFor(spec.valueBytes, spec.batchBytes);
  const { frame } = produceFrame('loopback', 0, batch.bytes, 1);
  const sockets = await Promise.all(Array.from({ length: spec.connections }, () => connect(spec.host, spec.port)));
  let flushedFrames = 0;
  let stopping = false;
  let outstanding = 0;
  let windowStartFrames = 0;
  let windowEndFrames = 0;
  const window = new Window(spec.cpuPids, spec.clockTicksPerS);
  let settle: (() => void) | undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const write = (socket: net.Socket): void => {
    outstanding++;
    socket.write(frame, (error) => {
      outstanding--;
      if (error) stopping = true;
      else flushedFrames++;
      if (!stopping) write(socket);
      else if (outstanding === 0) settle?.();
    });
  };
  for (const socket of sockets) {
    socket.on('error', () => undefined);
    for (let i = 0; i < spec.window; i++) write(socket);
  }
  await new Promise((resolve) => setTimeout(resolve, spec.warmupMs));
  window.start();
  windowStartFrames = flushedFrames;
  await new Promise((resolve) => setTimeout(resolve, spec.measureMs));
  window.end();
  windowEndFrames = flushedFrames;
  stopping = true;
  const deadline = setTimeout(() => settle?.(), 5_000);
  await settled;
  clearTimeout(deadline);
  for (const socket of sockets) socket.destroy();
  const frames = windowEndFrames - windowStartFrames;
  return { op: 'looped', bytes: frames * frame.byteLength, frames, frameBytes: frame.byteLength, seconds: window.seconds, ...window.figures() };
}

// ---- page-cache write ceiling ------------------------------------------------------------------------

/** fs.writeSync of the same batch bytes, back to back, into a new file: what the log's write costs. */
function runDiskWrite(spec: DiskWriteSpec): DiskWriteResult {
  const batch = batchFor(spec.valueBytes, spec.batchBytes);
  const fd = fs.openSync(spec.file, 'w');
  try {
    const write = (untilMs: number): number => {
      let writes = 0;
      while (now() < untilMs) {
        if (fs.writeSync(fd, batch.bytes) !== batch.bytes.byteLength) throw new Error('short write');
        writes++;
      }
      return writes;
    };
    write(now() + spec.warmupMs);
    const window = new Window([process.pid], spec.clockTicksPerS);
    window.start();
    const writes = write(now() + spec.measureMs);
    window.end();
    return { op: 'written', bytes: writes * batch.bytes.byteLength, writes, seconds: window.seconds, cpuCores: window.cpuCores[0]!, sysCores: window.sysCores[0]! };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(spec.file, { force: true });
  }
}

// ---- dispatch ----------------------------------------------------------------------------------------

port.on('message', (command: Command) => {
  const run = async (): Promise<Report | undefined> => {
    switch (command.op) {
      case 'produce':
        return runProduce(command);
      case 'consume-drain':
        return runConsumeDrain(command);
      case 'consume-latency':
        return runConsumeLatency(command);
      case 'loopback':
        return runLoopback(command);
      case 'disk-write':
        return runDiskWrite(command);
      case 'stop-consume':
        stopConsume?.(command.endOffsets);
        return undefined;
      case 'exit':
        port.close();
        return undefined;
    }
  };
  run().then(
    (report) => {
      if (!report) return;
      if (report.op === 'latencies') port.postMessage(report, [report.samples.buffer as ArrayBuffer]);
      else port.postMessage(report);
    },
    (error: unknown) => port.postMessage({ op: 'failed', error: (error as Error).stack ?? String(error) } satisfies Report),
  );
});
