/**
 * Runtime benchmark: `npm run bench:runtime` (builds, then runs dist/bench/runtime.js).
 *
 *   1. Stream throughput between two worker threads (a producer worker and a consumer worker;
 *      the main thread only coordinates): SharedArrayBuffer ring vs MessagePort.postMessage one
 *      message at a time vs postMessage of arrays of 1,000 messages, for 100-byte messages and
 *      16 KiB messages. Fixed message counts, best of 3 runs.
 *   2. Actor-to-actor round-trip latency across threads (ThreadRuntime, ping on worker 1, pong
 *      on worker 2) and one-at-a-time actor message throughput.
 *   3. tinybench micro-benchmarks on one thread: ring write/read/release, envelope encode/decode.
 *
 * Everything is bounded: fixed counts, a per-run timeout and a global timeout that exit non-zero.
 * The last line of stdout is one JSON object with the headline figures.
 * SAMSA_BENCH_SCALE (default 1) scales the message counts (e.g. 0.1 for a smoke run);
 * SAMSA_BENCH_RUN_TIMEOUT_MS (default 30 s) and SAMSA_BENCH_TIMEOUT_MS (default 170 s) bound a run / the whole bench.
 */
import { MessageChannel, type Transferable } from 'node:worker_threads';
import os from 'node:os';
import { Bench } from 'tinybench';
import { createRingBuffer, RingReader, RingWriter } from '../src/runtime/ring.js';
import { encodeBody, readEnvelope, writeEnvelope } from '../src/runtime/envelope.js';
import { BenchWorker, withTimeout } from './bench-worker.js';
import type { Command, Report, RunCommand, Transport } from './runtime-workers/stream-worker.js';
import type { RttReport, ThroughputReport } from './runtime-actors.js';

const SCALE = Number(process.env.SAMSA_BENCH_SCALE ?? '1');
const RUNS = 3;
const RUN_TIMEOUT_MS = Number(process.env.SAMSA_BENCH_RUN_TIMEOUT_MS ?? 30_000);
const GLOBAL_TIMEOUT_MS = Number(process.env.SAMSA_BENCH_TIMEOUT_MS ?? 170_000);
const KiB = 1024;
const MiB = 1024 * 1024;
const BATCH = 1000;

process.env.SAMSA_LOG_LEVEL ??= 'warn';

const globalTimer = setTimeout(() => {
  console.error(`bench: global timeout of ${GLOBAL_TIMEOUT_MS / 1000} s exceeded; a case hung`);
  process.exit(2);
}, GLOBAL_TIMEOUT_MS);

function scaled(count: number, multipleOf = 1): number {
  return Math.max(multipleOf, Math.round((count * SCALE) / multipleOf) * multipleOf);
}

// ---- section 1: stream throughput between two workers ------------------------------------

class Peer extends BenchWorker<Command, Report> {
  constructor(name: string) {
    super(name, new URL('./runtime-workers/stream-worker.js', import.meta.url));
  }
}

interface StreamCase {
  key: string;
  label: string;
  transport: Transport;
  size: number;
  count: number;
  ringBytes: number;
  publishEvery: number;
  window: number;
  ackEvery: number;
  headline: boolean;
}

interface RunResult {
  seconds: number;
  msgsPerS: number;
  gbPerS: number;
  fullWaits: number;
  parks: number;
}

interface CaseResult {
  spec: StreamCase;
  runs: RunResult[];
  best: RunResult;
}

async function runStreamOnce(producer: Peer, consumer: Peer, spec: StreamCase): Promise<RunResult> {
  const base: Omit<RunCommand, 'role'> = {
    op: 'run',
    transport: spec.transport,
    size: spec.size,
    count: spec.count,
    window: spec.window,
    ackEvery: spec.ackEvery,
    batch: BATCH,
    publishEvery: spec.publishEvery,
  };
  let producerTransfer: Transferable[] = [];
  let consumerTransfer: Transferable[] = [];
  let producerCommand: RunCommand;
  let consumerCommand: RunCommand;
  if (spec.transport === 'ring') {
    const ring = createRingBuffer(spec.ringBytes);
    producerCommand = { ...base, role: 'producer', ring };
    consumerCommand = { ...base, role: 'consumer', ring };
  } else {
    const channel = new MessageChannel();
    producerCommand = { ...base, role: 'producer', port: channel.port1 };
    consumerCommand = { ...base, role: 'consumer', port: channel.port2 };
    producerTransfer = [channel.port1];
    consumerTransfer = [channel.port2];
  }
  consumer.post(consumerCommand, consumerTransfer);
  await consumer.expect('armed');
  producer.post(producerCommand, producerTransfer);
  await producer.expect('armed');
  producer.post({ op: 'go' });
  const [produced, consumed] = await Promise.all([producer.expect('produced'), consumer.expect('consumed')]);
  if (consumed.received !== spec.count || consumed.sum !== produced.expected) {
    throw new Error(`${spec.key}: consumer got ${consumed.received}/${spec.count} messages, sum ${consumed.sum}, expected ${produced.expected}`);
  }
  const seconds = Number(consumed.t1 - produced.t0) / 1e9;
  const msgsPerS = spec.count / seconds;
  return { seconds, msgsPerS, gbPerS: (msgsPerS * spec.size) / 1e9, fullWaits: produced.fullWaits, parks: consumed.parks };
}

async function runStreams(cases: StreamCase[]): Promise<Map<string, CaseResult>> {
  const producer = new Peer('producer');
  const consumer = new Peer('consumer');
  const results = new Map<string, CaseResult>();
  try {
    for (const spec of cases) {
      const runs: RunResult[] = [];
      for (let run = 0; run < RUNS; run++) {
        runs.push(await withTimeout(runStreamOnce(producer, consumer, spec), RUN_TIMEOUT_MS, `${spec.key} run ${run + 1}`));
      }
      const best = runs.reduce((a, b) => (b.msgsPerS > a.msgsPerS ? b : a));
      results.set(spec.key, { spec, runs, best });
      const detail = spec.transport === 'ring' ? `  producer full-waits ${best.fullWaits}, consumer parks ${best.parks}` : '';
      console.log(
        `  ${spec.label.padEnd(44)} best ${fmtRate(best.msgsPerS).padStart(9)} msg/s ${best.gbPerS.toFixed(3).padStart(7)} GB/s` +
          `  [${runs.map((r) => fmtRate(r.msgsPerS)).join(', ')}]${detail}`,
      );
    }
  } finally {
    const codes = await Promise.all([producer.exit(), consumer.exit()]);
    if (codes.some((code) => code !== 0)) console.error(`bench: stream workers exited with ${codes.join(', ')}`);
  }
  return results;
}

// ---- section 2: actors across threads ---------------------------------------------------------

interface ActorResults {
  rtt: RttReport;
  throughput: ThroughputReport;
}

async function runActors(): Promise<ActorResults> {
  const { ThreadRuntime } = await import('../src/runtime/thread-runtime.js');
  const runtime = await ThreadRuntime.start({ workers: 2 });
  try {
    const inbox: unknown[] = [];
    let waiter: ((body: unknown) => void) | undefined;
    const collector = runtime.spawnLocal(() => ({
      receive(message) {
        if (waiter) {
          const wake = waiter;
          waiter = undefined;
          wake(message.body);
        } else inbox.push(message.body);
      },
    }));
    const next = (what: string): Promise<unknown> =>
      withTimeout(
        inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise<unknown>((resolve) => (waiter = resolve)),
        RUN_TIMEOUT_MS,
        what,
      );
    const module = new URL('./runtime-actors.js', import.meta.url).href;

    const pong = await runtime.spawn({ module, factory: 'pong' }, { thread: 2 });
    const ping = await runtime.spawn({ module, factory: 'ping', args: { pong, collector, warmup: 2000, rounds: 20_000 } }, { thread: 1 });
    await runtime.sendAs(collector, ping, 'start');
    const rtt = (await next('actor round trips')) as RttReport;

    const count = scaled(500_000);
    const sink = await runtime.spawn({ module, factory: 'sink', args: { count } }, { thread: 2 });
    const source = await runtime.spawn({ module, factory: 'source', args: { sink, collector, count, dataBytes: 100 } }, { thread: 1 });
    await runtime.sendAs(collector, source, 'start');
    const throughput = (await next('actor throughput')) as ThroughputReport;
    return { rtt, throughput };
  } finally {
    await withTimeout(runtime.close(), 10_000, 'ThreadRuntime.close');
  }
}

// ---- section 3: tinybench micro-benchmarks (one thread) ---------------------------------------

const OPS_PER_ITERATION = 1000;

async function runMicro(): Promise<{ rows: ReturnType<Bench['table']>; nsPerOp: Record<string, number> }> {
  const bench = new Bench({ time: 500, warmupTime: 150 });
  const payload = new Uint8Array(100).fill(42);
  const ringA = createRingBuffer(MiB);
  const writerA = new RingWriter(ringA);
  const readerA = new RingReader(ringA);
  const ringB = createRingBuffer(MiB);
  const writerB = new RingWriter(ringB);
  const readerB = new RingReader(ringB);
  const ringC = createRingBuffer(MiB);
  const writerC = new RingWriter(ringC);
  const readerC = new RingReader(ringC);
  const body = { op: 'produce', topic: 'orders', partition: 3, offset: 123456, acks: -1 };
  const scratch = createRingBuffer(64 * KiB);
  const scratchWriter = new RingWriter(scratch);
  const scratchReader = new RingReader(scratch);
  if (writeEnvelope(scratchWriter, 17, 42, body, payload) !== undefined) throw new Error('scratch ring full');
  const envelopeBytes = scratchReader.tryRead()!.bytes.slice();
  let sink = 0;

  const names = {
    write: `ring write()+tryRead+release 100 B (x${OPS_PER_ITERATION})`,
    reserve: `ring tryReserve+set+publish+tryRead+release 100 B (x${OPS_PER_ITERATION})`,
    envRing: `writeEnvelope+tryRead+readEnvelope+release (x${OPS_PER_ITERATION})`,
    encode: `msgpackr encodeBody (x${OPS_PER_ITERATION})`,
    decode: `readEnvelope of a 100 B-data envelope (x${OPS_PER_ITERATION})`,
  };
  bench
    .add(names.write, () => {
      for (let i = 0; i < OPS_PER_ITERATION; i++) {
        if (writerA.write(payload) !== undefined) throw new Error('ring full');
        const message = readerA.tryRead()!;
        sink += message.bytes[0]! + message.bytes[99]!;
        readerA.release(message.token);
      }
    })
    .add(names.reserve, () => {
      for (let i = 0; i < OPS_PER_ITERATION; i++) {
        const offset = writerB.tryReserve(100);
        writerB.data.set(payload, offset);
        writerB.publish();
        const message = readerB.tryRead()!;
        sink += message.bytes[0]! + message.bytes[99]!;
        readerB.release(message.token);
      }
    })
    .add(names.envRing, () => {
      for (let i = 0; i < OPS_PER_ITERATION; i++) {
        if (writeEnvelope(writerC, 17, 42, body, payload) !== undefined) throw new Error('ring full');
        const message = readerC.tryRead()!;
        const envelope = readEnvelope(message.bytes);
        sink += envelope.to + envelope.data!.length;
        readerC.release(message.token);
      }
    })
    .add(names.encode, () => {
      for (let i = 0; i < OPS_PER_ITERATION; i++) sink += encodeBody(body)!.length;
    })
    .add(names.decode, () => {
      for (let i = 0; i < OPS_PER_ITERATION; i++) sink += readEnvelope(envelopeBytes).from;
    });
  await bench.run();
  if (sink === 0) console.log('(sink)');
  const nsPerOp: Record<string, number> = {};
  for (const task of bench.tasks) {
    const result = task.result as unknown as { latency?: { mean?: number } } | undefined;
    const meanMs = result?.latency?.mean;
    if (meanMs !== undefined) nsPerOp[task.name] = (meanMs * 1e6) / OPS_PER_ITERATION;
  }
  return { rows: bench.table(), nsPerOp };
}

// ---- output -----------------------------------------------------------------------------------

function fmtRate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

function loadAverage(): string {
  return os.loadavg().map((value) => value.toFixed(2)).join(' ');
}

function passMiss(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

function sizeLabel(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : bytes >= KiB ? `${bytes / KiB} KiB` : `${bytes} B`;
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`samsa runtime bench — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${os.platform()} ${os.arch()}, scale ${SCALE}, load average ${loadAverage()}`);

  const small = 100;
  const large = 16 * KiB;
  const cases: StreamCase[] = [
    { key: 'ring_100B', label: 'ring 100 B (1 MiB ring, publish/msg)', transport: 'ring', size: small, count: scaled(4_000_000), ringBytes: MiB, publishEvery: 1, window: 0, ackEvery: 0, headline: true },
    { key: 'ring_100B_pub64', label: 'ring 100 B (1 MiB ring, publish/64 msgs)', transport: 'ring', size: small, count: scaled(4_000_000), ringBytes: MiB, publishEvery: 64, window: 0, ackEvery: 0, headline: false },
    { key: 'post_100B', label: 'postMessage 100 B one at a time', transport: 'post', size: small, count: scaled(600_000), ringBytes: 0, publishEvery: 1, window: 8192, ackEvery: 1024, headline: true },
    { key: 'post_batch_100B', label: 'postMessage 100 B, arrays of 1000', transport: 'post-batch', size: small, count: scaled(2_000_000, BATCH), ringBytes: 0, publishEvery: 1, window: 8, ackEvery: 1, headline: true },
    { key: 'ring_16KiB', label: 'ring 16 KiB (4 MiB ring, publish/msg)', transport: 'ring', size: large, count: scaled(300_000), ringBytes: 4 * MiB, publishEvery: 1, window: 0, ackEvery: 0, headline: true },
    { key: 'post_16KiB', label: 'postMessage 16 KiB one at a time', transport: 'post', size: large, count: scaled(120_000), ringBytes: 0, publishEvery: 1, window: 256, ackEvery: 32, headline: true },
    { key: 'post_batch_16KiB', label: 'postMessage 16 KiB, arrays of 1000', transport: 'post-batch', size: large, count: scaled(120_000, BATCH), ringBytes: 0, publishEvery: 1, window: 2, ackEvery: 1, headline: true },
  ];

  console.log(`\n[1] stream throughput, producer worker -> consumer worker, best of ${RUNS}`);
  for (const c of cases) {
    const flow = c.transport === 'ring' ? `ring ${sizeLabel(c.ringBytes)}` : c.transport === 'post' ? `window ${c.window} msgs, ack every ${c.ackEvery}` : `window ${c.window} arrays of ${BATCH}, ack per array`;
    console.log(`    ${c.key.padEnd(18)} ${String(c.count).padStart(9)} msgs x ${sizeLabel(c.size)}, ${flow}`);
  }
  const streams = await runStreams(cases);
  const get = (key: string): RunResult => streams.get(key)!.best;

  console.log('\n[2] actors across threads (ThreadRuntime, 2 workers): ping on worker 1 <-> pong on worker 2');
  const actors = await runActors();
  const { rtt, throughput } = actors;
  console.log(
    `  round trip over ${rtt.rounds} rounds (after 2000 warm-up): p50 ${rtt.p50_us.toFixed(1)} µs, p90 ${rtt.p90_us.toFixed(1)} µs, ` +
      `p99 ${rtt.p99_us.toFixed(1)} µs, p99.9 ${rtt.p999_us.toFixed(1)} µs, min ${rtt.min_us.toFixed(1)} µs, max ${rtt.max_us.toFixed(1)} µs`,
  );
  console.log(`  one-at-a-time sends (awaited), source worker 1 -> sink worker 2, 100 B data + small body: ${fmtRate(throughput.msgs_per_s)} msg/s over ${throughput.messages} msgs`);

  console.log('\n[3] tinybench micro-benchmarks (main thread, each iteration = 1000 operations)');
  const micro = await runMicro();
  console.table(micro.rows);
  for (const [name, ns] of Object.entries(micro.nsPerOp)) console.log(`  ${name.replace(/ \(x\d+\)$/, '').padEnd(52)} ${ns.toFixed(1).padStart(7)} ns/op`);

  const ring100 = get('ring_100B');
  const ring100p = get('ring_100B_pub64');
  const post100 = get('post_100B');
  const batch100 = get('post_batch_100B');
  const ring16 = get('ring_16KiB');
  const post16 = get('post_16KiB');
  const batch16 = get('post_batch_16KiB');
  const ratioOne = ring100.msgsPerS / post100.msgsPerS;
  const ratioBatch = ring100.msgsPerS / batch100.msgsPerS;
  const target100 = ratioOne >= 10;
  const target16 = ring16.gbPerS >= 2;

  const line = (name: string, r: RunResult, extra = ''): string =>
    `  ${name.padEnd(40)} ${fmtRate(r.msgsPerS).padStart(9)} msg/s ${r.gbPerS.toFixed(3).padStart(8)} GB/s  ${extra}`;
  console.log('\n==== summary (GB = 10^9 bytes of payload; best of 3) ====');
  console.log(line('ring 100 B (1 msg/publish)', ring100, `ring/postMessage = ${ratioOne.toFixed(2)}x  target >= 10x: ${passMiss(target100)}`));
  console.log(line('ring 100 B (64 msgs/publish, variant)', ring100p, `ring/postMessage = ${(ring100p.msgsPerS / post100.msgsPerS).toFixed(2)}x`));
  console.log(line('postMessage 100 B one at a time', post100));
  console.log(line('postMessage 100 B arrays of 1000', batch100, `ring/arrays = ${ratioBatch.toFixed(2)}x`));
  console.log(line('ring 16 KiB (1 msg/publish)', ring16, `target >= 2 GB/s: ${passMiss(target16)}; ring/postMessage = ${(ring16.gbPerS / post16.gbPerS).toFixed(2)}x, ring/arrays = ${(ring16.gbPerS / batch16.gbPerS).toFixed(2)}x`));
  console.log(line('postMessage 16 KiB one at a time', post16));
  console.log(line('postMessage 16 KiB arrays of 1000', batch16));
  console.log(`  actor RTT p50 ${rtt.p50_us.toFixed(1)} µs  p99 ${rtt.p99_us.toFixed(1)} µs  p99.9 ${rtt.p999_us.toFixed(1)} µs; actor one-at-a-time ${fmtRate(throughput.msgs_per_s)} msg/s`);
  console.log(`  total ${((Date.now() - started) / 1000).toFixed(1)} s; load average now ${loadAverage()} (figures are noisy when other processes compete for the ${os.cpus().length} CPUs)`);

  const round = (value: number, digits = 3): number => Number(value.toFixed(digits));
  const summary = {
    node: process.version,
    cpus: os.cpus().length,
    scale: SCALE,
    ring_100B_msgs_per_s: Math.round(ring100.msgsPerS),
    ring_100B_GB_per_s: round(ring100.gbPerS),
    ring_100B_publish64_msgs_per_s: Math.round(ring100p.msgsPerS),
    postmessage_100B_msgs_per_s: Math.round(post100.msgsPerS),
    postmessage_100B_GB_per_s: round(post100.gbPerS),
    postmessage_batch1000_100B_msgs_per_s: Math.round(batch100.msgsPerS),
    postmessage_batch1000_100B_GB_per_s: round(batch100.gbPerS),
    ring_16KiB_msgs_per_s: Math.round(ring16.msgsPerS),
    ring_16KiB_GB_per_s: round(ring16.gbPerS),
    postmessage_16KiB_msgs_per_s: Math.round(post16.msgsPerS),
    postmessage_16KiB_GB_per_s: round(post16.gbPerS),
    postmessage_batch1000_16KiB_msgs_per_s: Math.round(batch16.msgsPerS),
    postmessage_batch1000_16KiB_GB_per_s: round(batch16.gbPerS),
    ratio_ring_vs_postmessage_100B: round(ratioOne, 2),
    ratio_ring_vs_batch1000_100B: round(ratioBatch, 2),
    ring_100B_ring_bytes: MiB,
    ring_16KiB_ring_bytes: 4 * MiB,
    target_ring_100B_10x_postmessage: passMiss(target100),
    target_ring_16KiB_2GB_per_s: passMiss(target16),
    rtt_p50_us: round(rtt.p50_us, 1),
    rtt_p99_us: round(rtt.p99_us, 1),
    rtt_p999_us: round(rtt.p999_us, 1),
    actor_one_at_a_time_msgs_per_s: Math.round(throughput.msgs_per_s),
    micro_ns_per_op: Object.fromEntries(Object.entries(micro.nsPerOp).map(([k, v]) => [k.replace(/ \(x\d+\)$/, ''), round(v, 1)])),
  };
  console.log(JSON.stringify(summary));
}

main().then(
  () => {
    clearTimeout(globalTimer);
    // Every worker has been asked to leave; if something still holds the loop, do not hang.
    setTimeout(() => {
      console.error('bench: handles still open after the run; exiting');
      process.exit(0);
    }, 3000).unref();
  },
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
