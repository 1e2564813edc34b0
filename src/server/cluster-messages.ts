/**
 * Messages between the controller actor (main thread) and the broker actors (one per worker
 * thread) of the threaded cluster (cluster.ts, broker-actor.ts). They travel through the
 * runtime's rings as msgpackr bodies: plain objects, arrays, strings and numbers only.
 *
 *   broker ── register {endpoint} ─────────────▶ controller ── welcome {snapshot, brokers} ──▶ broker
 *   broker ── request {id, command} ───────────▶ controller: plan, write the metadata log,
 *             controller ── records {seq} ─────▶ every broker ── applied {seq} ──▶ controller
 *             controller ── reply {id, result} ▶ broker           (once every broker applied)
 *   main ───── stop ───────────────────────────▶ broker ── stopped {clean} ──▶ controller
 */
import type { LogConfig } from '../log/log-config.js';
import type { CreatePartitionsCommand, CreateTopicCommand, MetadataRecord, PlanResult, TopicState } from './controller-state.js';
import type { BrokerEndpoint } from './handler.js';
import type { MetadataSnapshot } from './metadata-cache.js';

export type ControllerCommand =
  | { readonly op: 'create-topic'; readonly command: Omit<CreateTopicCommand, 'topicId'>; readonly validateOnly: boolean }
  | { readonly op: 'delete-topic'; readonly name: string }
  | { readonly op: 'create-partitions'; readonly command: CreatePartitionsCommand; readonly validateOnly: boolean }
  | { readonly op: 'alter-topic-configs'; readonly name: string; readonly configs: Readonly<Record<string, string>>; readonly validateOnly: boolean };

export type CommandResult = PlanResult & { topic?: TopicState };

export type ToController =
  | { readonly type: 'register'; readonly endpoint: BrokerEndpoint }
  /** The broker could not listen (it retries); fails a cluster start at once. */
  | { readonly type: 'start-failed'; readonly nodeId: number; readonly message: string }
  | { readonly type: 'request'; readonly requestId: number; readonly command: ControllerCommand }
  | { readonly type: 'applied'; readonly nodeId: number; readonly seq: number }
  | { readonly type: 'stopped'; readonly nodeId: number; readonly clean: boolean }
  | { readonly type: 'inspected'; readonly inspectId: number; readonly info: PartitionInfo | null };

export type ToBroker =
  | { readonly type: 'welcome'; readonly snapshot: MetadataSnapshot; readonly brokers: readonly BrokerEndpoint[] }
  | { readonly type: 'brokers'; readonly brokers: readonly BrokerEndpoint[] }
  | { readonly type: 'records'; readonly seq: number; readonly records: readonly MetadataRecord[] }
  | { readonly type: 'reply'; readonly requestId: number; readonly result: CommandResult }
  | { readonly type: 'stop' }
  /** What a broker's log of one partition looks like (tests and diagnostics). */
  | { readonly type: 'inspect'; readonly inspectId: number; readonly topic: string; readonly partition: number };

/** A partition log as its broker sees it; null when that broker has no such log open. */
export interface PartitionInfo {
  readonly nodeId: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly segmentCount: number;
  readonly config: LogConfig;
}

/** What the supervisor passes each broker actor (ActorSpec.args). */
export interface BrokerActorArgs {
  readonly nodeId: number;
  /** 0: a free port (tests); else base port + nodeId. */
  readonly port: number;
  readonly advertisedHost: string;
  readonly bindHost: string | undefined;
  /** This broker's own log directory: <data dir>/broker-<nodeId>. */
  readonly logDirectory: string;
  /** Every broker setting given, to rebuild the BrokerConfig in the worker. */
  readonly settings: Readonly<Record<string, string>>;
  readonly controller: number;
  /** How many brokers share the process (each takes its share of the page-cache budget). */
  readonly brokerCount: number;
}

export function brokerDirectoryName(nodeId: number): string {
  return `broker-${nodeId}`;
}
