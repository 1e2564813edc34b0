import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FetchResponseCodec, type FetchResponse } from '../../src/protocol/generated/messages/index.js';
import { ProtocolDecodeError, ProtocolReader } from '../../src/protocol/reader.js';
import { uuidFromBytes, uuidToBytes, ZERO_UUID } from '../../src/protocol/uuid.js';
import { ProtocolEncodeError, ProtocolWriter, unsignedVarintBytes } from '../../src/protocol/writer.js';

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

function written(write: (writer: ProtocolWriter) => void): Uint8Array {
  const writer = new ProtocolWriter(16);
  write(writer);
  return writer.toUint8Array();
}

describe('varints', () => {
  it('unsigned: 7 bits a byte, least significant first', () => {
    expect(toHex(written((w) => w.writeUnsignedVarint(0)))).toBe('00');
    expect(toHex(written((w) => w.writeUnsignedVarint(127)))).toBe('7f');
    expect(toHex(written((w) => w.writeUnsignedVarint(128)))).toBe('8001');
    expect(toHex(written((w) => w.writeUnsignedVarint(300)))).toBe('ac02');
    expect(toHex(written((w) => w.writeUnsignedVarint(0xffffffff)))).toBe('ffffffff0f');
    expect(new ProtocolReader(fromHex('ffffffff0f')).readUnsignedVarint()).toBe(0xffffffff);
    expect(unsignedVarintBytes(0xffffffff)).toBe(5);
  });

  it('zigzag: small magnitudes stay short whatever the sign', () => {
    expect(toHex(written((w) => w.writeVarint(-1)))).toBe('01');
    expect(toHex(written((w) => w.writeVarint(1)))).toBe('02');
    expect(toHex(written((w) => w.writeVarint(-64)))).toBe('7f');
    expect(toHex(written((w) => w.writeVarlong(-1n)))).toBe('01');
    expect(toHex(written((w) => w.writeVarlong(-(2n ** 63n))))).toBe('ffffffffffffffffff01');
  });

  it('round trip over their whole ranges', () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (signed, unsigned, long, unsignedLong) => {
      const reader = new ProtocolReader(written((w) => {
        w.writeVarint(signed);
        w.writeUnsignedVarint(unsigned);
        w.writeVarlong(long);
        w.writeUnsignedVarlong(unsignedLong);
      }));
      expect(reader.readVarint()).toBe(signed);
      expect(reader.readUnsignedVarint()).toBe(unsigned);
      expect(reader.readVarlong()).toBe(long);
      expect(reader.readUnsignedVarlong()).toBe(unsignedLong);
      reader.expectEnd();
    }));
  });

  it('refuse overlong and overflowing encodings, and truncation', () => {
    expect(() => new ProtocolReader(fromHex('8080808080 00')).readUnsignedVarint()).toThrow(ProtocolDecodeError);
    expect(() => new ProtocolReader(fromHex('ffffffff1f')).readUnsignedVarint()).toThrow(/does not fit 32 bits/);
    expect(() => new ProtocolReader(fromHex('ffffffffffffffffff02')).readUnsignedVarlong()).toThrow(/does not fit 64 bits/);
    expect(() => new ProtocolReader(fromHex('ffffffffffffffffffff01')).readUnsignedVarlong()).toThrow(ProtocolDecodeError);
    expect(() => new ProtocolReader(fromHex('80')).readUnsignedVarint()).toThrow(ProtocolDecodeError);
    expect(() => written((w) => w.writeUnsignedVarint(-1))).toThrow(ProtocolEncodeError);
    expect(() => written((w) => w.writeUnsignedVarint(2 ** 32))).toThrow(ProtocolEncodeError);
  });
});

describe('fixed-width values', () => {
  it('are big-endian and round trip', () => {
    const bytes = written((w) => {
      w.writeInt8(-2);
      w.writeBoolean(true);
      w.writeInt16(-3);
      w.writeUInt16(65535);
      w.writeInt32(-4);
      w.writeUInt32(4294967295);
      w.writeInt64(-5n);
      w.writeFloat64(1.5);
    });
    expect(toHex(bytes)).toBe('fe01fffdfffffffffffcffffffff' + 'fffffffffffffffb' + '3ff8000000000000');
    const reader = new ProtocolReader(bytes);
    expect([reader.readInt8(), reader.readBoolean(), reader.readInt16(), reader.readUInt16(), reader.readInt32(), reader.readUInt32(), reader.readInt64(), reader.readFloat64()])
      .toEqual([-2, true, -3, 65535, -4, 4294967295, -5n, 1.5]);
    expect(() => reader.readInt8()).toThrow(ProtocolDecodeError);
  });

  it('uuids are Kafka-style URL-safe base64 of 16 bytes', () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const uuid = uuidFromBytes(bytes);
    expect(uuid).toHaveLength(22);
    expect(uuidToBytes(uuid)).toEqual(Buffer.from(bytes));
    expect(uuidFromBytes(new Uint8Array(16))).toBe(ZERO_UUID);
    expect(new ProtocolReader(written((w) => w.writeUuid(uuid))).readUuid()).toBe(uuid);
    expect(uuidToBytes('not-a-uuid')).toBeUndefined();
    expect(uuidToBytes('AAAAAAAAAAAAAAAAAAAAAB')).toBeUndefined(); // spare bits set: not canonical
    expect(() => written((w) => w.writeUuid('AAAA'))).toThrow(ProtocolEncodeError);
  });
});

describe('strings, bytes, arrays', () => {
  it('classic and compact strings, UTF-8 lengths in bytes', () => {
    expect(toHex(written((w) => w.writeString('hé', false)))).toBe('0003' + '68c3a9');
    expect(toHex(written((w) => w.writeString('hé', true)))).toBe('04' + '68c3a9');
    expect(toHex(written((w) => w.writeNullableString(null, false)))).toBe('ffff');
    expect(toHex(written((w) => w.writeNullableString(null, true)))).toBe('00');
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.boolean(), (text, compact) => {
      const reader = new ProtocolReader(written((w) => w.writeString(text, compact)));
      expect(reader.readString(compact)).toBe(text);
      reader.expectEnd();
    }));
    expect(() => written((w) => w.writeString('x'.repeat(32768), false))).toThrow(ProtocolEncodeError);
  });

  it('bytes are views into the input, not copies', () => {
    const input = written((w) => w.writeBytes(Uint8Array.of(1, 2, 3), true));
    const bytes = new ProtocolReader(input).readBytes(true);
    expect([...bytes]).toEqual([1, 2, 3]);
    expect(bytes.buffer).toBe(input.buffer);
    expect(new ProtocolReader(fromHex('ffffffff')).readNullableBytes(false)).toBeNull();
    expect(() => new ProtocolReader(fromHex('00')).readBytes(true)).toThrow(/null in non-nullable bytes/);
  });

  it('arrays check count times the smallest element against the bytes left', () => {
    const reader = new ProtocolReader(fromHex('00000003 00000001 00000002'));
    expect(() => reader.readArray(false, 4, () => reader.readInt32())).toThrow(/array of 3 elements cannot fit in 8 bytes/);
    const fits = new ProtocolReader(fromHex('00000002 00000001 00000002'));
    expect(fits.readArray(false, 4, () => fits.readInt32())).toEqual([1, 2]);
    const compact = new ProtocolReader(fromHex('00'));
    expect(compact.readNullableArray(true, 1, () => compact.readInt8())).toBeNull();
  });
});

describe('the writer', () => {
  it('grows from a tiny buffer without losing bytes', () => {
    const writer = new ProtocolWriter(1);
    for (let i = 0; i < 1000; i++) writer.writeInt32(i);
    const reader = new ProtocolReader(writer.bytes());
    for (let i = 0; i < 1000; i++) expect(reader.readInt32()).toBe(i);
  });

  it('inserts tagged-field sizes and counts in front of what was written', () => {
    const writer = new ProtocolWriter(16);
    const section = writer.beginTaggedFields();
    const start = writer.beginTaggedField(5);
    writer.writeRawBytes(new Uint8Array(200).fill(7));
    writer.endTaggedField(start);
    writer.endTaggedFields(section, 1);
    const bytes = writer.bytes();
    expect(toHex(bytes.subarray(0, 4))).toBe('01' + '05' + 'c801'); // count 1, tag 5, size 200
    expect(bytes.byteLength).toBe(4 + 200);
    let seen = 0;
    const reader = new ProtocolReader(bytes);
    reader.readTaggedFields((tag) => {
      expect(tag).toBe(5);
      seen++;
      return false;
    });
    reader.expectEnd();
    expect(seen).toBe(1);
  });

  it('patches a frame size written before the frame', () => {
    const writer = new ProtocolWriter();
    writer.writeInt32(0);
    writer.writeString('body', false);
    writer.patchInt32(0, writer.offset - 4);
    expect(toHex(writer.bytes())).toBe('00000006' + '0004' + '626f6479');
  });});

describe('record sets by reference', () => {
  const records = (bytes: number, fill: number): Uint8Array => new Uint8Array(bytes).fill(fill);
  const joined = (chunks: Uint8Array[]): string => chunks.map(toHex).join('');

  it('are copied by default, like bytes', () => {
    const writer = new ProtocolWriter(16);
    writer.writeRecords(records(100, 1), true);
    expect(writer.chunks()).toHaveLength(1);
    expect(toHex(writer.bytes())).toBe('65' + '01'.repeat(100));
  });

  it('become chunks of their own from the threshold on, the rest copied; the size prefix counts every chunk', () => {
    const big = records(32, 0xaa);
    const small = records(8, 0xbb);
    const writer = new ProtocolWriter(16, { recordsByReferenceFromBytes: 16 });
    writer.writeInt32(0);
    writer.writeRecords(big, false);
    writer.writeInt16(7);
    writer.writeNullableRecords(small, true);
    writer.writeNullableRecords(null, true);
    writer.writeRecords(big, true);
    writer.patchInt32(0, writer.offset - 4);
    const chunks = writer.chunks();
    expect(chunks).toHaveLength(4);
    expect(chunks[1]).toBe(big);
    expect(chunks[3]).toBe(big);
    const expected = '00000051' + '00000020' + 'aa'.repeat(32) + '0007' + '09' + 'bb'.repeat(8) + '00' + '21' + 'aa'.repeat(32);
    expect(joined(chunks)).toBe(expected);
    expect(toHex(writer.toUint8Array())).toBe(expected);
    expect(writer.offset).toBe(expected.length / 2);
    expect(() => writer.bytes()).toThrow(/chunks/);
  });

  it('are copied inside a tagged field, whose size is inserted in front of it', () => {
    const writer = new ProtocolWriter(16, { recordsByReferenceFromBytes: 1 });
    const section = writer.beginTaggedFields();
    const start = writer.beginTaggedField(0);
    writer.writeRecords(records(4, 0xcc), true);
    writer.endTaggedField(start);
    writer.endTaggedFields(section, 1);
    expect(writer.chunks()).toHaveLength(1);
    expect(toHex(writer.bytes())).toBe('01' + '00' + '05' + '05' + 'cc'.repeat(4));
  });

  it('leave tagged fields after them, growth and patches of earlier chunks working', () => {
    const writer = new ProtocolWriter(16, { recordsByReferenceFromBytes: 1 });
    writer.writeInt32(0);
    writer.writeRecords(records(3, 0xdd), true);
    const section = writer.beginTaggedFields();
    const start = writer.beginTaggedField(1);
    writer.writeRawBytes(records(200, 0xee)); // outgrows the first buffer
    writer.endTaggedField(start);
    writer.endTaggedFields(section, 1);
    writer.patchInt32(0, writer.offset - 4);
    expect(joined(writer.chunks())).toBe('000000d0' + '04' + 'dd'.repeat(3) + '01' + '01' + 'c801' + 'ee'.repeat(200));
    expect(() => writer.patchInt32(5, 0)).toThrow(/referenced record set/);
    writer.reset();
    writer.writeInt8(1);
    expect(toHex(writer.bytes())).toBe('01');
  });

  it('encode generated messages to the same bytes as copies would', () => {
    fc.assert(fc.property(fc.array(fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }), { maxLength: 6 }), fc.integer({ min: 4, max: 12 }), fc.nat(48), (recordSets, version, threshold) => {
      const response: FetchResponse = {
        throttleTimeMs: 0, errorCode: 0, sessionId: 0,
        responses: [{ topic: 't', partitions: recordSets.map((set, i) => ({ partitionIndex: i, errorCode: 0, highWatermark: 1n, lastStableOffset: 1n, logStartOffset: 0n, abortedTransactions: [], records: set ?? (version >= 12 ? null : new Uint8Array(0)) })) }],
      };
      const copied = new ProtocolWriter(16);
      FetchResponseCodec.encode(copied, response, version);
      const referenced = new ProtocolWriter(16, { recordsByReferenceFromBytes: threshold });
      FetchResponseCodec.encode(referenced, response, version);
      expect(joined(referenced.chunks())).toBe(toHex(copied.bytes()));
      expect(referenced.offset).toBe(copied.offset);
    }));
  });
});
