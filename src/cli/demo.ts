/**
 * `samsa demo`: the actor runtime demo. Producers on worker threads stream 16 KiB batches through
 * the SharedArrayBuffer rings to partition actors, and the rate is printed once a second.
 * SIGINT/SIGTERM stop it.
 */
import { availableParallelism } from 'node:os';
import { ThreadRuntime } from '../runtime/thread-runtime.js';

export const DEMO_USAGE = `usage: samsa demo [--workers N] [--seconds S]`;

function parseDemoArgs(rest: string[]): { workers: number; seconds: number } {
  let workers = Math.max(2, availableParallelism());
  let seconds = Infinity;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = Number(rest[i + 1]);
    if ((flag === '--workers' || flag === '--seconds') && Number.isFinite(value) && value > 0) {
      if (flag === '--workers') workers = Math.floor(value);
      else seconds = value;
      i++;
    } else {
      throw new Error(`unknown or invalid option: ${flag}\n${DEMO_USAGE}`);
    }
  }
  return { workers, seconds };
}

export async function runDemo(argv: string[]): Promise<void> {
  const { workers, seconds } = parseDemoArgs(argv);
  await startDemo(workers, seconds);
}

async function startDemo(workers: number, seconds: number): Promise<void> {
  const runtime = await ThreadRuntime.start({ workers, ringBytes: 4 << 20 });
  const module = new URL('../actors/demo-actors.js', import.meta.url).href;
  const stats = { batches: 0, bytes: 0 };
  const reporter = runtime.spawnLocal(() => ({
    receive(message) {
      const body = message.body as { type: string; batches?: number; bytes?: number };
      if (body.type === 'partitionStats') {
        stats.batches += body.batches ?? 0;
        stats.bytes += body.bytes ?? 0;
      }
    },
  }));
  const partitions: number[] = [];
  for (let worker = 1; worker <= workers; worker++) {
    const partition = await runtime.spawn({ module, factory: 'partition' }, { thread: worker });
    const producer = await runtime.spawn({ module, factory: 'producer', args: { partition } }, { thread: (worker % workers) + 1 });
    partitions.push(partition);
    await runtime.send(producer, { type: 'start' });
  }
  console.log(`samsa: actor runtime demo on ${workers} worker threads (Ctrl-C to stop)`);
  let previous = { batches: 0, bytes: 0, at: Date.now() };
  const started = Date.now();
  const timer = setInterval(() => {
    stats.batches = 0;
    stats.bytes = 0;
    for (const partition of partitions) void runtime.sendAs(reporter, partition, { type: 'stats' });
    setTimeout(() => {
      const now = Date.now();
      const seconds = (now - previous.at) / 1000;
      const rate = (stats.bytes - previous.bytes) / seconds / 1e6;
      console.log(`samsa: ${stats.batches} batches through the rings, ${rate.toFixed(0)} MB/s`);
      previous = { ...stats, at: now };
    }, 50);
  }, 1000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (Number.isFinite(seconds)) setTimeout(resolve, seconds * 1000 - (Date.now() - started));
  });
  clearInterval(timer);
  await runtime.close();
  console.log('samsa: stopped');
}

