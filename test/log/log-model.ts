/**
 * A simple in-memory model of a partition log, for the op-fuzzer: the segments as lists of
 * batches (the bytes the log must store, offsets assigned), the log start offset, the high
 * watermark and the log end offset. It follows the documented rules (docs/log.md) with plain
 * arrays, so any difference from PartitionLog is a bug in one of the two.
 *
 *   segments:  [base 0: b0 b1 b2] [base 9: b3 b4] [base 14: b5 (active)]
 *   logStartOffset <= highWatermark <= logEndOffset = b5.last + 1
 *
 * Compaction (cleanup.policy=compact) is modelled record by record, as Kafka defines it, over
 * the closed segments: the latest record of each key stays at its offset, null-key records stay,
 * tombstones go once their batch is older than delete.retention.ms, emptied batches go. Segments
 * stay 1:1 (a cleaned segment keeps its base offset), so after compaction offsets have gaps: a
 * segment may end before the next one's base, and an offset may fall between two batches. A
 * read or lookup at such an offset goes on to the next batch, as in Kafka.
 */
import type { LogConfig } from '../../src/log/log-config.js';
import { COMPACTION_PASS_BYTES_MAX, type CompactionResult } from '../../src/log/partition-log.js';
import { maxTimestampOf, withRecords, type PlacedRecord } from './batch-builder.js';

export interface ModelBatch {
  readonly base: number;
  readonly last: number;
  /** As stored: base offset assigned, LogAppendTime stamped. */
  readonly bytes: Uint8Array;
  readonly maxTimestamp: number;
  /** The batch's records (needed only for compaction): keys, values, deltas. */
  readonly records?: readonly PlacedRecord[];
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

/** What compact() must return, plus what the pass removed (for coverage). */
export interface ExpectedCompaction extends CompactionResult {
  readonly recordsRemoved: number;
  readonly tombstonesRemoved: number;
  readonly batchesRemoved: number;
}

export class LogModel {
  segments: ModelSegment[];
  logStartOffset = 0;
  highWatermark = 0;
  /** The log start offset written by the last clean close (what an unclean start reads back). */
  checkpointedLogStart = 0;
  /**
   * Offsets below this were covered by the last compaction pass since the log was opened (the
   * rest is dirty, for min.cleanable.dirty.ratio). Lowered by a truncation below it.
   */
  cleanedUpTo = 0;

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

  /**
   * The first batch ending at or past `offset`, with the index of its segment: the batch holding
   * `offset`, or, when compaction removed it, the next batch after the gap.
   */
  locate(offset: number): { segment: number; batch: number } | undefined {
    for (let s = 0; s < this.segments.length; s++) {
      const batches = this.segments[s]!.batches;
      for (let b = 0; b < batches.length; b++) {
        if (offset <= batches[b]!.last) return { segment: s, batch: b };
      }
    }
    return undefined;
  }

  /** Offset ranges [from, to) below the log end that no batch holds (left by compaction). */
  gaps(): { from: number; to: number }[] {
    const gaps: { from: number; to: number }[] = [];
    let next = this.segments[0]!.base;
    for (const batch of this.allBatches()) {
      if (batch.base > next) gaps.push({ from: next, to: batch.base });
      next = batch.last + 1;
    }
    if (this.logEndOffset > next) gaps.push({ from: next, to: this.logEndOffset });
    return gaps.filter((gap) => gap.to > this.logStartOffset).map((gap) => ({ from: Math.max(gap.from, this.logStartOffset), to: gap.to }));
  }

  /** The batch holding `offset` itself, if any. */
  batchHolding(offset: number): ModelBatch | undefined {
    return this.allBatches().find((batch) => batch.base <= offset && offset <= batch.last);
  }

  /**
   * What read(offset, maxBytes, maxOffset) must return for an offset in range: the batch holding
   * it (or the first after it, past a gap left by compaction), then the following batches of the
   * same segment while they fit in max(maxBytes, 61) bytes and start below maxOffset. Empty at
   * or past maxOffset, and when the first batch starts at or past it.
   */
  expectedRead(offset: number, maxBytes: number, maxOffset: number): ExpectedRead {
    const empty = { bytes: new Uint8Array(0), firstOffset: offset, nextOffset: offset };
    if (offset >= maxOffset) return empty;
    const found = this.locate(offset);
    if (!found) return empty;
    const batches = this.segments[found.segment]!.batches;
    if (batches[found.batch]!.base >= maxOffset) return empty;
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

  /**
   * A truncation point inside a batch (not at its base) is refused. One in a gap left by
   * compaction is a batch boundary like any other.
   */
  isInsideBatch(offset: number): boolean {
    const batch = this.batchHolding(offset);
    return batch !== undefined && batch.base !== offset;
  }

  /**
   * Removes every batch at or past `offset`, which becomes the log end offset (as in Kafka). When
   * compaction had removed the records just below `offset`, the remaining batches end before it:
   * an empty active segment then starts at `offset`, so no offset is ever assigned twice.
   */
  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset) return;
    let index = 0;
    for (let s = 0; s < this.segments.length; s++) if (this.segments[s]!.base <= offset) index = s;
    const segment = this.segments[index]!;
    segment.batches = segment.batches.filter((batch) => batch.base < offset);
    segment.sizeBytes = segment.batches.reduce((sum, batch) => sum + batch.bytes.byteLength, 0);
    if (segment.batches.length === 0) segment.firstAppendMs = undefined;
    this.segments.splice(index + 1);
    if (segmentNextOffset(segment) < offset) this.segments.push(emptySegment(offset));
    this.highWatermark = Math.min(this.highWatermark, offset);
    this.cleanedUpTo = Math.min(this.cleanedUpTo, offset);
  }

  /**
   * One compaction pass at `nowMs` under `config`, applied to the model; returns what
   * PartitionLog.compact must return. The pass covers the closed segments, oldest first, up to
   * COMPACTION_PASS_BYTES_MAX (always at least one), and runs only when the share of their bytes
   * in dirty segments (those ending past cleanedUpTo) reaches min.cleanable.dirty.ratio.
   *
   * Per record: the latest record of each key in the pass is kept, older ones are removed, records
   * with a null key are kept; a kept tombstone (null value) is removed when its batch's
   * maxTimestamp is before nowMs - delete.retention.ms. A batch losing some records is re-encoded
   * with the timestamps of what it keeps (withRecords); one losing all is removed. A segment that lost anything is
   * rewritten (and reopened: its segment.ms age restarts).
   */
  compact(config: LogConfig, nowMs: number): ExpectedCompaction {
    const nothing = (skipped: CompactionResult['skipped']): ExpectedCompaction => ({
      segmentsCleaned: 0, bytesBefore: 0, bytesAfter: 0, skipped, recordsRemoved: 0, tombstonesRemoved: 0, batchesRemoved: 0,
    });
    if (!config.cleanupPolicy.includes('compact')) return nothing('not-compacted');
    const candidates: ModelSegment[] = [];
    let total = 0;
    for (const segment of this.segments.slice(0, -1)) {
      if (candidates.length > 0 && total + segment.sizeBytes > COMPACTION_PASS_BYTES_MAX) break;
      candidates.push(segment);
      total += segment.sizeBytes;
    }
    if (candidates.length === 0 || total === 0) return nothing('nothing-cleanable');
    const dirty = candidates.filter((segment) => segmentNextOffset(segment) > this.cleanedUpTo).reduce((sum, segment) => sum + segment.sizeBytes, 0);
    if (dirty / total < config.minCleanableDirtyRatio) return nothing('below-dirty-ratio');

    const latest = new Map<string, number>();
    for (const segment of candidates) {
      for (const batch of segment.batches) {
        for (const record of recordsOf(batch)) {
          if (record.key !== null) latest.set(Buffer.from(record.key).toString('latin1'), batch.base + record.offsetDelta);
        }
      }
    }
    const horizon = nowMs - config.deleteRetentionMs;
    let segmentsCleaned = 0;
    let bytesAfter = 0;
    let recordsRemoved = 0;
    let tombstonesRemoved = 0;
    let batchesRemoved = 0;
    const lastNextOffset = segmentNextOffset(candidates.at(-1)!);
    for (const segment of candidates) {
      const batches: ModelBatch[] = [];
      let changed = false;
      for (const batch of segment.batches) {
        const records = recordsOf(batch);
        const kept = records.filter((record) => {
          if (record.key === null) return true;
          if (latest.get(Buffer.from(record.key).toString('latin1'))! !== batch.base + record.offsetDelta) return false;
          if (record.value === null && batch.maxTimestamp < horizon) {
            tombstonesRemoved++;
            return false;
          }
          return true;
        });
        recordsRemoved += records.length - kept.length;
        if (kept.length === records.length) batches.push(batch);
        else if (kept.length > 0) {
          const rewritten = withRecords(batch.bytes, kept);
          batches.push({ ...batch, bytes: rewritten.bytes, records: rewritten.records, maxTimestamp: maxTimestampOf(rewritten.bytes) });
        }
        else batchesRemoved++;
        if (kept.length !== records.length) changed = true;
      }
      if (changed) {
        segment.batches = batches;
        segment.sizeBytes = batches.reduce((sum, batch) => sum + batch.bytes.byteLength, 0);
        segment.firstAppendMs = undefined;
        segmentsCleaned++;
      }
      bytesAfter += segment.sizeBytes;
    }
    this.cleanedUpTo = Math.max(this.cleanedUpTo, lastNextOffset);
    return { segmentsCleaned, bytesBefore: total, bytesAfter, recordsRemoved, tombstonesRemoved, batchesRemoved };
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
    // The dirty-ratio bookkeeping is in memory only: after a start everything counts as dirty.
    this.cleanedUpTo = 0;
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

/** Offset after the segment's last batch; its base offset while it has none. */
export function segmentNextOffset(segment: ModelSegment): number {
  const last = segment.batches.at(-1);
  return last ? last.last + 1 : segment.base;
}

function recordsOf(batch: ModelBatch): readonly PlacedRecord[] {
  if (!batch.records) throw new Error(`batch ${batch.base}..${batch.last} has no records in the model: it cannot be compacted`);
  return batch.records;
}

export function segmentMaxTimestamp(segment: ModelSegment): number {
  return segment.batches.reduce((max, batch) => Math.max(max, batch.maxTimestamp), -1);
}

function emptySegment(base: number): ModelSegment {
  return { base, batches: [], sizeBytes: 0, firstAppendMs: undefined };
}
