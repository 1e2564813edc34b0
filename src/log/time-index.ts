/**
 * Sparse time index of one segment, laid out as Kafka's `.timeindex` file: 12-byte entries,
 *
 *   +0 i64 timestamp        the segment's largest batch maxTimestamp so far
 *   +8 u32 relativeOffset   base offset of the batch that reached it, minus the segment's base
 *
 * An entry is added with an offset-index entry when the largest timestamp grew, so timestamps in
 * the index only grow. To find the first batch with maxTimestamp >= T: every batch before the
 * last entry with timestamp < T has maxTimestamp < T (the entry holds the running maximum), so
 * the scan starts at that entry's batch.
 */
export const TIME_INDEX_ENTRY_BYTES = 12;

/**
 * lastTimestamp() of an empty index. A module constant: `-Infinity` (a global load and a negation)
 * would run only on a new segment's first append and, lacking type feedback there, make V8 drop
 * the optimized append code.
 */
const NO_TIMESTAMP = Number.NEGATIVE_INFINITY;

export class TimeIndex {
  private timestamps = new Float64Array(16);
  private relativeOffsets = new Uint32Array(16);
  private count = 0;

  get entries(): number {
    return this.count;
  }

  lastTimestamp(): number {
    return this.count === 0 ? NO_TIMESTAMP : this.timestamps[this.count - 1]!;
  }

  /** Records (timestamp, relativeOffset) if the timestamp is a new maximum. */
  maybeAppend(timestamp: number, relativeOffset: number): void {
    if (timestamp <= this.lastTimestamp()) return;
    if (this.count > 0 && relativeOffset <= this.relativeOffsets[this.count - 1]!) return;
    if (this.count === this.timestamps.length) {
      const timestamps = new Float64Array(this.count * 2);
      timestamps.set(this.timestamps);
      this.timestamps = timestamps;
      const offsets = new Uint32Array(this.count * 2);
      offsets.set(this.relativeOffsets);
      this.relativeOffsets = offsets;
    }
    this.timestamps[this.count] = timestamp;
    this.relativeOffsets[this.count] = relativeOffset;
    this.count++;
  }

  /** Relative offset to start scanning from for the first batch with maxTimestamp >= target. */
  lookup(target: number): number {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.timestamps[middle]! < target) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? 0 : this.relativeOffsets[found]!;
  }

  truncateToRelativeOffset(relativeOffset: number): void {
    while (this.count > 0 && this.relativeOffsets[this.count - 1]! >= relativeOffset) this.count--;
  }

  serialize(): Uint8Array {
    const bytes = new Uint8Array(this.count * TIME_INDEX_ENTRY_BYTES);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < this.count; i++) {
      view.setBigInt64(i * 12, BigInt(this.timestamps[i]!));
      view.setUint32(i * 12 + 8, this.relativeOffsets[i]!);
    }
    return bytes;
  }

  static load(bytes: Uint8Array, lastRelativeOffset: number): TimeIndex | undefined {
    if (bytes.byteLength % TIME_INDEX_ENTRY_BYTES !== 0) return undefined;
    const index = new TimeIndex();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < bytes.byteLength; at += TIME_INDEX_ENTRY_BYTES) {
      const timestamp = Number(view.getBigInt64(at));
      const relativeOffset = view.getUint32(at + 8);
      if (relativeOffset > lastRelativeOffset) return undefined;
      if (timestamp <= index.lastTimestamp() || (index.count > 0 && relativeOffset <= index.relativeOffsets[index.count - 1]!)) return undefined;
      index.maybeAppend(timestamp, relativeOffset);
    }
    return index;
  }
}
