/**
 * The piscina task behind CpuPool.compact: one cleaning pass (buildOffsetMap over all the
 * segments, then cleanSegment on each) on a pool thread. It shares CpuPool's threads and bounds;
 * the pool picks this file per task with piscina's `filename` run option.
 *
 * As in codec-task.ts, the cleaned segments move back (transferred, not copied), and a failure
 * the input can cause (a KafkaError: CORRUPT_MESSAGE, UNSUPPORTED_COMPRESSION_TYPE) comes back
 * as a plain value, because errors cloned across threads lose their class and Kafka code.
 * Anything else is a bug and is thrown as usual.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { compactSegments, type CleanSegmentOptions } from '../../log/compaction.js';
import { KafkaError, type ErrorCodeName } from '../../protocol/kafka-error.js';
import { canTransferWholeBuffer, transferableBytes } from '../transferable-bytes.js';

export interface CompactionTask {
  readonly segments: readonly Uint8Array[];
  readonly options: CleanSegmentOptions;
}

export interface CompactionFailure {
  readonly errorName: ErrorCodeName;
  readonly message: string;
}

/** Cleaned segments on success, in input order; piscina unwraps the moved value. */
export type CompactionTaskResult = { readonly segments: Uint8Array[] } | CompactionFailure;

export default function runCompactionTask(task: CompactionTask): CompactionTaskResult {
  let cleaned: Uint8Array[];
  try {
    cleaned = compactSegments(task.segments, task.options);
  } catch (error) {
    if (error instanceof KafkaError) return toCompactionFailure(error);
    throw error;
  }
  const segments = cleaned.map(transferableBytes);
  return move({
    [transferableSymbol]: transferList(segments),
    [valueSymbol]: { segments },
  }) as unknown as CompactionTaskResult;
}

/** Every whole buffer among `segments`, each once: a buffer listed twice fails the post. */
export function transferList(segments: readonly Uint8Array[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const segment of segments) {
    if (canTransferWholeBuffer(segment)) buffers.add(segment.buffer as ArrayBuffer);
  }
  return [...buffers];
}

export function toCompactionFailure(error: KafkaError): CompactionFailure {
  return { errorName: error.errorName, message: error.message };
}

export function fromCompactionFailure(failure: CompactionFailure): KafkaError {
  // KafkaError prefixes its message with the error name; strip it so it is not doubled.
  const prefix = `${failure.errorName}: `;
  const detail = failure.message.startsWith(prefix) ? failure.message.slice(prefix.length) : failure.message;
  return new KafkaError(failure.errorName, detail);
}

export function isCompactionFailure(result: CompactionTaskResult): result is CompactionFailure {
  return 'errorName' in result;
}
