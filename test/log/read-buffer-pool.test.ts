import { describe, expect, it } from 'vitest';
import { POOLED_BUFFER_BYTES, POOLED_READ_BYTES_MIN, ReadBufferPool } from '../../src/log/read-buffer-pool.js';

describe('ReadBufferPool', () => {
  it('lends buffers for large reads and reuses one once it is released through any view of it', () => {
    const pool = new ReadBufferPool();
    const first = pool.acquire(POOLED_READ_BYTES_MIN);
    expect(first.byteLength).toBe(POOLED_BUFFER_BYTES);
    pool.release(first.subarray(10, 20));
    expect(pool.freeBuffers).toBe(1);
    const second = pool.acquire(POOLED_BUFFER_BYTES);
    expect(second.buffer).toBe(first.buffer);
    expect(pool.freeBuffers).toBe(0);
  });

  it('leaves small and oversized reads to the allocator, and ignores what it did not lend', () => {
    const pool = new ReadBufferPool();
    const small = pool.acquire(100);
    const large = pool.acquire(POOLED_BUFFER_BYTES + 1);
    expect(small.byteLength).toBe(100);
    expect(large.byteLength).toBe(POOLED_BUFFER_BYTES + 1);
    pool.release(small);
    pool.release(large);
    pool.release(new Uint8Array(POOLED_BUFFER_BYTES));
    expect(pool.freeBuffers).toBe(0);
  });

  it('takes a buffer back once however often it is released, and keeps a bounded number', () => {
    const pool = new ReadBufferPool();
    const lent = Array.from({ length: 40 }, () => pool.acquire(POOLED_BUFFER_BYTES));
    pool.release(lent[0]!);
    pool.release(lent[0]!);
    expect(pool.freeBuffers).toBe(1);
    for (const buffer of lent) pool.release(buffer);
    expect(pool.freeBuffers).toBe(16);
    const again = new Set(Array.from({ length: 16 }, () => pool.acquire(POOLED_BUFFER_BYTES).buffer));
    expect(again.size).toBe(16);
  });
});
