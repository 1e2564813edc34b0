/**
 * Fetch (1): whole record batches from each partition's log, as stored, up to the high
 * watermark. With one replica there are no transactions to wait for, so the last stable offset
 * equals the high watermark (read_committed consumers, the default in librdkafka and kafkajs,
 * read up to it).
 *
 * Size limits, as Kafka applies them: each partition gets at most its partitionMaxBytes and the
 * response at most maxBytes, except that the first batch of the first partition with data is
 * returned whole even when larger, so a consumer can always make progress.
 *
 * Long polling: when less than minBytes is available the request waits up to maxWaitMs, and an
 * append to any partition it reads wakes it to read again (append-waiters.ts); no polling timer.
 *
 * Fetch sessions (KIP-227) are not kept: every answer is a full one with sessionId 0, which
 * tells the client that no session was created; a client that names a session is told
 * FETCH_SESSION_ID_NOT_FOUND and falls back to full fetches.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { FetchRequest, FetchResponse } from '../../protocol/generated/messages/index.js';
import type { PartitionData } from '../../protocol/generated/messages/fetch-response.js';
import { partitionKey } from '../append-waiters.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { errorCodeOf, leaderPartition } from '../partition-lookup.js';

const READ_COMMITTED = 1;
const EMPTY: Uint8Array = new Uint8Array(0);

interface FetchRound {
  response: FetchResponse;
  bytes: number;
  failed: boolean;
  /** Partitions that were readable: what an append must touch to wake the request. */
  keys: string[];
}

function readRound(request: FetchRequest, context: RequestContext): FetchRound {
  let responseBytesLeft = request.maxBytes ?? 0x7fffffff;
  let bytes = 0;
  let failed = false;
  const keys: string[] = [];
  const readCommitted = request.isolationLevel === READ_COMMITTED;
  const responses = request.topics.map((topic) => {
    const name = topic.topic ?? '';
    const partitions = topic.partitions.map((partition): PartitionData => {
      const answer = (errorCode: number, highWatermark = -1, logStartOffset = -1, records = EMPTY): PartitionData => ({
        partitionIndex: partition.partition,
        errorCode,
        highWatermark: BigInt(highWatermark),
        lastStableOffset: BigInt(highWatermark),
        logStartOffset: BigInt(logStartOffset),
        abortedTransactions: readCommitted ? [] : null,
        records,
      });
      const lookup = leaderPartition(context, name, partition.partition, partition.currentLeaderEpoch ?? -1);
      if (lookup.errorCode !== undefined) {
        failed = true;
        return answer(lookup.errorCode);
      }
      const log = lookup.log;
      const offset = Number(partition.fetchOffset);
      const readable = offset >= log.logStartOffset && offset <= log.logEndOffset;
      if (!readable) {
        failed = true;
        return answer(ErrorCode.OFFSET_OUT_OF_RANGE, log.highWatermark, log.logStartOffset);
      }
      keys.push(partitionKey(name, partition.partition));
      if (bytes > 0 && responseBytesLeft <= 0) return answer(ErrorCode.NONE, log.highWatermark, log.logStartOffset);
      try {
        const read = log.read(offset, Math.max(0, Math.min(partition.partitionMaxBytes, responseBytesLeft)));
        // The log returns at least one batch; only the response's first one may exceed limits.
        const fits = bytes === 0 || read.bytes.byteLength <= Math.min(partition.partitionMaxBytes, responseBytesLeft);
        const records = fits ? read.bytes : EMPTY;
        bytes += records.byteLength;
        responseBytesLeft -= records.byteLength;
        return answer(ErrorCode.NONE, read.highWatermark, read.logStartOffset, records);
      } catch (error) {
        failed = true;
        return answer(errorCodeOf(error, context.log, `read of ${name}-${partition.partition}`), log.highWatermark, log.logStartOffset);
      }
    });
    return { topic: name, partitions };
  });
  return { response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses }, bytes, failed, keys };
}

export const fetchHandler = defineHandler<FetchRequest, FetchResponse>({
  apiKey: 1,
  minVersion: 4,
  maxVersion: 12,
  async handle(request, context) {
    if ((request.sessionId ?? 0) !== 0) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
    }
    const deadlineMs = Date.now() + request.maxWaitMs;
    let round = readRound(request, context);
    while (round.bytes < request.minBytes && !round.failed && round.keys.length > 0) {
      const waitMs = deadlineMs - Date.now();
      if (waitMs <= 0) break;
      const reason = await context.cluster.appendWaiters.wait(round.keys, waitMs);
      round = readRound(request, context);
      if (reason !== 'append') break;
    }
    return round.response;
  },
});
