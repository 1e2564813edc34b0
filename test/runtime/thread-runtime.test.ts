import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/runtime/actor.js';
import { ThreadRuntime } from '../../src/runtime/thread-runtime.js';

const actors = new URL('./fixtures/actors.ts', import.meta.url).href;
const spec = (factory: string, extra: Record<string, unknown> = {}) => ({ module: actors, factory, ...extra });

/** A main-thread actor that collects what it receives; `next()` awaits the next message. */
function collector(runtime: ThreadRuntime) {
  const inbox: Message[] = [];
  let waiter: (() => void) | undefined;
  const id = runtime.spawnLocal(() => ({
    receive(message) {
      inbox.push({ from: message.from, body: message.body, data: message.data ? Uint8Array.from(message.data) : undefined });
      waiter?.();
    },
  }));
  async function next(timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    while (inbox.length === 0) {
      if (Date.now() > deadline) throw new Error('no message within the timeout');
      await new Promise<void>((resolve) => {
        waiter = resolve;
        setTimeout(resolve, 20);
      });
    }
    return inbox.shift()!;
  }
  return { id, next, inbox };
}

function once<T extends unknown[]>(runtime: ThreadRuntime, event: 'workerRestarted' | 'actorRestarted' | 'actorStopped'): Promise<T> {
  return new Promise((resolve) => runtime.once(event, (...args: unknown[]) => resolve(args as T)));
}

let runtime: ThreadRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe('ThreadRuntime', () => {
  it('places actors on worker threads and carries control and data messages between them', async () => {
    runtime = await ThreadRuntime.start({ workers: 2 });
    const probe = collector(runtime);
    const first = await runtime.spawn(spec('echo'), { thread: 1 });
    const second = await runtime.spawn(spec('echo'), { thread: 2 });
    expect(runtime.threadOf(first)).toBe(1);
    expect(runtime.threadOf(second)).toBe(2);
    const data = Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff);
    await runtime.sendAs(probe.id, first, { hello: 'one', list: [1, 2, 3] }, data);
    await runtime.sendAs(probe.id, second, { hello: 'two' });
    const replies = [await probe.next(), await probe.next()].sort((a, b) => a.from - b.from);
    expect(replies[0]!.body).toMatchObject({ echo: { hello: 'one', list: [1, 2, 3] } });
    expect(Buffer.compare(Buffer.from(replies[0]!.data!), Buffer.from(data))).toBe(0);
    expect(replies[1]!.body).toMatchObject({ echo: { hello: 'two' } });
    const threads = replies.map((reply) => (reply.body as { threadId: number }).threadId);
    expect(new Set([...threads, threadId]).size).toBe(3);
  });

  it('lets actors on different workers talk directly, and places actors on the least loaded worker', async () => {
    runtime = await ThreadRuntime.start({ workers: 2 });
    const probe = collector(runtime);
    const echoId = await runtime.spawn(spec('echo'));
    const forwarderId = await runtime.spawn(spec('forwarder', { args: { to: echoId, reportTo: probe.id } }));
    expect(new Set([runtime.threadOf(echoId), runtime.threadOf(forwarderId)])).toEqual(new Set([1, 2]));
    for (let i = 0; i < 100; i++) await runtime.send(forwarderId, { round: i });
    for (let i = 0; i < 100; i++) expect((await probe.next()).body).toMatchObject({ relayed: { echo: { round: i } } });
  });

  it('bounds a mailbox and a ring: a stalled actor slows its sender, nothing is dropped, order holds', async () => {
    const ringBytes = 1 << 14;
    runtime = await ThreadRuntime.start({ workers: 1, ringBytes });
    const probe = collector(runtime);
    const mailboxCapacity = 4;
    const checker = await runtime.spawn(spec('sequenceChecker', { mailboxCapacity }), { thread: 1 });
    await runtime.send(checker, { type: 'stall', ms: 400 });
    const payload = new Uint8Array(1000);
    const total = 500;
    let accepted = 0;
    const sends: Promise<void>[] = [];
    for (let sequence = 0; sequence < total; sequence++) {
      sends.push(runtime.send(checker, { type: 'data', sequence }, payload).then(() => void accepted++));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // While the actor stalls, only what fits its mailbox plus the ring may be accepted.
    const bound = mailboxCapacity + Math.ceil(ringBytes / payload.byteLength);
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(bound);
    await Promise.all(sends);
    await runtime.sendAs(probe.id, checker, { type: 'report' });
    expect((await probe.next()).body).toEqual({ received: total, outOfOrder: 0, dataBytes: total * payload.byteLength });
  });

  it('bounds a local mailbox: a sender on the same thread waits while it is full', async () => {
    runtime = await ThreadRuntime.start({ workers: 1 });
    let releaseStall!: () => void;
    const stall = new Promise<void>((resolve) => (releaseStall = resolve));
    const received: number[] = [];
    const slow = runtime.spawnLocal(
      () => ({
        async receive(message) {
          if ((message.body as { sequence: number }).sequence === 0) await stall;
          received.push((message.body as { sequence: number }).sequence);
        },
      }),
      undefined,
      { mailboxCapacity: 3 },
    );
    let accepted = 0;
    const sends = Array.from({ length: 20 }, (_, sequence) => runtime!.send(slow, { sequence }).then(() => void accepted++));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(accepted).toBe(1 + 3); // the one being processed, plus a full mailbox
    releaseStall();
    await Promise.all(sends);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('restarts an actor that throws, per its restart policy', async () => {
    runtime = await ThreadRuntime.start({ workers: 1 });
    const probe = collector(runtime);
    const permanent = await runtime.spawn(spec('crasher'));
    const restarted = once<[number, string]>(runtime, 'actorRestarted');
    await runtime.send(permanent, { type: 'boom' });
    expect(await restarted).toEqual([permanent, 'boom requested']);
    await runtime.sendAs(probe.id, permanent, { type: 'ping' });
    expect((await probe.next()).body).toMatchObject({ restarts: 1 });

    const temporary = await runtime.spawn(spec('crasher', { restart: 'temporary' }));
    const stopped = once<[number, string]>(runtime, 'actorStopped');
    await runtime.send(temporary, { type: 'boom' });
    expect(await stopped).toEqual([temporary, 'boom requested']);
    expect(runtime.threadOf(temporary)).toBe(-1);
  });

  it('restarts a worker killed mid-stream, and its actors come back', async () => {
    runtime = await ThreadRuntime.start({ workers: 2 });
    const probe = collector(runtime);
    const counterId = await runtime.spawn(spec('counter'), { thread: 1 });
    const survivor = await runtime.spawn(spec('counter'), { thread: 2 });
    const restarted = once<[number, string]>(runtime, 'workerRestarted');
    const stream = (async () => {
      for (let i = 0; i < 20_000; i++) {
        await runtime!.send(counterId, { type: 'tick' });
        await runtime!.send(survivor, { type: 'tick' });
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await runtime.workerThread(1).terminate();
    const [thread] = await restarted;
    expect(thread).toBe(1);
    await stream;
    await runtime.sendAs(probe.id, counterId, { type: 'get' });
    const after = (await probe.next()).body as { count: number; threadId: number };
    expect(after.threadId).toBe(runtime.workerThread(1).threadId);
    expect(after.count).toBeLessThan(20_000); // a fresh instance: what the dead one counted is gone
    await runtime.sendAs(probe.id, survivor, { type: 'get' });
    expect((await probe.next()).body).toMatchObject({ count: 20_000 });
  });

  it('restarts a worker after process.exit, an uncaught error, and running out of memory', async () => {
    runtime = await ThreadRuntime.start({ workers: 1, resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } });
    const probe = collector(runtime);
    const actor = await runtime.spawn(spec('crasher'));
    const exited = once<[number, string]>(runtime, 'workerRestarted');
    await runtime.send(actor, { type: 'exit' });
    expect((await exited)[1]).toBe('exit code 3');
    await runtime.sendAs(probe.id, actor, { type: 'ping' });
    expect((await probe.next()).body).toMatchObject({ restarts: 1 });

    const uncaught = once<[number, string]>(runtime, 'workerRestarted');
    await runtime.send(actor, { type: 'uncaught' });
    expect((await uncaught)[1]).toBe('Error: uncaught in a timer');
    await runtime.sendAs(probe.id, actor, { type: 'ping' });
    expect((await probe.next()).body).toMatchObject({ restarts: 2 });

    const oom = once<[number, string]>(runtime, 'workerRestarted');
    await runtime.send(actor, { type: 'oom' });
    expect((await oom)[1]).toMatch(/memory/i);
    await runtime.sendAs(probe.id, actor, { type: 'ping' });
    expect((await probe.next()).body).toMatchObject({ restarts: 3 });
  });

  it('moves an actor to another worker with its state', async () => {
    runtime = await ThreadRuntime.start({ workers: 2 });
    const probe = collector(runtime);
    const counterId = await runtime.spawn(spec('counter'), { thread: 1 });
    for (let i = 0; i < 5; i++) await runtime.send(counterId, { type: 'tick' });
    await runtime.move(counterId, 2);
    expect(runtime.threadOf(counterId)).toBe(2);
    for (let i = 0; i < 3; i++) await runtime.send(counterId, { type: 'tick' });
    await runtime.sendAs(probe.id, counterId, { type: 'get' });
    expect((await probe.next()).body).toMatchObject({ count: 8, threadId: runtime.workerThread(2).threadId });
  });
});
