import { describe, expect, it } from 'vitest';
import { BufferPool, POOLED_BYTES_MAX, POOLED_BYTES_MIN } from '../../src/protocol/buffer-pool.js';

describe('BufferPool', () => {
  it('lends the smallest power-of-two class that holds a request, and reuses a buffer released through any view of it', () => {
    const pool = new BufferPool();
    const first = pool.acquire(POOLED_BYTES_MIN + 1);
    expect(first.byteLength).toBe(2 * POOLED_BYTES_MIN);
    expect(pool.acquire(POOLED_BYTES_MIN).byteLength).toBe(POOLED_BYTES_MIN);
    expect(pool.acquire(POOLED_BYTES_MAX).byteLength).toBe(POOLED_BYTES_MAX);
    pool.release(first.subarray(10, 20));
    expect(pool.freeBuffers).toBe(1);
    expect(pool.acquire(POOLED_BYTES_MIN).buffer).not.toBe(first.buffer); // another class
    expect(pool.acquire(2 * POOLED_BYTES_MIN).buffer).toBe(first.buffer);
    expect(pool.freeBuffers).toBe(0);
  });

  it('leaves small and oversized requests to the allocator, and ignores what it did not lend', () => {
    const pool = new BufferPool();
    const small = pool.acquire(100);
    const large = pool.acquire(POOLED_BYTES_MAX + 1);
    expect(small.byteLength).toBe(100);
    expect(large.byteLength).toBe(POOLED_BYTES_MAX + 1);
    pool.release(small);
    pool.release(large);
    pool.release(new Uint8Array(POOLED_BYTES_MAX));
    expect(pool.freeBuffers).toBe(0);
  });

  it('takes a buffer back once however often it is released, and keeps a bounded number', () => {
    const pool = new BufferPool();
    const lent = Array.from({ length: 40 }, () => pool.acquire(POOLED_BYTES_MAX));
    pool.release(lent[0]!);
    pool.release(lent[0]!);
    expect(pool.freeBuffers).toBe(1);
    for (const buffer of lent) pool.release(buffer);
    expect(pool.freeBuffers).toBe(8);
    expect(new Set(Array.from({ length: 8 }, () => pool.acquire(POOLED_BYTES_MAX).buffer)).size).toBe(8);
  });
});
