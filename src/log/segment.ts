/**
 * One segment of a partition log: `<base offset, 20 digits>.log` holding record batches back to
 * back exactly as produced (with offsets assigned), plus its sparse `.index` and `.timeindex`.
 *
 *   00000000000000000100.log        [batch 100..102][batch 103..103][batch 104..110] ...
 *   00000000000000000100.index      (0, 0) (4, 8211) ...        relative offset -> position
 *   00000000000000000100.timeindex  (t, 0) (t', 4) ...          running max timestamp -> offset
 *
 * The index files are appended to on flush (only new entries) and rewritten after a truncation.
 */
import path from 'node:path';
import { dataPathBuffers } from '../protocol/buffer-pool.js';
import { KafkaError } from '../protocol/kafka-error.js';
import { closeGoingAway, type LogFileSystem } from './log-file-system.js';
import { OFFSET_INDEX_ENTRY_BYTES, OffsetIndex } from './offset-index.js';
import { BATCH_HEADER_BYTES, baseOffsetAt, batchSizeAt, crcMatches, lastOffsetDeltaAt, lastOffsetOf, maxTimestampAt, readBatchHeader, type BatchHeader } from './record-batch.js';
import type { SegmentSpares, SpareFile } from './segment-spares.js';
import { SequentialReads } from './sequential-reads.js';
import { TIME_INDEX_ENTRY_BYTES, TimeIndex } from './time-index.js';
import { WriteBehind, type WriteBehindOptions } from './write-behind.js';

/** Lookups scan at most one index interval plus a batch header: read small blocks. */
const LOOKUP_BLOCK_BYTES = 8 * 1024;
/**
 * Where lookups read their blocks: a scan keeps no view of its block (it visits copies of the
 * headers), and scans never nest, so one block per thread serves every lookup without garbage.
 */
const lookupBlock = Buffer.allocUnsafeSlow(LOOKUP_BLOCK_BYTES);
/** Recovery checks every byte: read large blocks. */
const RECOVERY_BLOCK_BYTES = 1024 * 1024;
/** A move onto a spare copies the file so far (a few MiB, in the page cache) in blocks of this. */
const MOVE_BLOCK_BYTES = 1024 * 1024;

/** A segment file being deleted (Segment.delete): renamed, then unlinked on the thread pool. */
export const DELETED_SUFFIX = '.deleted';

export function segmentFileName(baseOffset: number, suffix: '.log' | '.index' | '.timeindex'): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

export interface SegmentOptions {
  readonly indexIntervalBytes: number;
  readonly writeBehind: WriteBehindOptions;
  /** The log directory's spare file, which a new segment found fast moves onto (segment-spares.ts). */
  readonly spares?: SegmentSpares;
  /** The segment's file was replaced by a rename (a move onto a spare): the directory needs an fsync before the next flush counts. */
  readonly onFileReplaced?: () => void;
}

export interface ReadSlice {
  /** Whole batches, a slice of one read. */
  readonly bytes: Uint8Array;
  readonly firstOffset: number;
  /** Offset after the last batch returned. */
  readonly nextOffset: number;
}

export class Segment {
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  sizeBytes: number;
  /** Offset after the last batch (the base offset while empty). */
  nextOffset: number;
  /** Largest maxTimestamp of any batch, -1 while empty. */
  maxTimestamp = -1;
  /** Relative offset of the (first) batch holding maxTimestamp, for time index entries. */
  private maxTimestampRelativeOffset = 0;
  /** Wall-clock time of the first append, for segment.ms; undefined while empty. */
  firstAppendMs: number | undefined;
  /** Replaced once, by a move onto a spare. */
  private fd: number;
  private writeBehind: WriteBehind;
  /** The file is a spare's (segment-spares.ts). */
  private spareTaken = false;
  /** A flush has started: from then on the file is never replaced by a copy (moveToSpare). */
  private flushStarted = false;
  /** When the last append came (the log's clock), for releaseIfIdle. */
  private lastAppendMs = 0;
  /**
   * Takes no appends: the log rolls before the next one (partition-log.ts, maybeRoll). Set while
   * the blocks past this segment's end are being given back on the thread pool (releaseIfIdle),
   * which an append must not race.
   */
  sealed = false;
  private readonly sequentialReads: SequentialReads;
  private offsetIndex = new OffsetIndex();
  private timeIndex = new TimeIndex();
  private bytesSinceIndexEntry = 0;
  private persistedOffsetEntries = 0;
  private persistedTimeEntries = 0;
  private indexFilesStale = false;
  /** Set once a lookup found the index wrong and rebuilt it: a second failure is the log's. */
  private indexRebuiltByLookup = false;

  private constructor(
    readonly directory: string,
    readonly baseOffset: number,
    private readonly fs: LogFileSystem,
    private readonly options: SegmentOptions,
    flags: 'w+' | 'r+',
    spare?: SpareFile,
  ) {
    this.logPath = path.join(directory, segmentFileName(baseOffset, '.log'));
    this.indexPath = path.join(directory, segmentFileName(baseOffset, '.index'));
    this.timeIndexPath = path.join(directory, segmentFileName(baseOffset, '.timeindex'));
    this.fd = spare ? spare.fd : fs.open(this.logPath, flags);
    this.sizeBytes = fs.size(this.fd);
    this.writeBehind = new WriteBehind(fs, this.fd, this.sizeBytes, options.writeBehind, spare?.bytes ?? 0);
    this.sequentialReads = new SequentialReads((target, position, length) => this.readAt(position, length, target).byteLength, dataPathBuffers);
    this.nextOffset = baseOffset;
  }

  /**
   * A new, empty segment. With `spare` (a roll of a partition written fast: partition-log.ts),
   * the spare file, all its blocks allocated, is renamed into place instead of a file being
   * created; if that fails, a file is created as without it.
   */
  static create(directory: string, baseOffset: number, fs: LogFileSystem, options: SegmentOptions, spare?: SpareFile): Segment {
    let onSpare = spare;
    if (spare) {
      try {
        fs.rename(spare.path, path.join(directory, segmentFileName(baseOffset, '.log')));
      } catch {
        options.spares?.discard(spare);
        onSpare = undefined;
      }
    }
    const segment = new Segment(directory, baseOffset, fs, options, 'w+', onSpare);
    segment.indexFilesStale = true;
    segment.spareTaken = onSpare !== undefined;
    if (onSpare) options.spares?.hold(segment);
    return segment;
  }

  /** This segment's file is a spare's (moved onto one, or created on one): its partition was found fast. */
  get onSpare(): boolean {
    return this.spareTaken;
  }

  /**
   * Opens an existing segment. With `recover`, every batch is checked (framing, CRC, offsets
   * growing) and the file is cut at the first bad one; the indexes are rebuilt. Without it, the
   * index files are loaded and only rebuilt (with the same full check) if missing or
   * inconsistent. Returns the segment and how many bytes were cut off.
   */
  static open(directory: string, baseOffset: number, fs: LogFileSystem, options: SegmentOptions, recover: boolean): { segment: Segment; truncatedBytes: number } {
    const segment = new Segment(directory, baseOffset, fs, options, 'r+');
    if (recover || !segment.loadIndexes()) return { segment, truncatedBytes: segment.recover() };
    return { segment, truncatedBytes: 0 };
  }

  isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  /** Appends checked batches (record-batch.ts checkBatches) whose offsets are already assigned. */
  append(bytes: Uint8Array, nowMs: number): void {
    const start = this.sizeBytes;
    try {
      this.fs.write(this.fd, bytes, start);
    } catch (error) {
      this.undoPartialWrite(start);
      // A full disk: the spare's blocks are better used by the appends.
      this.options.spares?.giveBackReady();
      throw new KafkaError('KAFKA_STORAGE_ERROR', `write to ${this.logPath} failed: ${(error as Error).message}`, { cause: error });
    }
    const length = bytes.length; // not byteLength: see record-batch.ts
    this.sizeBytes += length;
    this.writeBehind.appended(this.sizeBytes);
    // Stored on every append rather than with `??=`: a store that runs once per segment has no
    // type feedback in the optimized append code, which V8 then throws away at each new segment.
    this.firstAppendMs = this.firstAppendMs ?? nowMs;
    this.lastAppendMs = nowMs;
    for (let position = 0; position < length; ) {
      const sizeBytes = batchSizeAt(bytes, position);
      const baseOffset = baseOffsetAt(bytes, position);
      this.indexBatch(baseOffset, baseOffset + lastOffsetDeltaAt(bytes, position), maxTimestampAt(bytes, position), sizeBytes, start + position);
      position += sizeBytes;
    }
    // Last: the batches are appended and indexed whatever the move does.
    if (this.writeBehind.foundFast) this.moveToSpare();
  }

  /** Byte position of the batch that holds `offset`, or undefined if it is past this segment. */
  positionOf(offset: number): number | undefined {
    if (offset >= this.nextOffset) return undefined;
    return this.sequentialReads.positionOf(offset) ?? this.findBatch(offset)?.position;
  }

  /** The header of the batch that holds `offset`, or undefined if it is past this segment. */
  findBatch(offset: number): BatchHeader | undefined {
    if (offset >= this.nextOffset) return undefined;
    let found: BatchHeader | undefined;
    this.scanFromIndex(offset, (header) => {
      if (lastOffsetOf(header) >= offset) {
        found = header;
        return false;
      }
      return true;
    });
    return found;
  }

  /**
   * Base offset of the first batch whose maxTimestamp >= timestamp among those ending at or past
   * `startingOffset` (the log start offset: batches wholly below it no longer count), or undefined.
   */
  findByTimestamp(timestamp: number, startingOffset = this.baseOffset): number | undefined {
    if (this.maxTimestamp < timestamp || startingOffset >= this.nextOffset) return undefined;
    const fromOffset = Math.max(this.baseOffset + this.timeIndex.lookup(timestamp), startingOffset);
    let found: number | undefined;
    this.scanFromIndex(fromOffset, (header) => {
      if (lastOffsetOf(header) >= startingOffset && header.maxTimestamp >= timestamp) {
        found = header.baseOffset;
        return false;
      }
      return true;
    });
    return found;
  }

  /**
   * The first batch holding the largest max timestamp among the batches that end at or past
   * `startingOffset`, or undefined when there are none. The running maximum says which batch that
   * is, unless DeleteRecords moved the start past it: then the headers from the start are scanned.
   */
  findMaxTimestamp(startingOffset = this.baseOffset): BatchHeader | undefined {
    if (startingOffset >= this.nextOffset) return undefined;
    const atMaximum = this.findBatch(this.baseOffset + this.maxTimestampRelativeOffset);
    if (atMaximum && lastOffsetOf(atMaximum) >= startingOffset) return atMaximum;
    let best: BatchHeader | undefined;
    this.scanFromIndex(startingOffset, (header) => {
      if (lastOffsetOf(header) >= startingOffset && (best === undefined || header.maxTimestamp > best.maxTimestamp)) best = header;
      return true;
    });
    return best;
  }

  /**
   * Reads whole batches starting with the batch at `position`: up to `maxBytes`, but always at
   * least one whole batch, and none whose base offset is >= `offsetLimit` (the high watermark).
   * Large reads go into buffers lent by the thread's data-path pool (buffer-pool.ts), which
   * whoever ends up writing the bytes out may give back.
   */
  read(position: number, maxBytes: number, offsetLimit: number): ReadSlice | undefined {
    const available = this.sizeBytes - position;
    if (available <= 0) return undefined;
    const length = Math.min(Math.max(maxBytes, BATCH_HEADER_BYTES), available);
    let bytes = this.sequentialReads.take(position, length) ?? this.readAt(position, length, dataPathBuffers.acquire(length));
    const first = readBatchHeader(bytes, 0);
    if (!first) {
      dataPathBuffers.release(bytes);
      const header = readBatchHeader(this.readAt(position, BATCH_HEADER_BYTES), 0, false);
      if (!header) {
        // Only a position remembered from the last read can get here (a lookup checks the
        // header it returns): the file changed under it. The next read looks the offset up.
        this.sequentialReads.reset();
        throw new KafkaError('KAFKA_STORAGE_ERROR', `no readable batch at position ${position} of ${this.logPath}`);
      }
      // The first batch is larger than maxBytes: read it whole (at least one batch).
      const size = Math.min(header.sizeBytes, this.sizeBytes - position);
      bytes = this.readAt(position, size, dataPathBuffers.acquire(size));
    }
    let end = 0;
    let nextOffset = -1;
    let firstOffset = -1;
    while (end < bytes.byteLength) {
      const header = readBatchHeader(bytes, end);
      if (!header || header.baseOffset >= offsetLimit) break;
      if (firstOffset < 0) firstOffset = header.baseOffset;
      nextOffset = lastOffsetOf(header) + 1;
      end += header.sizeBytes;
    }
    this.writeBehind.read(position, bytes.byteLength);
    if (end === 0) {
      dataPathBuffers.release(bytes);
      return undefined;
    }
    this.sequentialReads.read(position, position + end, nextOffset, maxBytes, this.sizeBytes);
    return { bytes: bytes.subarray(0, end), firstOffset, nextOffset };
  }

  /**
   * Removes every batch at or past `offset`, which must be a batch boundary: the base of a batch,
   * or an offset no batch holds (a gap left by compaction). Afterwards nextOffset is `offset`,
   * or below it when compaction removed the records just below `offset`.
   */
  truncateTo(offset: number): void {
    if (offset >= this.nextOffset) return;
    let position = this.sizeBytes;
    if (offset <= this.baseOffset) position = 0;
    else {
      const batch = this.findBatch(offset);
      if (!batch) return;
      // A batch starting after `offset` means `offset` lies in a gap: cut before that batch.
      if (batch.baseOffset < offset) {
        throw new KafkaError('OFFSET_OUT_OF_RANGE', `truncation offset ${offset} falls inside the batch ${batch.baseOffset}..${lastOffsetOf(batch)}`);
      }
      position = batch.position;
    }
    this.cutAt(position);
  }

  /**
   * Writes new index entries to the index files, then fsyncs the log. The index files are not
   * fsynced: after a power failure they may miss their last entries, which loadIndexes copes
   * with (a shorter index is still right, only sparser) or detects and rebuilds. A segment
   * closed before or during the flush is not fsynced (before) or closes after the fsync (during).
   */
  async flush(): Promise<void> {
    this.flushStarted = true;
    // Closed (deleted, or its log closed): nothing to make durable, and no index files to write again.
    if (this.writeBehind.isClosed) return;
    this.persistIndexes();
    // Holds the fd: a close meanwhile (deletion by retention, a replaced segment) waits for the fsync.
    const fd = this.fd;
    await this.writeBehind.holdingFd(() => this.fs.fsync(fd));
    this.writeBehind.throwIfFailed();
  }

  persistIndexes(): void {
    if (this.indexFilesStale) {
      this.fs.writeFileAtomic(this.indexPath, this.offsetIndex.serialize());
      this.fs.writeFileAtomic(this.timeIndexPath, this.timeIndex.serialize());
      this.persistedOffsetEntries = this.offsetIndex.entries;
      this.persistedTimeEntries = this.timeIndex.entries;
      this.indexFilesStale = false;
      return;
    }
    if (this.offsetIndex.entries > this.persistedOffsetEntries) {
      this.appendToFile(this.indexPath, this.offsetIndex.serialize().subarray(this.persistedOffsetEntries * OFFSET_INDEX_ENTRY_BYTES), this.persistedOffsetEntries * OFFSET_INDEX_ENTRY_BYTES);
      this.persistedOffsetEntries = this.offsetIndex.entries;
    }
    if (this.timeIndex.entries > this.persistedTimeEntries) {
      this.appendToFile(this.timeIndexPath, this.timeIndex.serialize().subarray(this.persistedTimeEntries * TIME_INDEX_ENTRY_BYTES), this.persistedTimeEntries * TIME_INDEX_ENTRY_BYTES);
      this.persistedTimeEntries = this.timeIndex.entries;
    }
  }

  /**
   * Closes the file. `trim` false: it is going away (deleted, or renamed over), so blocks past
   * its end are left to whatever frees the rest, and its fd closes on the thread pool, since a
   * last close may be what frees its blocks.
   */
  close(trim = true): void {
    this.sequentialReads.reset();
    const fd = this.fd;
    this.writeBehind.close(() => (trim ? this.fs.close(fd) : closeGoingAway(this.fs, fd)), trim);
  }

  /**
   * Removes the segment's files. As in Kafka, which deletes segments asynchronously, each is
   * renamed to `<name>.deleted` here and unlinked on the thread pool: freeing a large file's
   * blocks waits for the device where the file system discards them (docs/log.md, "Spare
   * segments"). A crash before the unlink leaves `.deleted` files, removed when the log opens
   * (segment-files.ts).
   */
  delete(): void {
    this.close(false);
    for (const file of [this.logPath, this.indexPath, this.timeIndexPath]) {
      if (!this.fs.unlinkInBackground) {
        this.fs.unlink(file);
      } else if (this.fs.exists(file)) {
        try {
          this.fs.rename(file, `${file}${DELETED_SUFFIX}`);
        } catch {
          this.fs.unlink(file);
          continue;
        }
        this.fs.unlinkInBackground(`${file}${DELETED_SUFFIX}`);
      }
    }
  }

  /**
   * Reads `length` bytes at `position` of the log file (page cache, synchronous), into `target`
   * (at least `length` bytes) or a new buffer; returns the bytes read (fewer at the file's end).
   */
  readAt(position: number, length: number, target: Uint8Array = Buffer.allocUnsafe(length)): Uint8Array {
    let done = 0;
    while (done < length) {
      const got = this.fs.read(this.fd, target.subarray(done, length), position + done, length - done);
      if (got === 0) break;
      done += got;
    }
    return done === target.byteLength ? target : target.subarray(0, done);
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * This new segment was found fast (write-behind.ts): it moves onto the log directory's spare,
   * a file whose blocks are all allocated already (segment-spares.ts, docs/log.md "Spare
   * segments"). What the file holds so far (a few MiB, in the page cache) is copied into the
   * spare, which is then renamed over this segment's file: a crash before the rename leaves the
   * old file whole, one after it the new one. Without a spare ready (one is being prepared
   * then), with a spare smaller than this segment may grow, or once a flush has started (the
   * copy would not be on disk until the next one), the file is preallocated in place instead.
   */
  private moveToSpare(): void {
    const spares = this.options.spares;
    const spare = spares !== undefined && !this.flushStarted && spares.bytes === this.options.writeBehind.fileBytesMax ? spares.take() : undefined;
    if (!spare) {
      this.writeBehind.preallocateInPlace();
      return;
    }
    try {
      const block = Buffer.allocUnsafe(Math.min(MOVE_BLOCK_BYTES, this.sizeBytes));
      for (let position = 0; position < this.sizeBytes; ) {
        const got = this.fs.read(this.fd, block, position, Math.min(block.byteLength, this.sizeBytes - position));
        if (got === 0) throw new Error(`${this.logPath} ended at ${position} of ${this.sizeBytes} bytes`);
        this.fs.write(spare.fd, block.subarray(0, got), position);
        position += got;
      }
      this.fs.rename(spare.path, this.logPath);
    } catch {
      // This segment's own file is untouched: it carries on there.
      spares!.discard(spare);
      this.writeBehind.preallocateInPlace();
      return;
    }
    const oldFd = this.fd;
    const old = this.writeBehind;
    this.fd = spare.fd;
    this.writeBehind = new WriteBehind(this.fs, spare.fd, 0, this.options.writeBehind, spare.bytes);
    this.options.onFileReplaced?.();
    this.spareTaken = true;
    spares!.hold(this);
    this.writeBehind.appended(this.sizeBytes);
    // The old file was renamed over: its last close frees its blocks (a discard, on this
    // machine's file system), so it closes on the thread pool.
    old.close(() => closeGoingAway(this.fs, oldFd), false);
  }

  /**
   * Called now and then while this segment holds a spare's blocks past its end (segment-spares.ts):
   * after `idleMs` without an append the blocks past its end are given back on the thread pool,
   * and until that is done the segment is sealed (an append meanwhile goes to a new segment).
   * True once nothing is held any more.
   */
  releaseIfIdle(nowMs: number, idleMs: number): boolean {
    if (!this.writeBehind.holdsAllocation) return true;
    if (nowMs - this.lastAppendMs < idleMs) return false;
    this.sealed = true;
    const queued = this.writeBehind.releaseAllocation(() => {
      this.sealed = false;
    });
    if (!queued) this.sealed = false;
    return queued;
  }

  /** Index bookkeeping for the batch at `position` of the file (fields as numbers: no header object on the append path). */
  private indexBatch(baseOffset: number, lastOffset: number, maxTimestamp: number, sizeBytes: number, position: number): void {
    const relativeOffset = baseOffset - this.baseOffset;
    // Unconditional stores, for the reason given in append().
    const newMaximum = maxTimestamp > this.maxTimestamp;
    this.maxTimestampRelativeOffset = newMaximum ? relativeOffset : this.maxTimestampRelativeOffset;
    this.maxTimestamp = newMaximum ? maxTimestamp : this.maxTimestamp;
    if (this.offsetIndex.entries === 0 || this.bytesSinceIndexEntry >= this.options.indexIntervalBytes) {
      this.offsetIndex.append(relativeOffset, position);
      // The running maximum over every batch so far (not just this one): a lookup relies on all
      // batches before an entry being at or below its timestamp.
      this.timeIndex.maybeAppend(this.maxTimestamp, this.maxTimestampRelativeOffset);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += sizeBytes;
    this.nextOffset = lastOffset + 1;
  }

  /**
   * Visits batches from the indexed one at or before `offset`, checking the index on the way: an
   * entry must point at a readable batch that does not start after `offset`. An index that fails
   * (corrupted on disk while its size and order still looked right) is rebuilt from the log,
   * headers only, and the scan retried. Returns whether the visitor stopped the scan.
   */
  private scanFromIndex(offset: number, visit: (header: BatchHeader) => boolean): boolean {
    for (let attempt = 0; ; attempt++) {
      const from = this.offsetIndex.lookup(Math.max(0, offset - this.baseOffset));
      let first = true;
      let misplaced = false;
      let stopped = false;
      const end = this.scan(from, this.sizeBytes, false, (header) => {
        if (first && from > 0 && header.baseOffset > offset) {
          misplaced = true;
          return false;
        }
        first = false;
        stopped = !visit(header);
        return !stopped;
      });
      if (stopped || (!misplaced && end === this.sizeBytes) || attempt > 0 || this.indexRebuiltByLookup) return stopped;
      this.indexRebuiltByLookup = true;
      this.rebuildIndexes();
    }
  }

  /** Rebuilds both indexes from the batch headers, without the CRC checks and cuts of recover(). */
  private rebuildIndexes(): void {
    this.offsetIndex = new OffsetIndex();
    this.timeIndex = new TimeIndex();
    this.bytesSinceIndexEntry = 0;
    this.maxTimestamp = -1;
    this.maxTimestampRelativeOffset = 0;
    this.scan(0, this.sizeBytes, false, (header) => {
      this.indexBatch(header.baseOffset, lastOffsetOf(header), header.maxTimestamp, header.sizeBytes, header.position);
      return true;
    });
    this.indexFilesStale = true;
    try {
      this.persistIndexes();
    } catch {
      // The files stay stale and are written again at the next flush or roll.
    }
  }

  /**
   * Visits batches from `from` to `to`, reading the file in blocks. With `verify`, each batch's
   * CRC is checked too. Stops at the first unreadable batch (returning its position) or when the
   * visitor returns false.
   */
  private scan(from: number, to: number, verify: boolean, visit: (header: BatchHeader) => boolean): number {
    const blockBytes = verify ? RECOVERY_BLOCK_BYTES : LOOKUP_BLOCK_BYTES;
    let position = from;
    let block: Uint8Array = new Uint8Array(0);
    let blockStart = from;
    while (position < to) {
      let header = readBatchHeader(block, position - blockStart, verify);
      if (!header) {
        const prefix = this.readAt(position, Math.min(BATCH_HEADER_BYTES, to - position));
        const probe = readBatchHeader(prefix, 0, false);
        if (!probe || probe.sizeBytes > to - position) return position;
        const length = Math.min(Math.max(blockBytes, verify ? probe.sizeBytes : 0), to - position);
        block = this.readAt(position, length, length <= LOOKUP_BLOCK_BYTES ? lookupBlock : undefined);
        blockStart = position;
        header = readBatchHeader(block, 0, verify);
        if (!header) return position;
      }
      if (header.sizeBytes > to - position) return position;
      if (verify && !crcMatches(block, header)) return position;
      if (!visit({ ...header, position })) return position;
      position += header.sizeBytes;
    }
    return position;
  }

  /** Full check of the file; cuts it at the first bad batch and rebuilds the indexes. */
  private recover(): number {
    this.offsetIndex = new OffsetIndex();
    this.timeIndex = new TimeIndex();
    this.bytesSinceIndexEntry = 0;
    this.maxTimestamp = -1;
    this.maxTimestampRelativeOffset = 0;
    this.nextOffset = this.baseOffset;
    const validEnd = this.scan(0, this.sizeBytes, true, (header) => {
      if (header.baseOffset < this.nextOffset) return false;
      this.indexBatch(header.baseOffset, lastOffsetOf(header), header.maxTimestamp, header.sizeBytes, header.position);
      return true;
    });
    const truncated = this.sizeBytes - validEnd;
    if (truncated > 0) {
      this.fs.truncate(this.fd, validEnd);
      this.sizeBytes = validEnd;
      this.writeBehind.truncated(validEnd);
    }
    this.indexFilesStale = true;
    this.persistIndexes();
    return truncated;
  }

  /**
   * Loads trusted index files; false when they are missing or inconsistent: a non-empty segment
   * with an empty index (its first batch always gets an entry), a last offset entry that is not
   * a batch with that offset, a time entry past the last batch, or a last time entry whose batch
   * does not hold that timestamp (each entry names the batch that reached the running maximum).
   *
   * The batches after the last entry of either index are walked (headers only) for the end
   * offset and the max timestamp. Starting at the last time entry, not only at the last offset
   * entry, keeps the max timestamp right when the time index lost its last entries (index files
   * are not fsynced; a shorter time index stays correct for lookups, as each entry only says
   * that nothing before it is newer).
   */
  private loadIndexes(): boolean {
    if (!this.fs.exists(this.indexPath) || !this.fs.exists(this.timeIndexPath)) return false;
    const offsetIndex = OffsetIndex.load(this.fs.readFile(this.indexPath), this.sizeBytes);
    if (!offsetIndex) return false;
    const lastRelative = Math.max(0, offsetIndex.lastRelativeOffset());
    const timeIndex = TimeIndex.load(this.fs.readFile(this.timeIndexPath), Number.MAX_SAFE_INTEGER);
    if (!timeIndex) return false;
    if (this.sizeBytes > 0 && (offsetIndex.entries === 0 || timeIndex.entries === 0)) return false;
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    this.persistedOffsetEntries = offsetIndex.entries;
    this.persistedTimeEntries = timeIndex.entries;
    const lastTimestamp = timeIndex.lastTimestamp();
    const lastTimeRelative = timeIndex.lookup(Number.POSITIVE_INFINITY);
    this.maxTimestamp = lastTimestamp === -Infinity ? -1 : lastTimestamp;
    this.maxTimestampRelativeOffset = lastTimeRelative;
    const from = Math.max(0, offsetIndex.lastPosition());
    let consistent = true;
    let reachedLastEntry = offsetIndex.entries === 0;
    const end = this.scan(Math.min(from, offsetIndex.lookup(lastTimeRelative)), this.sizeBytes, false, (header) => {
      if (header.position === from) {
        reachedLastEntry = true;
        if (offsetIndex.entries > 0 && header.baseOffset - this.baseOffset !== lastRelative) consistent = false;
      }
      if (header.position < from && header.position + header.sizeBytes > from) consistent = false;
      if (header.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = header.maxTimestamp;
        this.maxTimestampRelativeOffset = header.baseOffset - this.baseOffset;
      }
      this.nextOffset = lastOffsetOf(header) + 1;
      return consistent;
    });
    if (consistent && end === this.sizeBytes && timeIndex.entries > 0) {
      // The batch named by the last time entry must start there and hold that timestamp.
      const target = this.baseOffset + lastTimeRelative;
      let batch: BatchHeader | undefined;
      if (target < this.nextOffset) {
        this.scan(offsetIndex.lookup(lastTimeRelative), this.sizeBytes, false, (header) => {
          if (lastOffsetOf(header) < target) return true;
          batch = header;
          return false;
        });
      }
      consistent = batch !== undefined && batch.baseOffset === target && batch.maxTimestamp === lastTimestamp;
    }
    if (!consistent || !reachedLastEntry || end !== this.sizeBytes) {
      this.offsetIndex = new OffsetIndex();
      this.timeIndex = new TimeIndex();
      return false;
    }
    this.bytesSinceIndexEntry = this.sizeBytes - from;
    return true;
  }

  private cutAt(position: number): void {
    this.sequentialReads.reset();
    this.fs.truncate(this.fd, position);
    this.sizeBytes = position;
    this.writeBehind.truncated(position);
    this.offsetIndex.truncateToPosition(position);
    // Recompute what the cut removed: end offset, max timestamp, index bookkeeping.
    this.recover();
    if (this.sizeBytes === 0) this.firstAppendMs = undefined;
  }

  private undoPartialWrite(size: number): void {
    try {
      this.fs.truncate(this.fd, size);
    } catch {
      // The disk is failing; recovery will cut the torn tail at the next start.
    }
  }

  private appendToFile(file: string, bytes: Uint8Array, position: number): void {
    const fd = this.fs.open(file, this.fs.exists(file) ? 'r+' : 'w+');
    try {
      this.fs.write(fd, bytes, position);
    } finally {
      this.fs.close(fd);
    }
  }
}
