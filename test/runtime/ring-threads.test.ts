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

describe('ring between two real worker threads', () => {
  it('carries 10 million messages in order with matching checksums', async () => {
    const ring = createRingBuffer(1 << 16);
    const job = { ring, count: 10_000_000, largeEvery: 0, largeBytes: 0 };
    const [produced, consumed] = await Promise.all([runPeer({ ...job, role: 'producer' }), runPeer({ ...job, role: 'consumer' })]);
    expect(consumed).toBe(produced);
  }, 180_000);

  it('carries messages larger than the ring between small ones, across threads', async () => {
    const ring = createRingBuffer(1 << 12);
    const job = { ring, count: 20_000, largeEvery: 997, largeBytes: 50_000 };
    const [produced, consumed] = await Promise.all([runPeer({ ...job, role: 'producer' }), runPeer({ ...job, role: 'consumer' })]);
    expect(consumed).toBe(produced);
  }, 60_000);
});
