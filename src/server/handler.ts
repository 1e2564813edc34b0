/**
 * What a request handler is and what it may use. One handler per API, one file per handler
 * (src/server/handlers/<api>.ts); each declares the versions it serves, and ApiVersions answers
 * from those declarations (handler-registry.ts), so what is advertised is what is implemented.
 *
 * Kafka errors travel as values in the response; a handler throws only for bugs and I/O faults,
 * and the connection then logs and closes (the client reconnects and retries).
 */
import type { Logger } from 'pino';
import type { LogDirectory } from '../log/log-directory.js';
import type { AppendResult, PartitionLog } from '../log/partition-log.js';
import type { RequestHeader } from '../protocol/generated/messages/index.js';
import type { AppendWaiters } from './append-waiters.js';
import type { BrokerGroups } from './broker-groups.js';
import type { BrokerConfig } from './broker-config.js';
import type { CreatePartitionsCommand, CreateTopicCommand, PlanResult, TopicState } from './controller-state.js';
import type { HandlerRegistry } from './handler-registry.js';

/** Returned by a handler whose request gets no response (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no response');
export type NoResponse = typeof NO_RESPONSE;
/**
 * Returned when the request gets no response and the connection must close once the responses
 * before it are sent: Kafka's way of telling an acks=0 producer that its request failed.
 */
export const CLOSE_CONNECTION: unique symbol = Symbol('close connection');
export type CloseConnection = typeof CLOSE_CONNECTION;

export interface BrokerEndpoint {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

/**
 * Read access to topic metadata: a broker's metadata cache (metadata-cache.ts), kept up to date
 * by the controller actor. (The field holding it is still called `controller`.)
 */
export interface MetadataView {
  readonly clusterId: string;
  topic(name: string): TopicState | undefined;
  topicById(topicId: string): TopicState | undefined;
  topics(): IterableIterator<TopicState>;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * What a broker's handlers use: topic metadata, the logs of the partitions it leads, settings.
 * Metadata changes may go to a controller on another thread, so they answer with a promise.
 */
export interface ClusterServices {
  readonly config: BrokerConfig;
  readonly controller: MetadataView;
  readonly logs: LogDirectory;
  readonly appendWaiters: AppendWaiters;
  readonly brokers: readonly BrokerEndpoint[];
  /** Consumer groups: finding coordinators, and calls to the ones this broker runs. */
  readonly groups: BrokerGroups;
  /** Creates a topic (or only validates it); its leaders open the logs. */
  createTopic(command: Omit<CreateTopicCommand, 'topicId'>, validateOnly?: boolean): MaybePromise<PlanResult & { topic?: TopicState }>;
  /**
   * The log of a partition of an existing topic, to read in place (Fetch, ListOffsets). Only the
   * partition's leader actor writes to it: appends and DeleteRecords go through it (below).
   */
  partitionLog(topic: TopicState, partition: number): PartitionLog;
  /** Appends through the partition's leader actor; answered once the flush policy is met. */
  appendRecords(topic: string, partition: number, records: Uint8Array): Promise<AppendResult>;
  /** Moves the log start offset up through the partition's leader actor; the new low watermark. */
  deleteRecords(topic: string, partition: number, offset: number): Promise<number>;
  /** Removes a topic from the metadata, then deletes its partition logs. */
  deleteTopic(name: string): MaybePromise<PlanResult>;
  /** Adds partitions to a topic and creates their logs (or only validates). */
  createPartitions(command: CreatePartitionsCommand, validateOnly?: boolean): MaybePromise<PlanResult>;
  /**
   * Replaces a topic's explicit configs (INVALID_CONFIG for an unknown name or a bad value) and
   * applies them to its open partition logs at once (or only validates).
   */
  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>, validateOnly?: boolean): MaybePromise<PlanResult>;
}

export interface RequestContext {
  /** The broker that received the request (its listener). */
  readonly nodeId: number;
  readonly cluster: ClusterServices;
  readonly registry: HandlerRegistry;
  readonly header: RequestHeader;
  readonly apiVersion: number;
  /** The client's address, "/" then the IP (as Kafka's describe tools show it). */
  readonly clientHost: string;
  readonly log: Logger;
}

export interface ApiHandler<Request, Response> {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * True when the handler keeps no view of the request's bytes once it has answered: the
   * connection may then give the request's frame buffer back to the data-path pool for reuse
   * (connection.ts). Leave unset for handlers that keep request bytes (group metadata, ...).
   */
  readonly releasesRequestBytes?: boolean;
  /**
   * Called synchronously when the request is decoded, in the order requests arrive on the
   * connection; work started before the first `await` (e.g. a log append) keeps that order.
   */
  handle(request: Request, context: RequestContext): Promise<Response | NoResponse | CloseConnection> | Response | NoResponse | CloseConnection;
}

/** Keeps each handler file typed by its own request and response. */
export function defineHandler<Request, Response>(handler: ApiHandler<Request, Response>): ApiHandler<Request, Response> {
  return handler;
}
