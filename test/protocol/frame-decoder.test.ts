import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, InvalidFrameError } from '../../src/protocol/frame-decoder.js';
import { framed } from './frames.js';

describe('FrameDecoder', () => {
  it('returns every frame whatever the chunking (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ minLength: 10, maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
      (payloads, cuts) => {
        const stream = framed(payloads.map((payload) => Buffer.from(payload)));
        const decoder = new FrameDecoder(1024);
        const frames: Buffer[] = [];
        let position = 0;
        for (let i = 0; position < stream.byteLength; i++) {
          const size = cuts[i % cuts.length]!;
          frames.push(...decoder.push(stream.subarray(position, position + size)));
          position += size;
        }
        expect(frames.map((frame) => [...frame])).toEqual(payloads.map((payload) => [...payload]));
        expect(decoder.buffered).toBe(0);
      },
    ));
  });

  it('refuses a size over the limit before buffering the frame', () => {
    const decoder = new FrameDecoder(100);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(101);
    expect(() => decoder.push(prefix)).toThrow(InvalidFrameError);
  });

  it('refuses negative and too-small sizes', () => {
    for (const size of [-1, -2147483648, 0, 9]) {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(size);
      expect(() => new FrameDecoder(100).push(prefix)).toThrow(/too small/);
    }
  });

  it('returns a frame held in one chunk as a view, without copying', () => {
    const stream = framed([Buffer.alloc(20, 7)]);
    const [frame] = new FrameDecoder().push(stream);
    expect(frame!.buffer).toBe(stream.buffer);
  });
});
