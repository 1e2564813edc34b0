/**
 * A bounds-checked reader of Kafka wire data over a Uint8Array, used by the generated codecs.
 *
 * Nothing from the wire is trusted: every declared length or count is checked against the bytes
 * left before anything is allocated, so a 12-byte frame claiming a 2-billion-element array fails
 * with ProtocolDecodeError instead of allocating it. Arrays are checked as
 * `count * minimumElementBytes <= remaining`, which is what Kafka checks (one byte an element) or
 * tighter when the generator knows an element's smallest encoding.
 *
 * Encodings (all big-endian):
 *   string          int16 length, then UTF-8; length -1 = null
 *   compact string  unsigned varint (length + 1), then UTF-8; 0 = null
 *   bytes           int32 length, then the bytes; -1 = null
 *   compact bytes   unsigned varint (length + 1); 0 = null
 *   array           int32 count, then the elements; -1 = null
 *   compact array   unsigned varint (count + 1); 0 = null
 *   tagged fields   unsigned varint count, then per field: unsigned varint tag, unsigned varint
 *                   size, `size` bytes
 *   uuid            16 bytes, shown as Kafka shows it: 22 characters of URL-safe base64
 *
 * Bytes and records fields come back as views into the input (no copy): the input must not be
 * reused while a decoded message is alive, or the caller copies what it keeps.
 */
import { uuidFromBytes } from './uuid.js';

/** Malformed or hostile input: a length past the end, a bad varint, a null where none is allowed. */
export class ProtocolDecodeError extends Error {
  constructor(message: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
    this.name = 'ProtocolDecodeError';
  }
}

/** Kafka's limit on a string's UTF-8 length, for both the int16 and the compact encoding. */
export const STRING_BYTES_MAX = 0x7fff;

const utf8 = new TextDecoder('utf-8');
/** Strings this short are decoded by hand when plain ASCII: cheaper than a TextDecoder call. */
const ASCII_FAST_PATH_BYTES_MAX = 32;

export class ProtocolReader {
  private readonly view: DataView;
  private position: number;
  private readonly end: number;

  constructor(private readonly bytes: Uint8Array, start = 0, end = bytes.byteLength) {
    if (start < 0 || end > bytes.byteLength || start > end) throw new RangeError(`bad reader window ${start}..${end} of ${bytes.byteLength}`);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = start;
    this.end = end;
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  /** Throws unless every byte has been read: trailing garbage after a message is an error. */
  expectEnd(what = 'message'): void {
    if (this.position !== this.end) throw new ProtocolDecodeError(`${this.end - this.position} unexpected bytes after the ${what}`, this.position);
  }

  private need(byteCount: number, what: string): number {
    if (byteCount > this.end - this.position) {
      throw new ProtocolDecodeError(`${what} needs ${byteCount} bytes but ${this.end - this.position} remain`, this.position);
    }
    const at = this.position;
    this.position += byteCount;
    return at;
  }

  skip(byteCount: number): void {
    if (byteCount < 0) throw new ProtocolDecodeError(`negative skip ${byteCount}`, this.position);
    this.need(byteCount, 'skip');
  }

  readInt8(): number {
    return this.view.getInt8(this.need(1, 'int8'));
  }

  readBoolean(): boolean {
    return this.view.getUint8(this.need(1, 'bool')) !== 0;
  }

  readInt16(): number {
    return this.view.getInt16(this.need(2, 'int16'));
  }

  readUInt16(): number {
    return this.view.getUint16(this.need(2, 'uint16'));
  }

  readInt32(): number {
    return this.view.getInt32(this.need(4, 'int32'));
  }

  readUInt32(): number {
    return this.view.getUint32(this.need(4, 'uint32'));
  }

  readInt64(): bigint {
    return this.view.getBigInt64(this.need(8, 'int64'));
  }

  readFloat64(): number {
    return this.view.getFloat64(this.need(8, 'float64'));
  }

  readUuid(): string {
    const at = this.need(16, 'uuid');
    return uuidFromBytes(this.bytes.subarray(at, at + 16));
  }

  /** The int16 `byteOffset` bytes ahead, without consuming anything (to pick a header version). */
  peekInt16(byteOffset = 0): number {
    if (byteOffset + 2 > this.end - this.position) throw new ProtocolDecodeError('int16 past the end', this.position);
    return this.view.getInt16(this.position + byteOffset);
  }

  /** An unsigned 32-bit varint: 1-5 groups of 7 bits, least significant first. */
  readUnsignedVarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.view.getUint8(this.need(1, 'varint'));
      if (shift === 28 && byte > 0x0f) throw new ProtocolDecodeError('varint does not fit 32 bits', this.position - 1);
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new ProtocolDecodeError('varint longer than 5 bytes', this.position);
  }

  /** A zigzag-encoded signed 32-bit varint. */
  readVarint(): number {
    const raw = this.readUnsignedVarint();
    return (raw >>> 1) ^ -(raw & 1);
  }

  /** An unsigned 64-bit varint: 1-10 groups of 7 bits. */
  readUnsignedVarlong(): bigint {
    let low = 0; // bits 0-27, accumulated as a number while they fit
    for (let shift = 0; shift < 28; shift += 7) {
      const byte = this.view.getUint8(this.need(1, 'varlong'));
      low |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt(low >>> 0);
    }
    let value = BigInt(low >>> 0);
    for (let shift = 28n; shift < 70n; shift += 7n) {
      const byte = this.view.getUint8(this.need(1, 'varlong'));
      if (shift === 63n && byte > 0x01) throw new ProtocolDecodeError('varlong does not fit 64 bits', this.position - 1);
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new ProtocolDecodeError('varlong longer than 10 bytes', this.position);
  }

  /** A zigzag-encoded signed 64-bit varint. */
  readVarlong(): bigint {
    const raw = this.readUnsignedVarlong();
    return BigInt.asIntN(64, (raw >> 1n) ^ -(raw & 1n));
  }

  /**
   * A length prefix: int16 (strings), int32 (bytes, arrays), or an unsigned varint holding
   * length + 1 when compact. Returns -1 for the null marker; any other negative is an error.
   */
  private readLength(compact: boolean, classic: 'int16' | 'int32', what: string): number {
    if (compact) return this.readUnsignedVarint() - 1;
    const at = this.position;
    const length = classic === 'int16' ? this.readInt16() : this.readInt32();
    if (length < -1) throw new ProtocolDecodeError(`negative ${what} length ${length}`, at);
    return length;
  }

  private readUtf8(length: number): string {
    if (length > STRING_BYTES_MAX) throw new ProtocolDecodeError(`string of ${length} bytes is longer than ${STRING_BYTES_MAX}`, this.position);
    const at = this.need(length, 'string');
    if (length <= ASCII_FAST_PATH_BYTES_MAX) {
      let text = '';
      for (let i = at; i < at + length; i++) {
        const byte = this.bytes[i]!;
        if (byte >= 0x80) return utf8.decode(this.bytes.subarray(at, at + length));
        text += String.fromCharCode(byte);
      }
      return text;
    }
    return utf8.decode(this.bytes.subarray(at, at + length));
  }

  readString(compact: boolean): string {
    const at = this.position;
    const length = this.readLength(compact, 'int16', 'string');
    if (length === -1) throw new ProtocolDecodeError('null in a non-nullable string', at);
    return this.readUtf8(length);
  }

  readNullableString(compact: boolean): string | null {
    const length = this.readLength(compact, 'int16', 'string');
    return length === -1 ? null : this.readUtf8(length);
  }

  /** `byteCount` raw bytes, as a view into the input. */
  readRawBytes(byteCount: number): Uint8Array {
    const at = this.need(byteCount, 'bytes');
    return this.bytes.subarray(at, at + byteCount);
  }

  readBytes(compact: boolean): Uint8Array {
    const at = this.position;
    const length = this.readLength(compact, 'int32', 'bytes');
    if (length === -1) throw new ProtocolDecodeError('null in non-nullable bytes', at);
    return this.readRawBytes(length);
  }

  readNullableBytes(compact: boolean): Uint8Array | null {
    const length = this.readLength(compact, 'int32', 'bytes');
    return length === -1 ? null : this.readRawBytes(length);
  }

  private readCount(compact: boolean, minimumElementBytes: number): number {
    const at = this.position;
    const count = this.readLength(compact, 'int32', 'array');
    if (count > 0 && count * Math.max(1, minimumElementBytes) > this.end - this.position) {
      throw new ProtocolDecodeError(`array of ${count} elements cannot fit in ${this.end - this.position} bytes`, at);
    }
    return count;
  }

  readArray<T>(compact: boolean, minimumElementBytes: number, readElement: () => T): T[] {
    const at = this.position;
    const count = this.readCount(compact, minimumElementBytes);
    if (count === -1) throw new ProtocolDecodeError('null in a non-nullable array', at);
    return this.readElements(count, readElement);
  }

  readNullableArray<T>(compact: boolean, minimumElementBytes: number, readElement: () => T): T[] | null {
    const count = this.readCount(compact, minimumElementBytes);
    return count === -1 ? null : this.readElements(count, readElement);
  }

  private readElements<T>(count: number, readElement: () => T): T[] {
    const elements: T[] = [];
    for (let i = 0; i < count; i++) elements.push(readElement());
    return elements;
  }

  /**
   * The tagged-field section that ends every struct in a flexible version. `readField` decodes
   * the field with the given tag and returns true, or returns false for a tag it does not know,
   * which is then skipped. A known field may not run past its declared size.
   */
  readTaggedFields(readField: (tag: number) => boolean): void {
    const at = this.position;
    const count = this.readUnsignedVarint();
    // Each field takes at least two bytes: its tag and its size.
    if (count * 2 > this.end - this.position) throw new ProtocolDecodeError(`${count} tagged fields cannot fit in ${this.end - this.position} bytes`, at);
    for (let i = 0; i < count; i++) {
      const tagAt = this.position;
      const tag = this.readUnsignedVarint();
      const size = this.readUnsignedVarint();
      if (size > this.end - this.position) throw new ProtocolDecodeError(`tagged field ${tag} of ${size} bytes cannot fit in ${this.end - this.position} bytes`, tagAt);
      const fieldEnd = this.position + size;
      if (!readField(tag)) {
        this.position = fieldEnd;
      } else if (this.position > fieldEnd) {
        throw new ProtocolDecodeError(`tagged field ${tag} ran ${this.position - fieldEnd} bytes past its declared size ${size}`, tagAt);
      } else {
        // A newer writer may append to a tagged struct; what this version does not know is skipped.
        this.position = fieldEnd;
      }
    }
  }

  /** Skips a tagged-field section whose fields are all unknown to this version. */
  skipTaggedFields(): void {
    this.readTaggedFields(() => false);
  }
}
