/**
 * Produce (0): appends each partition's record batches to its log, as the bytes arrived (the
 * log checks each batch's header and CRC, never the records).
 *
 * Every append is started before the handler first awaits, so appends from one connection reach
 * each log in request order even though requests are pipelined (see ApiHandler.handle).
 *
 * The records are views into the request's frame, which the connection reuses once the request
 * is answered (connection.ts): nothing here may keep them past the append.
 *
 * Appends go through the partition's leader actor (partition-leader.ts), which is the log's
 * only writer. With one replica per partition, the leader is the whole ISR: the high watermark
 * moves past an append as soon as it is done, and acks=1 and acks=-1 both answer then.
 * acks=0 gets no response at all; when one of its partitions fails, the connection is closed
 * instead, as Kafka does, since that is the only way such a producer can notice.
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { ProduceRequest, ProduceResponse } from '../../protocol/generated/messages/index.js';
import type { PartitionProduceResponse } from '../../protocol/generated/messages/produce-response.js';
import { CLOSE_CONNECTION, defineHandler, NO_RESPONSE, type RequestContext } from '../handler.js';
import { errorCodeOf, leaderPartition } from '../partition-lookup.js';

function failed(index: number, errorCode: number, errorMessage: string | null = null): PartitionProduceResponse {
  return { index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage };
}

async function appendPartition(context: RequestContext, topic: string, index: number, records: Uint8Array | null): Promise<PartitionProduceResponse> {
  const lookup = leaderPartition(context, topic, index);
  if (lookup.errorCode !== undefined) return failed(index, lookup.errorCode);
  if (records === null || records.byteLength === 0) return failed(index, ErrorCode.CORRUPT_MESSAGE, 'no records');
  try {
    const result = await context.cluster.appendRecords(topic, index, records);
    return {
      index,
      errorCode: ErrorCode.NONE,
      baseOffset: BigInt(result.baseOffset),
      logAppendTimeMs: BigInt(result.logAppendTimeMs),
      logStartOffset: BigInt(result.logStartOffset),
      recordErrors: [],
      errorMessage: null,
    };
  } catch (error) {
    return failed(index, errorCodeOf(error, context.log, `append to ${topic}-${index}`), (error as Error).message);
  }
}

export const produceHandler = defineHandler<ProduceRequest, ProduceResponse>({
  apiKey: 0,
  minVersion: 3,
  maxVersion: 9,
  // The records are written to the log before the answer; nothing keeps a view of the frame.
  releasesRequestBytes: true,
  async handle(request, context) {
    const validAcks = request.acks === 0 || request.acks === 1 || request.acks === -1;
    const topics = request.topicData.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionData.map((partition) =>
        validAcks ? appendPartition(context, topic.name, partition.index, partition.records) : Promise.resolve(failed(partition.index, ErrorCode.INVALID_REQUIRED_ACKS))),
    }));
    const responses = await Promise.all(topics.map(async (topic) => ({ name: topic.name, partitionResponses: await Promise.all(topic.partitions) })));
    if (request.acks === 0) {
      const failure = responses.flatMap((topic) => topic.partitionResponses.map((partition) => ({ topic: topic.name, ...partition }))).find((partition) => partition.errorCode !== ErrorCode.NONE);
      if (!failure) return NO_RESPONSE;
      context.log.info({ topic: failure.topic, partition: failure.index, errorCode: failure.errorCode }, 'acks=0 produce failed; closing the connection so the producer notices');
      return CLOSE_CONNECTION;
    }
    return { responses, throttleTimeMs: 0 };
  },
});
