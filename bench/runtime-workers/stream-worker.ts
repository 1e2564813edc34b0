/**
 * One side (producer or consumer) of a one-way stream between two worker threads, for
 * bench/runtime.ts. The same worker serves every case; the main thread only coordinates:
 *
 *   main ──run(consumer)──▶ consumer            consumer ──armed──▶ main
 *   main ──run(producer)──▶ producer            producer ──armed──▶ main
 *   main ──go────────────▶ producer  (t0 = hrtime)
 *   producer ══ ring | MessagePort ══▶ consumer  (t1 = hrtime after the last message)
 *   producer ──produced──▶ main       consumer ──consumed──▶ main
 *
 * Transports:
 *   ring        tryReserve + data.set + publish per message (or every `publishEvery` messages);
 *               when the ring is full the producer falls back to writer.write(), which parks on
 *               Atomics.waitAsync until the consumer frees space. The consumer reads in place with
 *               tryRead, touches the bytes, releases, and parks with waitForData when empty.
 *   post        MessagePort.postMessage(Uint8Array) per message (structured clone, no transfer),
 *               the consumer acks every `ackEvery` messages, the producer keeps at most
 *               `window` messages unacknowledged.
 *   post-batch  postMessage of an array of `batch` distinct Uint8Arrays (each with its own
 *               ArrayBuffer, so structured clone copies every one); ack per array, `window`
 *               arrays in flight at most.
 *
 * Every message i carries payload pool[i % POOL] (POOL distinct buffers, same for every
 * transport). "Touching" a message = adding its first and last byte to a running sum, which the
 * consumer reports and the main thread checks against the producer's expected sum.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { RingReader, RingWriter } from '../../src/runtime/ring.js';

export type Transport = 'ring' | 'post' | 'post-batch';

export interface RunCommand {
  op: 'run';
  role: 'producer' | 'consumer';
  transport: Transport;
  size: number;
  count: number;
  ring?: SharedArrayBuffer;
  port?: MessagePort;
  /** post: messages in flight; post-batch: arrays in flight. */
  window: number;
  /** post: consumer acks every ackEvery messages. */
  ackEvery: number;
  /** post-batch: messages per postMessage. */
  batch: number;
  /** ring: publish once every publishEvery messages (1 = one publish per message). */
  publishEvery: number;
}

export type Command = RunCommand | { op: 'go' } | { op: 'exit' };

export type Report =
  | { op: 'armed' }
  | { op: 'produced'; t0: bigint; expected: number; fullWaits: number }
  | { op: 'consumed'; t1: bigint; sum: number; received: number; parks: number }
  | { op: 'failed'; error: string };

const POOL = 1000;
const port = parentPort!;
const pools = new Map<number, Uint8Array[]>();

function poolOf(size: number): Uint8Array[] {
  let pool = pools.get(size);
  if (!pool) {
    pool = [];
    for (let i = 0; i < POOL; i++) {
      const bytes = new Uint8Array(size); // its own ArrayBuffer each
      for (let j = 0; j < size; j++) bytes[j] = (i * 31 + j) & 0xff;
      bytes[0] = i & 0xff;
      bytes[size - 1] = (i * 7 + 3) & 0xff;
      pool.push(bytes);
    }
    pools.set(size, pool);
  }
  return pool;
}

function expectedSum(pool: Uint8Array[], count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const bytes = pool[i % POOL]!;
    sum += bytes[0]! + bytes[bytes.length - 1]!;
  }
  return sum;
}

function report(message: Report): void {
  port.postMessage(message);
}

// ---- producers ------------------------------------------------------------------------------

async function produceRing(job: RunCommand, pool: Uint8Array[]): Promise<number> {
  const writer = new RingWriter(job.ring!);
  const data = writer.data;
  const count = job.count;
  const size = job.size;
  const publishEvery = job.publishEvery;
  let fullWaits = 0;
  let unpublished = 0;
  for (let i = 0; i < count; i++) {
    const payload = pool[i % POOL]!;
    const offset = writer.tryReserve(size);
    if (offset >= 0) {
      data.set(payload, offset);
      if (++unpublished >= publishEvery) {
        writer.publish();
        unpublished = 0;
      }
      continue;
    }
    // Full: publish what is reserved, then let the ring park us until there is space.
    if (unpublished > 0) {
      writer.publish();
      unpublished = 0;
    }
    fullWaits++;
    const pending = writer.write(payload);
    if (pending) await pending;
  }
  if (unpublished > 0) writer.publish();
  await writer.flushed();
  return fullWaits;
}

function producePost(job: RunCommand, pool: Uint8Array[], messagePort: MessagePort): Promise<number> {
  return new Promise((resolve) => {
    const count = job.count;
    const window = job.window;
    let sent = 0;
    let acked = 0;
    let fullWaits = 0;
    const pump = (): void => {
      while (sent < count && sent - acked < window) {
        messagePort.postMessage(pool[sent % POOL]); // structured clone: a copy per message
        sent++;
      }
      if (sent < count) fullWaits++;
    };
    messagePort.on('message', (ackedSoFar: number) => {
      acked = ackedSoFar;
      if (acked >= count) {
        messagePort.close();
        resolve(fullWaits);
      } else pump();
    });
    pump();
  });
}

function producePostBatch(job: RunCommand, pool: Uint8Array[], messagePort: MessagePort): Promise<number> {
  if (job.batch !== POOL) throw new Error(`post-batch needs batch = ${POOL} (one array of distinct buffers)`);
  const arrays = job.count / job.batch;
  if (!Number.isInteger(arrays)) throw new Error('count must be a multiple of batch');
  const batch = pool.slice(0, job.batch); // 1000 distinct Uint8Arrays, each its own ArrayBuffer
  return new Promise((resolve) => {
    let sent = 0;
    let acked = 0;
    let fullWaits = 0;
    const pump = (): void => {
      while (sent < arrays && sent - acked < job.window) {
        messagePort.postMessage(batch);
        sent++;
      }
      if (sent < arrays) fullWaits++;
    };
    messagePort.on('message', (ackedSoFar: number) => {
      acked = ackedSoFar;
      if (acked >= arrays) {
        messagePort.close();
        resolve(fullWaits);
      } else pump();
    });
    pump();
  });
}

// ---- consumers ------------------------------------------------------------------------------

async function consumeRing(job: RunCommand): Promise<void> {
  const reader = new RingReader(job.ring!);
  const count = job.count;
  let received = 0;
  let sum = 0;
  let parks = 0;
  report({ op: 'armed' });
  while (received < count) {
    const message = reader.tryRead();
    if (message === null) {
      parks++;
      await reader.waitForData();
      continue;
    }
    const bytes = message.bytes;
    sum += bytes[0]! + bytes[bytes.length - 1]!;
    reader.release(message.token);
    received++;
  }
  const t1 = process.hrtime.bigint();
  report({ op: 'consumed', t1, sum, received, parks });
}

function consumePost(job: RunCommand, messagePort: MessagePort): void {
  const count = job.count;
  const ackEvery = job.ackEvery;
  let received = 0;
  let sum = 0;
  messagePort.on('message', (bytes: Uint8Array) => {
    sum += bytes[0]! + bytes[bytes.length - 1]!;
    received++;
    if (received % ackEvery === 0 || received === count) messagePort.postMessage(received);
    if (received === count) {
      const t1 = process.hrtime.bigint();
      report({ op: 'consumed', t1, sum, received, parks: 0 });
    }
  });
  messagePort.once('close', () => messagePort.removeAllListeners('message'));
  report({ op: 'armed' });
}

function consumePostBatch(job: RunCommand, messagePort: MessagePort): void {
  const count = job.count;
  let received = 0;
  let arrays = 0;
  let sum = 0;
  messagePort.on('message', (batch: Uint8Array[]) => {
    for (let i = 0; i < batch.length; i++) {
      const bytes = batch[i]!;
      sum += bytes[0]! + bytes[bytes.length - 1]!;
    }
    received += batch.length;
    messagePort.postMessage(++arrays);
    if (received === count) {
      const t1 = process.hrtime.bigint();
      report({ op: 'consumed', t1, sum, received, parks: 0 });
    }
  });
  messagePort.once('close', () => messagePort.removeAllListeners('message'));
  report({ op: 'armed' });
}

// ---- control --------------------------------------------------------------------------------

let armedProducer: { job: RunCommand; pool: Uint8Array[]; expected: number } | undefined;

async function go(): Promise<void> {
  const armed = armedProducer;
  armedProducer = undefined;
  if (!armed) throw new Error('go without a run');
  const { job, pool, expected } = armed;
  const t0 = process.hrtime.bigint();
  let fullWaits: number;
  if (job.transport === 'ring') fullWaits = await produceRing(job, pool);
  else if (job.transport === 'post') fullWaits = await producePost(job, pool, job.port!);
  else fullWaits = await producePostBatch(job, pool, job.port!);
  report({ op: 'produced', t0, expected, fullWaits });
}

function fail(error: unknown): void {
  report({ op: 'failed', error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
}

// The parentPort listener keeps this worker's event loop alive while the ring consumer is parked
// in Atomics.waitAsync (which alone would not). 'exit' closes the port and the worker ends.
port.on('message', (command: Command) => {
  try {
    if (command.op === 'exit') {
      port.close();
      return;
    }
    if (command.op === 'go') {
      go().catch(fail);
      return;
    }
    if (command.role === 'consumer') {
      if (command.transport === 'ring') consumeRing(command).catch(fail);
      else if (command.transport === 'post') consumePost(command, command.port!);
      else consumePostBatch(command, command.port!);
      return;
    }
    const pool = poolOf(command.size);
    armedProducer = { job: command, pool, expected: expectedSum(pool, command.count) };
    report({ op: 'armed' });
  } catch (error) {
    fail(error);
  }
});
