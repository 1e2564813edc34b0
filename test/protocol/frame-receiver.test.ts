import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/protocol/buffer-pool.js';
import { InvalidFrameError } from '../../src/protocol/frame-decoder.js';
import { FrameReceiver, HEAD_BYTES, HEAD_FRAME_BYTES_MAX } from '../../src/protocol/frame-receiver.js';
import { framed, payload } from './frames.js';

/** Feeds `stream` the way the socket does: each read fills at most what nextBuffer() offers. */
function readAll(receiver: FrameReceiver, stream: Buffer, cuts: readonly number[]): Buffer[] {
  const frames: Buffer[] = [];
  let position = 0;
  for (let i = 0; position < stream.byteLength; i++) {
    const target = receiver.nextBuffer();
    expect(target.byteLength).toBeGreaterThan(0);
    const count = Math.min(target.byteLength, cuts[i % cuts.length]!, stream.byteLength - position);
    stream.copy(target, 0, position, position + count);
    position += count;
    frames.push(...receiver.received(count));
  }
  return frames;
}

describe('FrameReceiver', () => {
  it('returns every frame, small and large, whatever the read sizes (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.integer({ min: 10, max: 300 }), fc.integer({ min: 10, max: 3 * HEAD_FRAME_BYTES_MAX }), fc.integer({ min: HEAD_BYTES, max: 3 * HEAD_BYTES })), { maxLength: 10 }),
      fc.array(fc.integer({ min: 1, max: 2 * HEAD_BYTES }), { minLength: 1, maxLength: 20 }),
      (sizes, cuts) => {
        const payloads = sizes.map((size, i) => payload(size, i));
        const receiver = new FrameReceiver(1 << 20, 10, new BufferPool());
        const frames = readAll(receiver, framed(payloads), cuts);
        expect(frames.length).toBe(payloads.length);
        frames.forEach((frame, i) => expect(frame.equals(payloads[i]!)).toBe(true));
        expect(receiver.buffered).toBe(0);
      },
    ), { numRuns: 200 });
  });

  it('reads a large frame in place: the reads after its size ask for exactly what it lacks, into the buffer it is returned in', () => {
    const pool = new BufferPool();
    const receiver = new FrameReceiver(1 << 20, 10, pool);
    const big = payload(200_000, 3);
    const stream = framed([big]);
    const first = receiver.nextBuffer();
    stream.copy(first, 0, 0, 1000);
    expect(receiver.received(1000)).toEqual([]);
    const rest = receiver.nextBuffer();
    expect(rest.byteLength).toBe(200_000 - 996);
    stream.copy(rest, 0, 1000);
    const [frame] = receiver.received(rest.byteLength);
    expect(frame!.equals(big)).toBe(true);
    expect(frame!.buffer).toBe(rest.buffer);
    // Given back, the next large frame is read into the same buffer: no allocation per request.
    pool.release(frame!);
    stream.copy(receiver.nextBuffer(), 0, 0, 1000);
    receiver.received(1000);
    expect(receiver.nextBuffer().buffer).toBe(rest.buffer);
  });

  it('returns small frames as their own buffers, so the head is reused at once', () => {
    const receiver = new FrameReceiver(1 << 20, 10, new BufferPool());
    const stream = framed([payload(50, 1), payload(60, 2)]);
    const head = receiver.nextBuffer();
    stream.copy(head);
    const frames = receiver.received(stream.byteLength);
    expect(frames.map((frame) => frame.byteLength)).toEqual([50, 60]);
    for (const frame of frames) expect(frame.buffer).not.toBe(head.buffer);
    expect(receiver.nextBuffer().byteOffset).toBe(head.byteOffset); // empty again: reads restart at the front
  });

  it('refuses a size over the limit or under the smallest request before buffering the frame', () => {
    for (const size of [1025, -1, 0, 9]) {
      const receiver = new FrameReceiver(1024, 10, new BufferPool());
      const target = receiver.nextBuffer();
      target.writeInt32BE(size, 0);
      expect(() => receiver.received(4)).toThrow(InvalidFrameError);
    }
  });

  it('takes chunks read elsewhere through the same steps (push)', () => {
    const payloads = [payload(30, 1), payload(100_000, 2), payload(20_000, 3), payload(12, 4)];
    const stream = framed(payloads);
    const receiver = new FrameReceiver(1 << 20, 10, new BufferPool());
    const frames: Buffer[] = [];
    for (let at = 0; at < stream.byteLength; at += 7_777) frames.push(...receiver.push(stream.subarray(at, at + 7_777)));
    expect(frames.map((frame, i) => frame.equals(payloads[i]!))).toEqual([true, true, true, true]);
  });
});
