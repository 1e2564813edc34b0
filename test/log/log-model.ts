/**
 * A simple in-memory model of a partition log, for the op-fuzzer: the segments as lists of
 * batches (the bytes the log must store, offsets assigned), the log start offset, the high
 * watermark and the log end offset. It follows the documented rules (docs/log.md) with plain
 * arrays, so any difference from PartitionLog is a bug in one of the two.
 *
 *   segments:  [base 0: b0 b1 b2] [base 9: b3 b4] [base 14: b5 (active)]
 *   logStartOffset <= highWatermark <= logEndOffset = b5.last + 1
 */
import type { LogConfig } from '../../src/log/log-config.js';

export interface ModelBatch {
  readonly base: number;
  readonly last: number;
  /** As stored: base offset assigned, LogAppendTime stamped. */
  readonly bytes: Uint8Array;
  readonly maxTimestamp: number;
}

export interface ModelSegment {
  readonly base: number;
  batches: ModelBatch[];
  sizeBytes: number;
  /** Clock time of the first append since the segment was created or the log opened. */
  firstAppendMs: number | undefined;
}

export interface ExpectedRead {
  readonly bytes: Uint8Array;
  readonly firstOffset: number;
  readonly nextOffset: number;
}

export class LogModel {
  segments: ModelSegment[];
  logStartOffset = 0;
  highWatermark = 0;
  /** The log start offset written by the last clean close (what an unclean start reads back). */
  checkpointedLogStart = 0;

  constructor(baseOffset = 0) {
    this.segments = [emptySegment(baseOffset)];
  }

  get active(): ModelSegment {
    return this.segments[this.segments.length - 1]!;
  }

  get logEndOffset(): number {
    const last = this.active.batches.at(-1);
    return last ? last.last + 1 : this.active.base;
  }

  get sizeBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
  }

  allBatches(): ModelBatch[] {
    return this.segments.flatMap((segment) => segment.batches);
  }

  /** The batches of one produce request, already as stored, `totalBytes` long. */
  append(batches: readonly ModelBatch[], totalBytes: number, nowMs: number, config: LogConfig): void {
    const active = this.active;
    if (active.batches.length > 0) {
      const full = active.sizeBytes + totalBytes > config.segmentBytes;
      const old = active.firstAppendMs !== undefined && nowMs - active.firstAppendMs >= config.segmentMs;
      if (full || old) this.roll();
    }
    const target = this.active;
    target.batches.push(...batches);
    target.sizeBytes += totalBytes;
    target.firstAppendMs ??= nowMs;
  }

  roll(): void {
    if (this.active.batches.length === 0) return;
    this.segments.push(emptySegment(this.logEndOffset));
  }

  /** The batch holding `offset`, with the index of its segment. */
  locate(offset: number): { segment: number; batch: number } | undefined {
    for (let s = 0; s < this.segments.length; s++) {
      const batches = this.segments[s]!.batches;
      for (let b = 0; b < batches.length; b++) {
        if (batches[b]!.base <= offset && offset <= batches[b]!.last) return { segment: s, batch: b };
      }
    }
    return undefined;
  }

  /**
   * What read(offset, maxBytes, maxOffset) must return for an offset in range: the batch holding
   * it, then the following batches of the same segment while they fit in max(maxBytes, 61) bytes
   * and start below maxOffset. Empty at or past maxOffset.
   */
  expectedRead(offset: number, maxBytes: number, maxOffset: number): ExpectedRead {
    const empty = { bytes: new Uint8Array(0), firstOffset: offset, nextOffset: offset };
    if (offset >= maxOffset) return empty;
    const found = this.locate(offset);
    if (!found) return empty;
    const batches = this.segments[found.segment]!.batches;
    const limit = Math.max(maxBytes, 61);
    const chosen = [batches[found.batch]!];
    let total = chosen[0]!.bytes.byteLength;
    for (let b = found.batch + 1; b < batches.length; b++) {
      const batch = batches[b]!;
      if (batch.base >= maxOffset || total + batch.bytes.byteLength > limit) break;
      chosen.push(batch);
      total += batch.bytes.byteLength;
    }
    return { bytes: Buffer.concat(chosen.map((batch) => batch.bytes)), firstOffset: chosen[0]!.base, nextOffset: chosen.at(-1)!.last + 1 };
  }

  /** ListOffsets by timestamp: the first batch at or past the log start with maxTimestamp >= T. */
  expectedOffsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | undefined {
    for (const batch of this.allBatches()) {
      if (batch.last < this.logStartOffset || batch.maxTimestamp < timestamp) continue;
      return { offset: Math.max(batch.base, this.logStartOffset), timestamp: batch.maxTimestamp };
    }
    return undefined;
  }

  setHighWatermark(offset: number): void {
    this.highWatermark = Math.max(this.logStartOffset, Math.min(offset, this.logEndOffset));
  }

  /** A truncation point inside a batch (not at its base) is refused. */
  isInsideBatch(offset: number): boolean {
    const found = this.locate(offset);
    return found !== undefined && this.segments[found.segment]!.batches[found.batch]!.base !== offset;
  }

  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset) return;
    let index = 0;
    for (let s = 0; s < this.segments.length; s++) if (this.segments[s]!.base <= offset) index = s;
    const segment = this.segments[index]!;
    segment.batches = segment.batches.filter((batch) => batch.base < offset);
    segment.sizeBytes = segment.batches.reduce((sum, batch) => sum + batch.bytes.byteLength, 0);
    if (segment.batches.length === 0) segment.firstAppendMs = undefined;
    this.segments.splice(index + 1);
    this.highWatermark = Math.min(this.highWatermark, offset);
  }

  deleteRecordsBefore(offset: number): void {
    if (offset > this.logStartOffset) this.logStartOffset = offset;
    this.dropSegmentsBelowLogStart();
  }

  /**
   * Deletes the oldest segments (never the active one, never one reaching past the high
   * watermark) while the oldest is older than retentionMs or the rest still hold retentionBytes.
   */
  applyRetention(config: LogConfig, nowMs: number): number {
    if (!config.cleanupPolicy.includes('delete')) return 0;
    let deleted = 0;
    let total = this.sizeBytes;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      if (this.segments[1]!.base > this.highWatermark) break;
      const maxTimestamp = segmentMaxTimestamp(oldest);
      const expired = config.retentionMs >= 0 && maxTimestamp >= 0 && nowMs - maxTimestamp > config.retentionMs;
      const oversize = config.retentionBytes >= 0 && total - oldest.sizeBytes >= config.retentionBytes;
      if (!expired && !oversize) break;
      total -= oldest.sizeBytes;
      this.segments.shift();
      this.logStartOffset = Math.max(this.logStartOffset, this.segments[0]!.base);
      deleted++;
    }
    this.highWatermark = Math.max(this.highWatermark, this.logStartOffset);
    return deleted;
  }

  /** After any restart: the high watermark restarts at the log end, segment ages restart. */
  restarted(clean: boolean): void {
    for (const segment of this.segments) segment.firstAppendMs = undefined;
    if (clean) {
      this.checkpointedLogStart = this.logStartOffset;
    } else {
      // The log start offset comes back from the last checkpoint, but never below the data.
      this.logStartOffset = Math.min(Math.max(this.checkpointedLogStart, this.segments[0]!.base), this.logEndOffset);
    }
    this.highWatermark = this.logEndOffset;
  }

  private dropSegmentsBelowLogStart(): void {
    while (this.segments.length > 1 && this.segments[1]!.base <= this.logStartOffset) this.segments.shift();
  }
}

export function segmentMaxTimestamp(segment: ModelSegment): number {
  return segment.batches.reduce((max, batch) => Math.max(max, batch.maxTimestamp), -1);
}

function emptySegment(base: number): ModelSegment {
  return { base, batches: [], sizeBytes: 0, firstAppendMs: undefined };
}
