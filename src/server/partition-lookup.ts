/**
 * Finding the log of a partition this broker leads, with the error Kafka gives when it cannot:
 * a client that sent a request to the wrong broker gets NOT_LEADER_OR_FOLLOWER and refreshes
 * its metadata; a stale or future leader epoch gets FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH.
 */
import type { Logger } from 'pino';
import type { PartitionLog } from '../log/partition-log.js';
import { ErrorCode, KafkaError } from '../protocol/kafka-error.js';
import type { PartitionAssignment, TopicState } from './controller-state.js';
import type { RequestContext } from './handler.js';

export type LeaderLookup =
  | { readonly log: PartitionLog; readonly topic: TopicState; readonly assignment: PartitionAssignment; readonly errorCode?: undefined }
  | { readonly errorCode: number; readonly log?: undefined };

/** `currentLeaderEpoch` -1 means the client does not know (or send) one. */
export function leaderPartition(context: RequestContext, topicName: string, partition: number, currentLeaderEpoch = -1): LeaderLookup {
  const topic = context.cluster.controller.topic(topicName);
  const assignment = topic?.partitions[partition];
  if (!topic || !assignment) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  if (assignment.leader !== context.nodeId) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
  if (currentLeaderEpoch >= 0 && currentLeaderEpoch > assignment.leaderEpoch) return { errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH };
  if (currentLeaderEpoch >= 0 && currentLeaderEpoch < assignment.leaderEpoch) return { errorCode: ErrorCode.FENCED_LEADER_EPOCH };
  return { log: context.cluster.partitionLog(topic, partition), topic, assignment };
}

/** The code to put in a response for an error thrown by the log; anything else is logged. */
export function errorCodeOf(error: unknown, log: Logger, what: string): number {
  if (error instanceof KafkaError) return error.code;
  log.error({ err: error }, `${what} failed`);
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}
