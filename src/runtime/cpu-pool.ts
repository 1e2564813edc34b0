/**
 * CpuPool runs Samsa's CPU-heavy, stateless work (compression and decompression of record
 * batches, log compaction's cleaning pass) on a piscina worker pool, so an actor's thread is not
 * blocked for milliseconds while it still has messages to serve.
 *
 * Small jobs stay inline on the calling thread: a hop to the pool (post, wake a worker, post
 * back) costs more than compressing a few KiB. Everything is bounded: threads, queued tasks and
 * the input bytes waiting in the pool; a flood gets CpuPoolBusyError instead of unbounded memory.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { compactSegments, type CleanSegmentOptions } from '../log/compaction.js';
import {
  assertMaxOutputBytes,
  compressBytes,
  decompressBytes,
  fromCodecFailure,
  type CompressionCodec,
} from './codecs.js';
import { runnableUrl } from './module-url.js';
import { assertNotDetached, transferableBytes } from './transferable-bytes.js';
import type { CodecTask, CodecTaskResult } from './tasks/codec-task.js';
import {
  fromCompactionFailure,
  isCompactionFailure,
  transferList,
  type CompactionTask,
  type CompactionTaskResult,
} from './tasks/compaction-task.js';

/**
 * Inline thresholds, measured on a 2-core machine under Node 20: a pool round trip costs
 * 150-300 µs; gzip of 16 KiB of record-like JSON takes about 200 µs, and gunzip producing
 * 64 KiB about 80 µs (inflating is several times cheaper per byte than deflating). Below these
 * sizes the hop costs as much as the work it would take off the actor's thread.
 */
export const INLINE_INPUT_BYTES_MAX = 16 * 1024;
export const INLINE_DECOMPRESS_OUTPUT_BYTES_MAX = 64 * 1024;
/** Tasks waiting for a thread, beyond those running. Each holds its input until it runs. */
export const QUEUED_TASKS_MAX = 512;
/** Input bytes held by tasks in the pool (running or waiting). */
export const PENDING_INPUT_BYTES_MAX = 256 * 1024 * 1024;
/** Threads above the first exit after this long idle; respawning one costs tens of ms. */
const IDLE_THREAD_EXIT_MS = 30_000;

export interface CpuPoolOptions {
  /** Default: one less than the cores available, leaving one for the actors; at least 1. */
  threadsMax?: number;
  queuedTasksMax?: number;
  pendingInputBytesMax?: number;
  inlineInputBytesMax?: number;
  inlineDecompressOutputBytesMax?: number;
}

export interface CpuPoolCounters {
  inlineTasks: number;
  pooledTasks: number;
  pooledTasksInFlight: number;
  pendingInputBytes: number;
}

export class CpuPoolBusyError extends Error {
  override readonly name = 'CpuPoolBusyError';
}

export class CpuPoolClosedError extends Error {
  override readonly name = 'CpuPoolClosedError';

  constructor() {
    super('CPU pool closed');
  }
}

export class CpuPool {
  readonly threadsMax: number;
  private readonly tasksInFlightMax: number;
  private readonly pendingInputBytesMax: number;
  private readonly inlineInputBytesMax: number;
  private readonly inlineDecompressOutputBytesMax: number;
  private readonly piscina: Piscina<CodecTask | CompactionTask, CodecTaskResult | CompactionTaskResult>;
  /** The pool's default task file is codec-task; compaction tasks name theirs per run. */
  private readonly compactionTaskFilename: string;
  private readonly counts: CpuPoolCounters = { inlineTasks: 0, pooledTasks: 0, pooledTasksInFlight: 0, pendingInputBytes: 0 };
  private closing: Promise<void> | undefined;

  constructor(options: CpuPoolOptions = {}) {
    this.threadsMax = positiveInteger('threadsMax', options.threadsMax ?? Math.max(1, availableParallelism() - 1));
    const queuedTasksMax = nonNegativeInteger('queuedTasksMax', options.queuedTasksMax ?? QUEUED_TASKS_MAX);
    this.tasksInFlightMax = this.threadsMax + queuedTasksMax;
    this.pendingInputBytesMax = positiveInteger('pendingInputBytesMax', options.pendingInputBytesMax ?? PENDING_INPUT_BYTES_MAX);
    this.inlineInputBytesMax = nonNegativeInteger('inlineInputBytesMax', options.inlineInputBytesMax ?? INLINE_INPUT_BYTES_MAX);
    this.inlineDecompressOutputBytesMax = nonNegativeInteger(
      'inlineDecompressOutputBytesMax',
      options.inlineDecompressOutputBytesMax ?? INLINE_DECOMPRESS_OUTPUT_BYTES_MAX,
    );
    // Under vitest this module is TypeScript; worker threads need the compiled task under dist/.
    const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    this.piscina = new Piscina({
      filename: runnableUrl(new URL(`./tasks/codec-task.${extension}`, import.meta.url)),
      minThreads: 1,
      maxThreads: this.threadsMax,
      // Our own admission check (admit) trips first with a clearer error; this is a backstop.
      maxQueue: this.tasksInFlightMax,
      idleTimeout: IDLE_THREAD_EXIT_MS,
      recordTiming: false,
    });
    this.compactionTaskFilename = runnableUrl(new URL(`./tasks/compaction-task.${extension}`, import.meta.url));
  }

  /**
   * Inputs above the inline threshold are transferred to a pool thread when they own their whole
   * ArrayBuffer: the caller's `bytes` is then detached and must not be used again.
   */
  async compress(codec: CompressionCodec, bytes: Uint8Array): Promise<Uint8Array> {
    this.assertOpen();
    assertNotDetached(bytes);
    if (bytes.byteLength <= this.inlineInputBytesMax) {
      this.counts.inlineTasks++;
      return compressBytes(codec, bytes);
    }
    return this.runInPool({ operation: 'compress', codec, bytes });
  }

  /**
   * Decompression work grows with its output, which only `maxOutputBytes` bounds up front, so
   * it stays inline only when both input and that bound are small. Same transfer rule as compress.
   */
  async decompress(codec: CompressionCodec, bytes: Uint8Array, maxOutputBytes: number): Promise<Uint8Array> {
    this.assertOpen();
    assertNotDetached(bytes);
    assertMaxOutputBytes(maxOutputBytes);
    if (bytes.byteLength <= this.inlineInputBytesMax && maxOutputBytes <= this.inlineDecompressOutputBytesMax) {
      this.counts.inlineTasks++;
      return decompressBytes(codec, bytes, maxOutputBytes);
    }
    return this.runInPool({ operation: 'decompress', codec, bytes, maxOutputBytes });
  }

  /**
   * One cleaning pass of log compaction over `segments` (see src/log/compaction.ts): returns
   * each segment cleaned, in order. Failures are KafkaErrors (CORRUPT_MESSAGE,
   * UNSUPPORTED_COMPRESSION_TYPE) on either path. Inline when the segments total at most the
   * inline input threshold; otherwise segments owning their whole ArrayBuffer are transferred
   * to the pool thread and are detached for the caller, as with compress.
   */
  async compact(segments: readonly Uint8Array[], options: CleanSegmentOptions): Promise<Uint8Array[]> {
    this.assertOpen();
    let inputBytes = 0;
    for (const segment of segments) {
      assertNotDetached(segment);
      inputBytes += segment.byteLength;
    }
    if (inputBytes <= this.inlineInputBytesMax) {
      this.counts.inlineTasks++;
      return compactSegments(segments, options);
    }
    return this.track(inputBytes, async () => {
      const owned = segments.map(transferableBytes);
      const result = (await this.piscina.run(
        { segments: owned, options },
        { filename: this.compactionTaskFilename, transferList: transferList(owned) },
      )) as CompactionTaskResult;
      if (isCompactionFailure(result)) throw fromCompactionFailure(result);
      return result.segments;
    });
  }

  get counters(): CpuPoolCounters {
    return { ...this.counts };
  }

  /** Lets running and queued tasks finish, then stops the threads. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.piscina.close();
    return this.closing;
  }

  private async runInPool(task: CodecTask): Promise<Uint8Array> {
    return this.track(task.bytes.byteLength, async () => {
      // A view that does not own its buffer would be cloned with the whole buffer; copy it instead.
      const bytes = transferableBytes(task.bytes);
      const result = (await this.piscina.run({ ...task, bytes }, { transferList: [bytes.buffer as ArrayBuffer] })) as CodecTaskResult;
      if (ArrayBuffer.isView(result)) return result;
      throw fromCodecFailure(result);
    });
  }

  /** Admits a pooled task and counts its input bytes against the bounds until it settles. */
  private async track<T>(inputBytes: number, run: () => Promise<T>): Promise<T> {
    this.admit(inputBytes);
    this.counts.pooledTasks++;
    this.counts.pooledTasksInFlight++;
    this.counts.pendingInputBytes += inputBytes;
    try {
      return await run();
    } finally {
      this.counts.pooledTasksInFlight--;
      this.counts.pendingInputBytes -= inputBytes;
    }
  }

  /** A single input larger than the byte bound still runs when the pool is otherwise empty. */
  private admit(inputBytes: number): void {
    const { pooledTasksInFlight, pendingInputBytes } = this.counts;
    const tooManyTasks = pooledTasksInFlight >= this.tasksInFlightMax;
    const tooManyBytes = pooledTasksInFlight > 0 && pendingInputBytes + inputBytes > this.pendingInputBytesMax;
    if (tooManyTasks || tooManyBytes) {
      throw new CpuPoolBusyError(
        `CPU pool busy: ${pooledTasksInFlight} tasks holding ${pendingInputBytes} input bytes ` +
          `(limits ${this.tasksInFlightMax} tasks, ${this.pendingInputBytesMax} bytes); slow down and retry`,
      );
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new CpuPoolClosedError();
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}
