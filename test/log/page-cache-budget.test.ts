import { describe, expect, it } from 'vitest';
import { PageCacheBudget, type PageCacheOwner } from '../../src/log/page-cache-budget.js';

const MiB = 1024 * 1024;

/** An owner that records what it is asked to evict; `refuse` makes it answer "not now". */
function owner(name: string, evicted: string[]): PageCacheOwner & { refuse: boolean } {
  return {
    refuse: false,
    evict(from, to) {
      if (this.refuse) return false;
      evicted.push(`${name} ${from / MiB}-${to / MiB}`);
      return true;
    },
  };
}

describe('PageCacheBudget', () => {
  it('keeps the newest ranges of all its files within the limit and evicts the oldest first', () => {
    const evicted: string[] = [];
    const budget = new PageCacheBudget(3 * MiB);
    const a = owner('a', evicted);
    const b = owner('b', evicted);
    budget.admit(a, 0, MiB);
    budget.admit(b, 0, MiB);
    budget.admit(a, MiB, 2 * MiB);
    expect(evicted).toEqual([]);
    expect(budget.cachedBytes).toBe(3 * MiB);
    budget.admit(b, MiB, 2 * MiB);
    expect(evicted).toEqual(['a 0-1']);
    budget.admit(a, 2 * MiB, 4 * MiB); // a range larger than one step evicts as many as it takes
    expect(evicted).toEqual(['a 0-1', 'b 0-1', 'a 1-2']);
    expect(budget.cachedBytes).toBe(3 * MiB);
    budget.admit(a, 5 * MiB, 5 * MiB); // empty: nothing queued
    expect(budget.cachedBytes).toBe(3 * MiB);
  });

  it('leaves a range queued while its owner cannot evict, and evicts it at a later admission', () => {
    const evicted: string[] = [];
    const budget = new PageCacheBudget(2 * MiB);
    const a = owner('a', evicted);
    const b = owner('b', evicted);
    budget.admit(a, 0, MiB);
    budget.admit(b, 0, MiB);
    a.refuse = true;
    budget.admit(b, MiB, 2 * MiB);
    budget.admit(b, 2 * MiB, 3 * MiB);
    expect(evicted).toEqual([]); // in order: b's ranges wait behind a's
    expect(budget.cachedBytes).toBe(4 * MiB);
    a.refuse = false;
    budget.admit(b, 3 * MiB, 4 * MiB);
    expect(evicted).toEqual(['a 0-1', 'b 0-1', 'b 1-2']);
    expect(budget.cachedBytes).toBe(2 * MiB);
  });

  it('stays bounded over many admissions (the queue is compacted as it drains)', () => {
    const evicted: string[] = [];
    const budget = new PageCacheBudget(8 * MiB);
    const a = owner('a', evicted);
    for (let i = 0; i < 10_000; i++) budget.admit(a, i * MiB, (i + 1) * MiB);
    expect(evicted).toHaveLength(10_000 - 8);
    expect(evicted.at(-1)).toBe(`a ${10_000 - 9}-${10_000 - 8}`);
    expect(budget.cachedBytes).toBe(8 * MiB);
    expect((budget as unknown as { queue: unknown[] }).queue.length).toBeLessThanOrEqual(2 * 1024 + 8);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new PageCacheBudget(0)).toThrow(RangeError);
    expect(() => new PageCacheBudget(-1)).toThrow(RangeError);
    expect(() => new PageCacheBudget(1.5)).toThrow(RangeError);
  });
});
