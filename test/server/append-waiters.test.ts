import { describe, expect, it } from 'vitest';
import { AppendWaiters, partitionKey } from '../../src/server/append-waiters.js';
import { HandlerRegistry } from '../../src/server/handler-registry.js';
import { defineHandler } from '../../src/server/handler.js';

describe('AppendWaiters', () => {
  it('wakes a wait on an append to any of its partitions, and forgets it afterwards', async () => {
    const waiters = new AppendWaiters();
    const waiting = waiters.wait([partitionKey('a', 0), partitionKey('b', 1)], 10_000);
    expect(waiters.waiting).toBe(1);
    waiters.notify(partitionKey('a', 1));
    waiters.notify(partitionKey('b', 1));
    expect(await waiting).toBe('append');
    expect(waiters.waiting).toBe(0);
  });

  it('answers at the deadline, and at once when closing', async () => {
    const waiters = new AppendWaiters();
    expect(await waiters.wait([partitionKey('a', 0)], 20)).toBe('timeout');
    const long = waiters.wait([partitionKey('a', 0)], 60_000);
    waiters.close();
    expect(await long).toBe('closing');
    expect(await waiters.wait([partitionKey('a', 0)], 60_000)).toBe('closing');
  });
});

describe('HandlerRegistry', () => {
  const handler = (apiKey: number, minVersion: number, maxVersion: number) => defineHandler({ apiKey, minVersion, maxVersion, handle: () => ({}) });

  it('refuses ranges the codecs cannot serve, duplicates and unknown APIs', () => {
    expect(() => new HandlerRegistry([handler(18, 0, 9)])).toThrow(/ApiVersions handler serves 0-9/);
    expect(() => new HandlerRegistry([handler(18, 0, 3), handler(18, 0, 3)])).toThrow(/two handlers/);
    expect(() => new HandlerRegistry([handler(4242, 0, 0)])).toThrow(/no codecs/);
  });

  it('derives the ApiVersions answer, sorted by key (Produce advertised from v0, for librdkafka\'s compression)', () => {
    expect(new HandlerRegistry([handler(18, 0, 3), handler(0, 3, 9), handler(1, 4, 12)]).apiVersions()).toEqual([
      { apiKey: 0, minVersion: 0, maxVersion: 9 }, { apiKey: 1, minVersion: 4, maxVersion: 12 }, { apiKey: 18, minVersion: 0, maxVersion: 3 },
    ]);
  });
});
