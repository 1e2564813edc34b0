/**
 * A growable writer of Kafka wire data, used by the generated codecs; the encodings are listed in
 * reader.ts. It starts small and doubles, so one writer can be reused for many messages
 * (`reset()`), and `bytes()` returns a view of what was written, without a copy.
 *
 * Tagged fields need their size before their bytes. Rather than measure everything twice, the
 * writer writes the field, then shifts it right to insert the size in front:
 *
 *   beginTaggedField(tag)   [.. tag | field bytes ......]
 *   endTaggedField(start)   [.. tag | size | field bytes ......]
 *                                   ^ start
 *
 * Tagged fields are few and small, so the shift costs little.
 */
import { STRING_BYTES_MAX } from './reader.js';
import { uuidToBytes, UUID_BYTES } from './uuid.js';

/** A value the requested version cannot carry, or one that does not fit its wire type. */
export class ProtocolEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolEncodeError';
  }
}

/** A field present in the object but absent from this version, whose loss Kafka forbids. */
export function nonIgnorableField(field: string, version: number): ProtocolEncodeError {
  return new ProtocolEncodeError(`${field} has a non-default value, which version ${version} cannot carry`);
}

/** Guards a field that is nullable in some versions but not in `version`. */
export function nonNull<T>(value: T | null, field: string, version: number): T {
  if (value === null) throw new ProtocolEncodeError(`${field} is null, which version ${version} cannot carry`);
  return value;
}

const utf8 = new TextEncoder();
const INITIAL_CAPACITY_BYTES = 256;

export function unsignedVarintBytes(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

export class ProtocolWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private position = 0;

  constructor(initialCapacityBytes = INITIAL_CAPACITY_BYTES) {
    this.buffer = new Uint8Array(Math.max(16, initialCapacityBytes));
    this.view = new DataView(this.buffer.buffer);
  }

  get offset(): number {
    return this.position;
  }

  /** A view of the bytes written so far; valid until the next write or reset. */
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.position);
  }

  /** A copy of the bytes written so far, safe to keep. */
  toUint8Array(): Uint8Array {
    return this.buffer.slice(0, this.position);
  }

  reset(): void {
    this.position = 0;
  }

  /**
   * Makes room for `byteCount` bytes and returns where they start. Call it before touching
   * this.buffer or this.view: it may replace both.
   */
  private reserve(byteCount: number): number {
    const needed = this.position + byteCount;
    if (needed > this.buffer.byteLength) {
      let capacity = this.buffer.byteLength * 2;
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.buffer.subarray(0, this.position));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.position;
    this.position = needed;
    return at;
  }

  writeInt8(value: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, value);
  }

  writeBoolean(value: boolean): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value ? 1 : 0);
  }

  writeInt16(value: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, value);
  }

  writeUInt16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value);
  }

  writeInt32(value: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, value);
  }

  writeUInt32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value);
  }

  writeInt64(value: bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, value);
  }

  writeFloat64(value: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, value);
  }

  writeUuid(value: string): void {
    const bytes = uuidToBytes(value);
    if (bytes === undefined) throw new ProtocolEncodeError(`not a uuid: ${JSON.stringify(value)}`);
    const at = this.reserve(UUID_BYTES);
    this.buffer.set(bytes, at);
  }

  /** Overwrites an int32 written earlier, e.g. a frame's size once the frame is complete. */
  patchInt32(at: number, value: number): void {
    if (at < 0 || at + 4 > this.position) throw new RangeError(`patch at ${at} is outside the ${this.position} bytes written`);
    this.view.setInt32(at, value);
  }

  writeUnsignedVarint(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new ProtocolEncodeError(`${value} is not an unsigned 32-bit integer`);
    const at = this.reserve(unsignedVarintBytes(value));
    let position = at;
    while (value >= 0x80) {
      this.buffer[position++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buffer[position] = value;
  }

  writeVarint(value: number): void {
    this.writeUnsignedVarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  writeUnsignedVarlong(value: bigint): void {
    if (value < 0n || value > 0xffffffffffffffffn) throw new ProtocolEncodeError(`${value} is not an unsigned 64-bit integer`);
    while (value >= 0x80n) {
      const at = this.reserve(1);
      this.buffer[at] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    const at = this.reserve(1);
    this.buffer[at] = Number(value);
  }

  writeVarlong(value: bigint): void {
    const signed = BigInt.asIntN(64, value);
    this.writeUnsignedVarlong(BigInt.asUintN(64, (signed << 1n) ^ (signed >> 63n)));
  }

  private writeLength(length: number, compact: boolean, classic: 'int16' | 'int32'): void {
    if (compact) this.writeUnsignedVarint(length + 1);
    else if (classic === 'int16') this.writeInt16(length);
    else this.writeInt32(length);
  }

  writeString(value: string, compact: boolean): void {
    const length = Buffer.byteLength(value, 'utf8');
    if (length > STRING_BYTES_MAX) throw new ProtocolEncodeError(`string of ${length} bytes is longer than ${STRING_BYTES_MAX}`);
    this.writeLength(length, compact, 'int16');
    const at = this.reserve(length);
    utf8.encodeInto(value, this.buffer.subarray(at, at + length));
  }

  writeNullableString(value: string | null, compact: boolean): void {
    if (value === null) this.writeLength(-1, compact, 'int16');
    else this.writeString(value, compact);
  }

  writeRawBytes(value: Uint8Array): void {
    const at = this.reserve(value.byteLength);
    this.buffer.set(value, at);
  }

  writeBytes(value: Uint8Array, compact: boolean): void {
    this.writeLength(value.byteLength, compact, 'int32');
    this.writeRawBytes(value);
  }

  writeNullableBytes(value: Uint8Array | null, compact: boolean): void {
    if (value === null) this.writeLength(-1, compact, 'int32');
    else this.writeBytes(value, compact);
  }

  writeArray<T>(elements: readonly T[], compact: boolean, writeElement: (element: T) => void): void {
    this.writeLength(elements.length, compact, 'int32');
    for (const element of elements) writeElement(element);
  }

  writeNullableArray<T>(elements: readonly T[] | null, compact: boolean, writeElement: (element: T) => void): void {
    if (elements === null) this.writeLength(-1, compact, 'int32');
    else this.writeArray(elements, compact, writeElement);
  }

  /** Starts a tagged-field section whose count is only known at its end; see endTaggedFields. */
  beginTaggedFields(): number {
    return this.position;
  }

  /** Inserts the count of the section begun at `start` in front of its fields. */
  endTaggedFields(start: number, count: number): void {
    this.insertUnsignedVarint(start, count);
  }

  /** Writes a field's tag; returns where its bytes start, for endTaggedField. */
  beginTaggedField(tag: number): number {
    this.writeUnsignedVarint(tag);
    return this.position;
  }

  /** Inserts the size of the field begun at `start` in front of its bytes. */
  endTaggedField(start: number): void {
    this.insertUnsignedVarint(start, this.position - start);
  }

  private insertUnsignedVarint(at: number, value: number): void {
    const width = unsignedVarintBytes(value);
    const end = this.position;
    this.reserve(width);
    this.buffer.copyWithin(at + width, at, end);
    const tail = this.position;
    this.position = at;
    this.writeUnsignedVarint(value);
    this.position = tail;
  }
}
