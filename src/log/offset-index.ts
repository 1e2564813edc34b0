/**
 * Sparse offset index of one segment, laid out as Kafka's `.index` file: 8-byte entries,
 *
 *   +0 u32 relativeOffset   batch base offset - segment base offset
 *   +4 u32 position         byte position of that batch in the `.log` file
 *
 * one entry each time at least index.interval.bytes were appended since the previous entry.
 * Lookups binary-search the in-memory copy; the file is rewritten from it on flush and roll, so
 * the file is only trusted for segments below the recovery point (and checked when loaded).
 *
 * Example (base offset 100, interval 4096): batches at offsets 100, 103, 110 of 3000 bytes each
 * give entries (0, 0) and (10, 6000): the first batch always gets an entry, offset 103 does not
 * (3000 bytes < 4096 since the last entry), offset 110 does (6000 bytes). lookup(105) → position 0,
 * then the reader scans forward at most one interval.
 */
export const OFFSET_INDEX_ENTRY_BYTES = 8;

export class OffsetIndex {
  private relativeOffsets: Uint32Array = new Uint32Array(16);
  private positions: Uint32Array = new Uint32Array(16);
  private count = 0;

  get entries(): number {
    return this.count;
  }

  lastPosition(): number {
    return this.count === 0 ? -1 : this.positions[this.count - 1]!;
  }

  lastRelativeOffset(): number {
    return this.count === 0 ? -1 : this.relativeOffsets[this.count - 1]!;
  }

  append(relativeOffset: number, position: number): void {
    if (this.count > 0 && (relativeOffset <= this.relativeOffsets[this.count - 1]! || position <= this.positions[this.count - 1]!)) {
      throw new Error(`offset index entries must grow: (${relativeOffset}, ${position}) after (${this.lastRelativeOffset()}, ${this.lastPosition()})`);
    }
    if (this.count === this.relativeOffsets.length) {
      this.relativeOffsets = grow(this.relativeOffsets);
      this.positions = grow(this.positions);
    }
    this.relativeOffsets[this.count] = relativeOffset;
    this.positions[this.count] = position;
    this.count++;
  }

  /** Position of the last indexed batch whose offset is <= relativeOffset (0 if none). */
  lookup(relativeOffset: number): number {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.relativeOffsets[middle]! <= relativeOffset) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? 0 : this.positions[found]!;
  }

  /** Drops entries at or past `position` (after a truncation of the log file). */
  truncateToPosition(position: number): void {
    while (this.count > 0 && this.positions[this.count - 1]! >= position) this.count--;
  }

  serialize(): Uint8Array {
    const bytes = new Uint8Array(this.count * OFFSET_INDEX_ENTRY_BYTES);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < this.count; i++) {
      view.setUint32(i * 8, this.relativeOffsets[i]!);
      view.setUint32(i * 8 + 4, this.positions[i]!);
    }
    return bytes;
  }

  /**
   * Loads a `.index` file, or returns undefined when it cannot be trusted (torn size, a first
   * entry not at position 0, entries not strictly growing, a position past the end of the log):
   * the caller then rebuilds it.
   */
  static load(bytes: Uint8Array, logSizeBytes: number): OffsetIndex | undefined {
    if (bytes.byteLength % OFFSET_INDEX_ENTRY_BYTES !== 0) return undefined;
    const index = new OffsetIndex();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < bytes.byteLength; at += OFFSET_INDEX_ENTRY_BYTES) {
      const relativeOffset = view.getUint32(at);
      const position = view.getUint32(at + 4);
      if (position >= logSizeBytes) return undefined;
      // The first batch of a segment always gets the first entry.
      if (index.count === 0 && position !== 0) return undefined;
      if (index.count > 0 && (relativeOffset <= index.lastRelativeOffset() || position <= index.lastPosition())) return undefined;
      index.append(relativeOffset, position);
    }
    return index;
  }
}

function grow(array: Uint32Array): Uint32Array {
  const bigger = new Uint32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
