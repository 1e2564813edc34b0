import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { NO_ADDRESS, type ActorFactory, type Address } from '../../src/runtime/actor.js';
import { DeterministicRuntime, type TraceEntry } from '../../src/runtime/deterministic-runtime.js';

const silent = pino({ level: 'silent' });

/**
 * Five actors pass rumours to random peers (chosen with context.random) until a rumour's hops
 * run out; each also sets a timer of random length that starts one more rumour.
 */
const GOSSIPERS = 5;
const gossiper: ActorFactory = (context, init) => {
  const peers = init.args as Address[];
  return {
    async receive(message) {
      const body = message.body as { rumour: string; hops: number } | { tick: string };
      if ('tick' in body) {
        await context.send(context.self, { rumour: `${body.tick}@${context.now()}`, hops: 4 });
        return;
      }
      if (body.hops === 0) return;
      const others = peers.filter((peer) => peer !== context.self);
      const target = others[Math.floor(context.random() * others.length)]!;
      await context.send(target, { rumour: body.rumour, hops: body.hops - 1 });
    },
  };
};

async function gossipRun(seed: number): Promise<{ trace: readonly TraceEntry[]; nowMs: number; steps: number }> {
  const runtime = new DeterministicRuntime({ seed, log: silent });
  const peers: Address[] = [];
  // Capacity 4 with 5 rumours in flight: a gossiper may wait on a full mailbox, but two can never
  // wait on each other (that would take 6 messages).
  for (let index = 0; index < GOSSIPERS; index++) peers.push(runtime.spawn(gossiper, peers, { mailboxCapacity: 4 }));
  expect(peers).toEqual([1, 2, 3, 4, 5]);
  for (const peer of peers) {
    await runtime.send(peer, { rumour: `r${peer}`, hops: 6 });
  }
  const { steps, nowMs } = await runtime.run();
  return { trace: runtime.trace, nowMs, steps };
}

/** A gossiper that also starts a rumour on a random timer (in virtual time). */
const timedGossiper: ActorFactory = (context, init) => {
  context.schedule(Math.floor(context.random() * 1000), { tick: `t${context.self}` });
  return gossiper(context, init);
};

async function timedGossipRun(seed: number): Promise<DeterministicRuntime> {
  const runtime = new DeterministicRuntime({ seed, log: silent, startTimeMs: 1_000 });
  const peers: Address[] = [];
  // Room for every message that can be in flight (10), so no two gossipers wait on each other.
  for (let index = 0; index < GOSSIPERS; index++) peers.push(runtime.spawn(timedGossiper, peers, { mailboxCapacity: 16 }));
  for (const peer of peers) void runtime.send(peer, { rumour: `r${peer}`, hops: 6 });
  await runtime.run();
  return runtime;
}

/** Which actor each delivery went to, when five idle actors each have three messages queued. */
async function schedulingOrder(seed: number): Promise<Address[]> {
  const runtime = new DeterministicRuntime({ seed, log: silent });
  const actors = Array.from({ length: 5 }, () => runtime.spawn(() => ({ receive() {} })));
  for (let round = 0; round < 3; round++) for (const actor of actors) await runtime.send(actor, round);
  await runtime.run();
  return runtime.trace.map((entry) => (entry.kind === 'delivery' ? entry.to : -1));
}

function order(trace: readonly TraceEntry[]): string[] {
  return trace.map((entry) => (entry.kind === 'delivery' ? `${entry.step}:${entry.timeMs}:${entry.from}->${entry.to}:${JSON.stringify(entry.body)}` : `crash ${entry.actor}`));
}

describe('DeterministicRuntime', () => {
  it('replays the same trace from the same seed and another order from another seed', async () => {
    const first = await gossipRun(42);
    const second = await gossipRun(42);
    const other = await gossipRun(7);
    // Five rumours of 6 hops: 5 * 7 deliveries, whatever the order.
    expect(first.steps).toBe(35);
    expect(first.trace).toHaveLength(35);
    expect(order(first.trace)).toEqual(order(second.trace));
    expect(first.trace).toEqual(second.trace);
    expect(other.steps).toBe(35);
    expect(order(other.trace)).not.toEqual(order(first.trace));
    // Every actor heard a rumour from a peer, not only from outside.
    for (let peer = 1; peer <= GOSSIPERS; peer++) {
      expect(first.trace.some((entry) => entry.kind === 'delivery' && entry.to === peer && entry.from !== NO_ADDRESS)).toBe(true);
    }

    // The scheduler's own choices follow the seed too (these actors use no context.random).
    expect(await schedulingOrder(11)).toEqual(await schedulingOrder(11));
    expect(await schedulingOrder(11)).not.toEqual(await schedulingOrder(12));

    const timedA = await timedGossipRun(1234);
    const timedB = await timedGossipRun(1234);
    const timedC = await timedGossipRun(99);
    // Initial rumours (5 * 7) plus one timer each (1 tick + 5 hops of its rumour each).
    expect(timedA.trace).toHaveLength(5 * 7 + 5 * (1 + 5));
    expect(timedA.trace).toEqual(timedB.trace);
    expect(timedA.nowMs).toBe(timedB.nowMs);
    expect(order(timedC.trace)).not.toEqual(order(timedA.trace));
    const ticks = timedA.trace.filter((entry) => entry.kind === 'delivery' && typeof entry.body === 'object' && entry.body !== null && 'tick' in entry.body);
    expect(ticks).toHaveLength(5);
    for (const tick of ticks) {
      expect(tick.kind === 'delivery' && tick.from === tick.to).toBe(true);
      expect(tick.timeMs).toBeGreaterThanOrEqual(1_000);
      expect(tick.timeMs).toBeLessThan(2_000);
    }
    // Time only moves forward in the trace, and ends at the last timer.
    const times = timedA.trace.map((entry) => entry.timeMs);
    expect([...times].sort((left, right) => left - right)).toEqual(times);
    expect(timedA.nowMs).toBe(Math.max(...ticks.map((tick) => tick.timeMs)));
  });

  it('fires a 10 000 ms timer at start + 10 000 of virtual time without waiting', async () => {
    const runtime = new DeterministicRuntime({ seed: 1, log: silent, startTimeMs: 5_000 });
    const firedAt: number[] = [];
    let cancelledFired = false;
    const sleeper = runtime.spawn((context) => ({
      receive(message) {
        if (message.body === 'arm') {
          context.schedule(10_000, 'wake');
          const cancelled = context.schedule(5_000, 'never');
          context.cancel(cancelled);
        } else if (message.body === 'wake') {
          firedAt.push(context.now());
        } else if (message.body === 'never') {
          cancelledFired = true;
        }
      },
    }));
    await runtime.send(sleeper, 'arm');
    const realStart = performance.now();
    const early = await runtime.run({ untilMs: 14_999 });
    expect(firedAt).toEqual([]);
    expect(early).toEqual({ steps: 1, nowMs: 14_999 });
    const rest = await runtime.run();
    expect(performance.now() - realStart).toBeLessThan(1_000);
    expect(firedAt).toEqual([15_000]);
    expect(rest).toEqual({ steps: 1, nowMs: 15_000 });
    expect(cancelledFired).toBe(false);
    expect(runtime.trace.at(-1)).toEqual({ kind: 'delivery', step: 2, timeMs: 15_000, to: sleeper, from: sleeper, body: 'wake' });
  });

  it('keeps a slow receiver to its mailbox bound and delivers every message in order', async () => {
    const runtime = new DeterministicRuntime({ seed: 3, log: silent });
    const received: number[] = [];
    const receiver = runtime.spawn(
      () => ({
        async receive(message) {
          // Slow: several turns of the microtask queue per message.
          for (let turn = 0; turn < 5; turn++) await Promise.resolve();
          received.push(message.body as number);
        },
      }),
      undefined,
      { mailboxCapacity: 2 },
    );
    let senderDone = false;
    const sender = runtime.spawn((context) => ({
      async receive() {
        for (let index = 0; index < 50; index++) await context.send(receiver, index);
        senderDone = true;
      },
    }));
    await runtime.send(sender, 'go');
    let largestQueue = 0;
    let totalSteps = 0;
    for (;;) {
      const { steps } = await runtime.run({ maxSteps: 1 });
      if (steps === 0) break;
      totalSteps += steps;
      largestQueue = Math.max(largestQueue, runtime.mailboxSize(receiver));
      expect(runtime.mailboxSize(receiver)).toBeLessThanOrEqual(2);
      expect(totalSteps).toBeLessThan(1_000);
    }
    // The bound was actually reached (the sender had to wait), never exceeded.
    expect(largestQueue).toBe(2);
    expect(senderDone).toBe(true);
    expect(received).toEqual(Array.from({ length: 50 }, (_, index) => index));
    expect(totalSteps).toBe(51);
    expect(runtime.deadLetters).toBe(0);
  });

  it('restarts a crashing permanent actor, not a temporary one, and bounds a crash loop', async () => {
    const runtime = new DeterministicRuntime({ seed: 5, log: silent, restartIntensity: { max: 3, windowMs: 60_000 } });
    const starts = new Map<string, number[]>();
    const handled = new Map<string, unknown[]>();
    const crasher = (name: string): ActorFactory => (_context, init) => {
      starts.set(name, [...(starts.get(name) ?? []), init.restarts]);
      return {
        async receive(message) {
          if (message.body === 'throw') throw new Error(`${name} threw`);
          if (message.body === 'reject') return Promise.reject(new Error(`${name} rejected`));
          handled.set(name, [...(handled.get(name) ?? []), message.body]);
        },
      };
    };
    const permanent = runtime.spawn(crasher('permanent'), undefined, { restart: 'permanent' });
    const temporary = runtime.spawn(crasher('temporary'), undefined, { restart: 'temporary' });
    for (const body of ['a', 'throw', 'b', 'reject', 'c']) await runtime.send(permanent, body);
    for (const body of ['a', 'throw', 'b']) await runtime.send(temporary, body);
    await runtime.run();

    expect(starts.get('permanent')).toEqual([0, 1, 2]);
    expect(handled.get('permanent')).toEqual(['a', 'b', 'c']);
    expect(starts.get('temporary')).toEqual([0]);
    expect(handled.get('temporary')).toEqual(['a']);
    expect(runtime.deadLetters).toBe(1); // the temporary actor's queued 'b'
    const crashes = runtime.trace.filter((entry) => entry.kind === 'crash');
    expect(crashes.map((entry) => entry.kind === 'crash' && [entry.actor, entry.error, entry.decision])).toEqual(
      expect.arrayContaining([
        [permanent, 'permanent threw', 'restart'],
        [permanent, 'permanent rejected', 'restart'],
        [temporary, 'temporary threw', 'stop'],
      ]),
    );
    expect(crashes).toHaveLength(3);

    // Sends to the stopped actor are dead letters; the restarted one still works.
    await runtime.send(temporary, 'late');
    expect(runtime.deadLetters).toBe(2);

    // One more restart fits in the budget of 3; the crash after that stops the actor.
    for (const body of ['throw', 'd', 'throw', 'e']) await runtime.send(permanent, body);
    await runtime.run();
    expect(starts.get('permanent')).toEqual([0, 1, 2, 3]);
    expect(handled.get('permanent')).toEqual(['a', 'b', 'c', 'd']);
    expect(runtime.trace.at(-1)).toMatchObject({ kind: 'crash', actor: permanent, decision: 'stop' });
    expect(runtime.mailboxSize(permanent)).toBe(0);
    expect(runtime.deadLetters).toBe(3); // plus the 'e' queued behind the final crash
  });

  it('returns instead of hanging when every actor waits on a full mailbox', async () => {
    const runtime = new DeterministicRuntime({ seed: 9, log: silent });
    // Each actor, on its first message, floods the other; neither ever finishes its handler.
    const peers: Address[] = [];
    const flooder: ActorFactory = (context) => ({
      async receive() {
        const other = peers.find((peer) => peer !== context.self)!;
        for (let index = 0; index < 10; index++) await context.send(other, index);
      },
    });
    peers.push(runtime.spawn(flooder, undefined, { mailboxCapacity: 1 }), runtime.spawn(flooder, undefined, { mailboxCapacity: 1 }));
    await runtime.send(peers[0]!, 'go');
    await runtime.send(peers[1]!, 'go');
    const result = await runtime.run();
    expect(result.steps).toBe(2);
    expect(runtime.mailboxSize(peers[0]!)).toBe(1);
    expect(runtime.mailboxSize(peers[1]!)).toBe(1);
  });

  it('spawns from a module and export name, as a worker thread would', async () => {
    const source = 'export function echo(context, init) { return { async receive(message) { await context.send(init.args.to, { echoed: message.body, restarts: init.restarts }); } }; }';
    const runtime = new DeterministicRuntime({ seed: 2, log: silent });
    const seen: unknown[] = [];
    const sink = runtime.spawn(() => ({ receive: (message) => void seen.push(message.body) }));
    const echo = await runtime.spawnSpec({ module: `data:text/javascript,${encodeURIComponent(source)}`, factory: 'echo', args: { to: sink }, mailboxCapacity: 8 });
    expect(echo).toBe(2);
    await runtime.send(echo, 'hello');
    await runtime.run();
    expect(seen).toEqual([{ echoed: 'hello', restarts: 0 }]);
    await expect(runtime.spawnSpec({ module: `data:text/javascript,${encodeURIComponent(source)}`, factory: 'missing' })).rejects.toThrow(/no actor factory export named missing/);
  });
});
