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
 *
 * Record sets can be taken by reference instead of copied (`recordsByReferenceFromBytes`): the
 * bytes written so far are closed into a chunk, the record set becomes the next chunk as it is,
 * and writing goes on into what is left of the buffer. `chunks()` returns the message as a list
 * to be written in order (one writev); `offset` counts every chunk, so a size prefix patched
 * at the end covers them all:
 *
 *   writer.chunks()   [size | header | partition 0 fields | records length]   own buffer
 *                     [record batches of partition 0 .......................]   referenced
 *                     [tagged fields | partition 1 fields | records length]   own buffer
 *                     [record batches of partition 1 ....]                      referenced
 *                     [tagged fields]                                           own buffer
 *
 * A referenced record set must not change until the chunks are written out. Inside a tagged
 * field record sets are always copied, since its size is inserted in front of its bytes.
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

export interface ProtocolWriterOptions {
  /**
   * Record sets of at least this many bytes are kept by reference (see chunks()) instead of
   * copied. Default: never, so that bytes() always holds the whole message.
   */
  readonly recordsByReferenceFromBytes?: number;
}

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
  /** Where the next byte goes in `buffer`. */
  private position = 0;
  /** Where the bytes not yet closed into a chunk start in `buffer`. */
  private regionStart = 0;
  /** Closed chunks, in order: parts of this writer's buffers and referenced record sets. */
  private readonly closedChunks: Uint8Array[] = [];
  /** For each closed chunk, whether it is a part of this writer's own buffers (patchable). */
  private readonly closedChunkIsOwn: boolean[] = [];
  private closedBytes = 0;
  /** Tagged fields begun and not yet ended: their sizes will be inserted in front of them. */
  private openTaggedFields = 0;
  private readonly recordsByReferenceFromBytes: number;

  constructor(initialCapacityBytes = INITIAL_CAPACITY_BYTES, options: ProtocolWriterOptions = {}) {
    // Small buffers come from Node's shared slab rather than each having an ArrayBuffer of its own.
    this.buffer = Buffer.allocUnsafe(Math.max(16, initialCapacityBytes));
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
    this.recordsByReferenceFromBytes = options.recordsByReferenceFromBytes ?? Infinity;
  }

  /** Bytes written so far, every chunk included. */
  get offset(): number {
    return this.closedBytes + this.position - this.regionStart;
  }

  /** A view of the bytes written so far; valid until the next write or reset. */
  bytes(): Uint8Array {
    if (this.closedChunks.length > 0) throw new Error('the message holds referenced record sets: write chunks() instead');
    return this.buffer.subarray(0, this.position);
  }

  /**
   * The message as chunks to be written in order, without copying referenced record sets; valid
   * until the next write or reset (and the referenced record sets must not change meanwhile).
   */
  chunks(): Uint8Array[] {
    const chunks = this.closedChunks.slice();
    if (this.position > this.regionStart || chunks.length === 0) chunks.push(this.buffer.subarray(this.regionStart, this.position));
    return chunks;
  }

  /** A copy of the bytes written so far, safe to keep. */
  toUint8Array(): Uint8Array {
    const copy = new Uint8Array(this.offset);
    let at = 0;
    for (const chunk of this.chunks()) {
      copy.set(chunk, at);
      at += chunk.byteLength;
    }
    return copy;
  }

  reset(): void {
    this.position = 0;
    this.regionStart = 0;
    this.closedChunks.length = 0;
    this.closedChunkIsOwn.length = 0;
    this.closedBytes = 0;
    this.openTaggedFields = 0;
  }

  /**
   * Makes room for `byteCount` bytes and returns where they start. Call it before touching
   * this.buffer or this.view: it may replace both. A new buffer gets only the bytes not yet
   * closed into a chunk (the closed ones stay where their chunks point).
   */
  private reserve(byteCount: number): number {
    const needed = this.position + byteCount;
    if (needed > this.buffer.byteLength) {
      const open = this.position - this.regionStart;
      let capacity = this.buffer.byteLength * 2;
      while (capacity < open + byteCount) capacity *= 2;
      const grown = Buffer.allocUnsafe(capacity);
      grown.set(this.buffer.subarray(this.regionStart, this.position));
      this.buffer = grown;
      this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
      this.regionStart = 0;
      this.position = open;
      return this.reserve(byteCount);
    }
    const at = this.position;
    this.position = needed;
    return at;
  }

  /** Where `offset` (counted over every chunk) is in `buffer`; it must not be in a closed chunk. */
  private bufferIndexOf(offset: number, what: string): number {
    const at = offset - this.closedBytes + this.regionStart;
    if (at < this.regionStart) throw new RangeError(`${what} at ${offset} is before a referenced record set`);
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
    if (at < 0 || at + 4 > this.offset) throw new RangeError(`patch at ${at} is outside the ${this.offset} bytes written`);
    if (at >= this.closedBytes) {
      this.view.setInt32(this.bufferIndexOf(at, 'patch'), value);
      return;
    }
    let chunkStart = 0;
    for (let i = 0; i < this.closedChunks.length; i++) {
      const chunk = this.closedChunks[i]!;
      if (at < chunkStart + chunk.byteLength) {
        if (!this.closedChunkIsOwn[i] || at + 4 > chunkStart + chunk.byteLength) throw new RangeError(`patch at ${at} would change a referenced record set`);
        new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).setInt32(at - chunkStart, value);
        return;
      }
      chunkStart += chunk.byteLength;
    }
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

  /**
   * A record set: on the wire the same as bytes, but opaque batches that may be large, so it is
   * kept by reference (see chunks()) from `recordsByReferenceFromBytes` on, outside tagged fields.
   */
  writeRecords(value: Uint8Array, compact: boolean): void {
    if (value.byteLength < this.recordsByReferenceFromBytes || this.openTaggedFields > 0) {
      this.writeBytes(value, compact);
      return;
    }
    this.writeLength(value.byteLength, compact, 'int32');
    if (this.position > this.regionStart) {
      this.closedChunks.push(this.buffer.subarray(this.regionStart, this.position));
      this.closedChunkIsOwn.push(true);
      this.closedBytes += this.position - this.regionStart;
      this.regionStart = this.position;
    }
    this.closedChunks.push(value);
    this.closedChunkIsOwn.push(false);
    this.closedBytes += value.byteLength;
  }

  writeNullableRecords(value: Uint8Array | null, compact: boolean): void {
    if (value === null) this.writeLength(-1, compact, 'int32');
    else this.writeRecords(value, compact);
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
    return this.offset;
  }

  /** Inserts the count of the section begun at `start` in front of its fields. */
  endTaggedFields(start: number, count: number): void {
    this.insertUnsignedVarint(start, count);
  }

  /** Writes a field's tag; returns where its bytes start, for endTaggedField. */
  beginTaggedField(tag: number): number {
    this.writeUnsignedVarint(tag);
    this.openTaggedFields++;
    return this.offset;
  }

  /** Inserts the size of the field begun at `start` in front of its bytes. */
  endTaggedField(start: number): void {
    this.openTaggedFields--;
    this.insertUnsignedVarint(start, this.offset - start);
  }

  private insertUnsignedVarint(offset: number, value: number): void {
    this.bufferIndexOf(offset, 'insertion');
    const width = unsignedVarintBytes(value);
    this.reserve(width); // may move the open bytes to a new buffer: find them after it
    const at = this.bufferIndexOf(offset, 'insertion');
    const end = this.position - width;
    this.buffer.copyWithin(at + width, at, end);
    const tail = this.position;
    this.position = at;
    this.writeUnsignedVarint(value);
    this.position = tail;
  }
}
