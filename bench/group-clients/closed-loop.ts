/**
 * A closed-loop request load for bench/groups.ts: each connection keeps `window` requests in
 * flight, sending the next as soon as one is answered. Frames come pre-encoded from the
 * generated codecs (`KafkaConnection.encodeRequest`); `frame(connection, sequence)` returns a
 * fresh buffer each time (a queued socket write keeps a reference to the one it was given) and
 * may patch fields into it, e.g. an increasing committed offset. Every answer is decoded and
 * checked; the first bad one stops the case.
 *
 *   |-- warm-up --|----------- measured -----------|-- drain (answers still in flight) --|
 *   answers are counted, and their latencies kept, only when they arrive inside the measured window.
 */
import type { KafkaConnection } from '../../src/client/kafka-connection.js';

export interface ClosedLoopSpec {
  readonly connections: readonly KafkaConnection[];
  readonly window: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  frame(connection: number, sequence: number): Buffer;
  /** Returns an error message for a bad answer. */
  check(response: unknown, connection: number, sequence: number): string | undefined;
}

export interface ClosedLoopResult {
  readonly requests: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests sent in total (warm-up and drain included), per connection. */
  readonly sent: readonly number[];
}

export async function closedLoop(spec: ClosedLoopSpec): Promise<ClosedLoopResult> {
  const started = performance.now();
  const measureFrom = started + spec.warmupMs;
  const measureTo = measureFrom + spec.measureMs;
  const latencies: number[] = [];
  const sent = spec.connections.map(() => 0);
  let requests = 0;
  let failure: Error | undefined;
  await Promise.all(spec.connections.map((connection, index) => new Promise<void>((resolve) => {
    let inFlight = 0;
    const send = (): void => {
      const sequence = sent[index]!++;
      const at = performance.now();
      inFlight++;
      connection.requestFrame(spec.frame(index, sequence), 0).then(
        (response) => {
          inFlight--;
          const now = performance.now();
          const error = spec.check(response, index, sequence);
          if (error) failure ??= new Error(error);
          if (now >= measureFrom && now < measureTo) {
            requests++;
            latencies.push(now - at);
          }
          if (!failure && now < measureTo) send();
          else if (inFlight === 0) resolve();
        },
        (error: Error) => {
          inFlight--;
          failure ??= error;
          if (inFlight === 0) resolve();
        },
      );
    };
    for (let i = 0; i < spec.window; i++) send();
  })));
  if (failure) throw failure;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { requests, seconds: spec.measureMs / 1000, p50Ms: at(0.5), p99Ms: at(0.99), sent };
}
