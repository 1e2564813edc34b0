import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { runnableUrl } from '../../src/runtime/module-url.js';
import { createRingBuffer } from '../../src/runtime/ring.js';

const workerUrl = new URL(runnableUrl(new URL('./fixtures/ring-peer-worker.ts', import.meta.url)));

function runPeer(job: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { workerData: job });
    worker.once('message', (result: { checksum?: number; error?: string }) => {
      void worker.terminate();
      if (result.error) reject(new Error(result.error));
      else resolve(result.checksum!);
    });
    worker.once('error', reject);
    // A worker that ends without a result (an empty module, say: a build rewriting dist/ as it
    // loads) fails the test at once instead of leaving its peer parked until the timeout.
    worker.once('exit', (code) => reject(new Error(`${String(job.role)} worker exited (code ${code}) without a result`)));
  });
}

/**
 * The ring's control words (ring.ts: WRITE, RELEASE, WAITING, WANT; doorbell.ts: SLEEPING,
 * SEQUENCE), for a run that did not finish: frozen values show both peers parked (a lost
 * wake-up), moving ones a slow run.
 */
function controlWords(ring: SharedArrayBuffer): string {
  const words = new Int32Array(ring, 0, 128);
  const at = (index: number): number => Atomics.load(words, index);
  return `WRITE ${at(0)} RELEASE ${at(16)} WAITING ${at(32)} WANT ${at(40)} SLEEPING ${at(64)} SEQUENCE ${at(80)}`;
}

/** `run`, or, if it has not settled within `ms`, a failure naming the control words read twice a second apart. */
async function withinOrDescribe<T>(run: Promise<T>, ms: number, ring: SharedArrayBuffer): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const first = controlWords(ring);
      timer = setTimeout(() => reject(new Error(`not done within ${ms} ms; ring control words: ${first}, 1 s later: ${controlWords(ring)}`)), 1000);
    }, ms);
  });
  try {
    return await Promise.race([run, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('ring between two real worker threads', () => {
  it('carries 10 million messages in order with matching checksums', async () => {
    const ring = createRingBuffer(1 << 16);
    const job = { ring, count: 10_000_000, largeEvery: 0, largeBytes: 0 };
    // Normally 2-6 s. It hung to the test's timeout once in a full suite (session 17): a late run
    // now fails with the ring's state, to tell a lost wake-up (frozen) from a slow run (moving).
    const [produced, consumed] = await withinOrDescribe(Promise.all([runPeer({ ...job, role: 'producer' }), runPeer({ ...job, role: 'consumer' })]), 170_000, ring);
    expect(consumed).toBe(produced);
  }, 180_000);

  it('carries messages larger than the ring between small ones, across threads', async () => {
    const ring = createRingBuffer(1 << 12);
    const job = { ring, count: 20_000, largeEvery: 997, largeBytes: 50_000 };
    const [produced, consumed] = await Promise.all([runPeer({ ...job, role: 'producer' }), runPeer({ ...job, role: 'consumer' })]);
    expect(consumed).toBe(produced);
  }, 60_000);
});
