/**
 * Actors for the cross-thread part of bench/runtime.ts, loaded by the workers from this module's
 * compiled URL (dist/bench/runtime-actors.js).
 *
 *   ping (worker 1) ──body n──▶ pong (worker 2) ──body n──▶ ping      one round trip at a time
 *   source (worker 1) ──n, 100-byte data──▶ sink (worker 2)            one send at a time, awaited
 *
 * Results go to a collector actor on the main thread as plain msgpack bodies.
 */
import type { Actor, ActorContext, ActorInit, Address, Message } from '../src/runtime/actor.js';

export interface PingArgs {
  pong: Address;
  collector: Address;
  warmup: number;
  rounds: number;
}

export interface RttReport {
  kind: 'rtt';
  rounds: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  min_us: number;
  max_us: number;
  mean_us: number;
}

export interface ThroughputReport {
  kind: 'throughput';
  messages: number;
  seconds: number;
  msgs_per_s: number;
}

export function pong(context: ActorContext): Actor {
  return {
    receive(message: Message): Promise<void> {
      return context.send(message.from, message.body);
    },
  };
}

export function ping(context: ActorContext, init: ActorInit): Actor {
  const args = init.args as PingArgs;
  const total = args.warmup + args.rounds;
  const samples = new Float64Array(args.rounds);
  let round = 0;
  let sentAt = 0n;

  const sendNext = (): Promise<void> => {
    sentAt = process.hrtime.bigint();
    return context.send(args.pong, round);
  };

  return {
    receive(message: Message): Promise<void> | void {
      if (message.from === args.collector) {
        round = 0;
        return sendNext();
      }
      if (message.from !== args.pong) return;
      const now = process.hrtime.bigint();
      if (message.body !== round) throw new Error(`pong answered ${String(message.body)}, expected ${round}`);
      if (round >= args.warmup) samples[round - args.warmup] = Number(now - sentAt);
      round++;
      if (round < total) return sendNext();
      return context.send(args.collector, summarize(samples));
    },
  };
}

function summarize(samplesNs: Float64Array): RttReport {
  const sorted = Float64Array.from(samplesNs).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! / 1000;
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    kind: 'rtt',
    rounds: sorted.length,
    p50_us: at(0.5),
    p90_us: at(0.9),
    p99_us: at(0.99),
    p999_us: at(0.999),
    min_us: sorted[0]! / 1000,
    max_us: sorted[sorted.length - 1]! / 1000,
    mean_us: sum / sorted.length / 1000,
  };
}

export interface SourceArgs {
  sink: Address;
  collector: Address;
  count: number;
  dataBytes: number;
}

export function source(context: ActorContext, init: ActorInit): Actor {
  const args = init.args as SourceArgs;
  const data = new Uint8Array(args.dataBytes).fill(7);
  let startedAt = 0n;
  return {
    async receive(message: Message): Promise<void> {
      if (message.from === args.collector) {
        startedAt = process.hrtime.bigint();
        for (let i = 0; i < args.count; i++) await context.send(args.sink, i, data);
        return;
      }
      if (message.from === args.sink && message.body === 'done') {
        const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
        const report: ThroughputReport = { kind: 'throughput', messages: args.count, seconds, msgs_per_s: args.count / seconds };
        await context.send(args.collector, report);
      }
    },
  };
}

export function sink(context: ActorContext, init: ActorInit): Actor {
  const count = (init.args as { count: number }).count;
  let received = 0;
  let sum = 0;
  return {
    receive(message: Message): Promise<void> | void {
      const data = message.data;
      if (data && data.length > 0) sum += data[0]! + data[data.length - 1]!;
      if (++received === count) {
        received = 0;
        if (sum === 0) throw new Error('sink saw no data');
        return context.send(message.from, 'done');
      }
    },
  };
}
