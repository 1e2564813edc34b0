import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRingBuffer, RingReader, RingWriter, type RingMessage } from '../../src/runtime/ring.js';

/** A message whose bytes are derived from its sequence number, so any corruption shows. */
function makeMessage(sequence: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (sequence * 31 + i * 7) & 0xff;
  if (size >= 4) new DataView(bytes.buffer).setUint32(0, sequence, true);
  return bytes;
}

function expectMessage(bytes: Uint8Array, sequence: number, size: number): void {
  expect(bytes.byteLength).toBe(size);
  expect(Buffer.compare(Buffer.from(bytes), Buffer.from(makeMessage(sequence, size)))).toBe(0);
}

describe('ring (single thread model)', () => {
  it('rejects a capacity that is not a power of two', () => {
    expect(() => createRingBuffer(1000)).toThrow(RangeError);
    expect(() => createRingBuffer(128)).toThrow(RangeError);
  });

  it('is empty, then full, then empty again at the exact edges', () => {
    const buffer = createRingBuffer(256);
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    expect(reader.tryRead()).toBeNull();
    // Frames of 8-byte header + 24-byte payload = 32 bytes: exactly 8 fit in 256.
    let written = 0;
    while (writer.write(makeMessage(written, 24)) === undefined) written++;
    expect(written).toBe(8);
    expect(writer.freeBytes()).toBe(0);
    const held: RingMessage[] = [];
    for (let i = 0; i < 8; i++) {
      const message = reader.tryRead()!;
      expectMessage(message.bytes, i, 24);
      held.push(message);
    }
    expect(reader.tryRead()).toBeNull();
    // Still full until released: the views are still in use.
    expect(writer.freeBytes()).toBe(0);
    for (const message of held) reader.release(message.token);
    expect(writer.freeBytes()).toBe(256);
  });

  it('reclaims space only up to the oldest view still held (out-of-order release)', () => {
    const buffer = createRingBuffer(256);
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    for (let i = 0; i < 4; i++) expect(writer.write(makeMessage(i, 24))).toBeUndefined();
    const messages = [0, 1, 2, 3].map(() => reader.tryRead()!);
    reader.release(messages[2]!.token);
    reader.release(messages[1]!.token);
    expect(writer.freeBytes()).toBe(256 - 128);
    reader.release(messages[0]!.token);
    expect(writer.freeBytes()).toBe(256 - 32);
    reader.release(messages[3]!.token);
    expect(writer.freeBytes()).toBe(256);
  });

  it('keeps order and content over random sizes and interleavings (wrap-around, fragments, full ring)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(256, 512, 1024, 4096),
        fc.array(fc.record({ size: fc.integer({ min: 0, max: 5000 }), reads: fc.integer({ min: 0, max: 4 }), holdReleases: fc.boolean() }), { minLength: 1, maxLength: 60 }),
        async (capacity, steps) => {
          const buffer = createRingBuffer(capacity);
          const writer = new RingWriter(buffer);
          const reader = new RingReader(buffer);
          const expected: { sequence: number; size: number }[] = [];
          const held: RingMessage[] = [];
          let nextToCheck = 0;
          const pending: Promise<void>[] = [];
          const readSome = (count: number, hold: boolean): void => {
            for (let i = 0; i < count; i++) {
              const message = reader.tryRead();
              if (!message) break;
              const want = expected[nextToCheck++]!;
              expectMessage(message.bytes, want.sequence, want.size);
              if (hold) held.push(message);
              else reader.release(message.token);
            }
            // Release held views in a scrambled order.
            while (held.length > 2) reader.release(held.splice(held.length % 2, 1)[0]!.token);
          };
          steps.forEach((step, sequence) => {
            expected.push({ sequence, size: step.size });
            const result = writer.write(makeMessage(sequence, step.size));
            if (result) pending.push(result);
            readSome(step.reads, step.holdReleases);
          });
          // Drain: the writer's queued (waiting) messages flow as the reader frees space.
          for (let spins = 0; nextToCheck < expected.length; spins++) {
            if (spins > 100_000) throw new Error(`stuck at ${nextToCheck}/${expected.length}`);
            readSome(8, false);
            for (const message of held.splice(0)) reader.release(message.token);
            await new Promise((resolve) => setImmediate(resolve));
          }
          for (const message of held.splice(0)) reader.release(message.token);
          await Promise.all(pending);
          expect(reader.tryRead()).toBeNull();
          expect(writer.freeBytes()).toBe(capacity);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('carries a message larger than the whole ring as fragments, in order with its neighbours', async () => {
    const buffer = createRingBuffer(1024);
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    const sizes = [10, 100_000, 3, 0, 70_000, 255];
    const writes = sizes.map((size, sequence) => writer.write(makeMessage(sequence, size)));
    let index = 0;
    while (index < sizes.length) {
      const message = reader.tryRead();
      if (!message) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      expectMessage(message.bytes, index, sizes[index]!);
      reader.release(message.token);
      index++;
    }
    await Promise.all(writes);
    expect(writer.backlogged).toBe(false);
  });

  it('parks a writer on a full ring without dropping, and wakes it when space frees', async () => {
    const buffer = createRingBuffer(256);
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    const results = Array.from({ length: 20 }, (_, i) => writer.write(makeMessage(i, 40)));
    expect(results.filter((r) => r !== undefined).length).toBeGreaterThan(0);
    expect(writer.backlogged).toBe(true);
    let settled = 0;
    for (const result of results) void result?.then(() => settled++);
    const received: number[] = [];
    while (received.length < 20) {
      const message = reader.tryRead();
      if (message) {
        expectMessage(message.bytes, received.length, 40);
        received.push(received.length);
        reader.release(message.token);
      } else {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    await Promise.all(results);
    expect(settled).toBe(results.filter((r) => r !== undefined).length);
  });

  it('flushed() resolves when a parked drain is woken and finishes after the flush began waiting', async () => {
    const buffer = createRingBuffer(256);
    const writer = new RingWriter(buffer);
    const reader = new RingReader(buffer);
    const message = new Uint8Array(40); // 48-byte frames: 5 fit
    for (let i = 0; i < 5; i++) expect(writer.write(message)).toBeUndefined();
    const queued = [writer.write(message), writer.write(message)];
    await new Promise((resolve) => setTimeout(resolve, 10)); // the drain parks for space
    for (let i = 0; i < 3; i++) reader.release(reader.tryRead()!.token); // wakes it (its resume is queued)
    let flushed = false;
    const flush = writer.flushed().then(() => (flushed = true));
    await Promise.all(queued); // the drain writes both without parking again
    let read: RingMessage | null;
    let count = 0;
    while ((read = reader.tryRead())) {
      reader.release(read.token);
      count++;
    }
    expect(count).toBe(4);
    await Promise.race([flush, new Promise((resolve) => setTimeout(resolve, 500))]);
    expect(writer.backlogged).toBe(false);
    expect(flushed).toBe(true);
  });

  it('fails queued writes with RingClosedError when closed', async () => {
    const buffer = createRingBuffer(256);
    const writer = new RingWriter(buffer);
    let queued: Promise<void> | undefined;
    while ((queued = writer.write(makeMessage(0, 40))) === undefined);
    const queuedAfter = writer.write(makeMessage(1, 40));
    writer.close();
    await expect(queued).rejects.toThrow('ring closed');
    await expect(queuedAfter).rejects.toThrow('ring closed');
    await expect(writer.write(makeMessage(2, 8))).rejects.toThrow('ring closed');
  });
});
