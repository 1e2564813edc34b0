import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignOffsets, checkBatches, parseBatches } from '../../src/log/record-batch.js';
import { KafkaError } from '../../src/protocol/kafka-error.js';
import { atOffset, buildBatch, concatBytes, fillerBytes } from './batch-builder.js';

const set = (): Uint8Array =>
  concatBytes([
    buildBatch([{ key: null, value: fillerBytes(300, 1) }], { baseTimestamp: 1_700_000_000_000 }),
    buildBatch(
      [
        { key: new Uint8Array([1]), value: fillerBytes(40, 2) },
        { key: null, value: null, timestampDelta: 5 },
      ],
      { baseTimestamp: 1_700_000_000_001 },
    ),
  ]);

/** The error code a check throws, or 'ok'. */
function outcome(check: () => unknown): string {
  try {
    check();
    return 'ok';
  } catch (error) {
    if (error instanceof KafkaError) return error.errorName;
    throw error;
  }
}

describe('checkBatches (the append path check) agrees with parseBatches', () => {
  it('on valid sets: counts the batches', () => {
    expect(checkBatches(set(), 1_000_000)).toBe(2);
    expect(checkBatches(new Uint8Array(0), 1_000_000)).toBe(0);
  });

  it('on any damage: flipped bytes, cut or extended sets give the same verdict', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }), fc.integer({ min: -70, max: 70 }), (flips, resize) => {
        let bytes = set();
        for (const [at, mask] of flips) bytes[at % bytes.length]! ^= mask;
        if (resize < 0) bytes = bytes.subarray(0, bytes.length + resize);
        else if (resize > 0) bytes = concatBytes([bytes, fillerBytes(resize, resize)]);
        const copy = bytes.slice();
        expect(outcome(() => checkBatches(bytes, Number.MAX_SAFE_INTEGER))).toBe(outcome(() => parseBatches(bytes)));
        expect(bytes).toEqual(copy); // checking changes nothing
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a batch over the limit with MESSAGE_TOO_LARGE, but a corrupt batch anywhere first', () => {
    const bytes = set();
    const firstSize = parseBatches(bytes)[0]!.sizeBytes;
    expect(outcome(() => checkBatches(bytes, firstSize - 1))).toBe('MESSAGE_TOO_LARGE');
    expect(outcome(() => checkBatches(bytes, firstSize))).toBe('ok');
    bytes[bytes.length - 1]! ^= 1; // the second batch's CRC no longer matches
    expect(outcome(() => checkBatches(bytes, firstSize - 1))).toBe('CORRUPT_MESSAGE');
  });
});

describe('assignOffsets', () => {
  it('rewrites only the base offsets, running on from the first offset, past 2^32 too', () => {
    for (const first of [0, 41, 2 ** 32 - 1, 2 ** 40 + 7]) {
      const bytes = set();
      const batches = parseBatches(bytes);
      const expected = concatBytes([atOffset(bytes.slice(0, batches[0]!.sizeBytes), first), atOffset(bytes.slice(batches[0]!.sizeBytes), first + 1)]);
      expect(assignOffsets(bytes, first)).toBe(first + 3);
      expect(bytes).toEqual(expected);
      expect(parseBatches(bytes).map((header) => header.baseOffset)).toEqual([first, first + 1]);
    }
  });
});
