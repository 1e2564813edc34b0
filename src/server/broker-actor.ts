/**
 * One broker of the threaded cluster, as an actor on its own worker thread: its listener
 * (base port + nodeId), its connections and handlers, a metadata cache fed by the controller,
 * and the logs of the partitions it leads, in its own log directory (<data dir>/broker-<i>).
 *
 *   start    listen, then register with the controller
 *   welcome  metadata snapshot: open the log directory (recovery after an unclean stop), remove
 *            logs of deleted topics, open the led partitions, start log maintenance, accept
 *   records  apply to the cache; open, delete or reconfigure the led partitions' logs; ack
 *   stop     stop accepting, answer in-flight requests, close the logs (clean-shutdown marker)
 *
 * Admin requests that change metadata are sent to the controller actor, and answered once it
 * has written the change and every broker has applied it. The actor's own handler never waits
 * on the controller (it would wait on itself): replies arrive as messages.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import { LogDirectory } from '../log/log-directory.js';
import { PageCacheBudget } from '../log/page-cache-budget.js';
import type { PartitionLog } from '../log/partition-log.js';
import type { ActorContext, ActorFactory, Address } from '../runtime/actor.js';
import { PendingReplies } from '../runtime/pending-replies.js';
import type { CoordinatorAnswerMessage } from '../groups/group-calls.js';
import { OFFSETS_TOPIC } from '../groups/internal-topics.js';
import { BrokerGroups } from './broker-groups.js';
import type { AppendResult } from '../log/partition-log.js';
import type { LeaderReply } from './partition-leader.js';
import { PartitionLeaders } from './partition-leaders.js';
import { AppendWaiters, partitionKey } from './append-waiters.js';
import { brokerConfigFrom, pageCacheShareBytes, topicLogConfig, type BrokerConfig } from './broker-config.js';
import type { BrokerActorArgs, CommandResult, ControllerCommand, PartitionInfo, ToBroker, ToController } from './cluster-messages.js';
import { Connection } from './connection.js';
import type { CreatePartitionsCommand, CreateTopicCommand, MetadataRecord, PlanResult, TopicState } from './controller-state.js';
import type { BrokerEndpoint, ClusterServices } from './handler.js';
import type { HandlerRegistry } from './handler-registry.js';
import { defaultRegistry } from './handlers/index.js';
import { LogMaintenance } from './log-maintenance.js';
import { MetadataCache, type MetadataSnapshot } from './metadata-cache.js';

const PARTITION_DIRECTORY = /^(.+)-(\d+)$/;
/** How long a stop waits for in-flight requests before cutting the connections. */
export const STOP_DRAIN_MS_MAX = 5_000;

export class BrokerNode implements ClusterServices {
  readonly appendWaiters = new AppendWaiters();
  readonly config: BrokerConfig;
  readonly groups: BrokerGroups;
  readonly leaders: PartitionLeaders;
  brokers: BrokerEndpoint[] = [];
  private cache: MetadataCache | undefined;
  private logDirectory: LogDirectory | undefined;
  private maintenance: LogMaintenance | undefined;
  private server: net.Server | undefined;
  private readonly connections = new Set<Connection>();
  private readonly registry: HandlerRegistry = defaultRegistry();
  private readonly pending = new PendingReplies<CommandResult>();
  private stopping: Promise<boolean> | undefined;

  constructor(
    private readonly args: BrokerActorArgs,
    private readonly send: (body: ToController) => Promise<void>,
    readonly log: Logger,
    actor: Pick<ActorContext, 'spawnChild' | 'stopChild' | 'send'>,
  ) {
    this.config = brokerConfigFrom(Object.entries(args.settings));
    const node = this;
    this.groups = new BrokerGroups({
      nodeId: args.nodeId,
      config: this.config,
      get controller() {
        return node.controller;
      },
      get brokers() {
        return node.brokers;
      },
      log,
      createTopic: (command) => this.createTopic(command),
      appendRecords: (topic, partition, records) => this.appendRecords(topic, partition, records),
      spawnChild: (factory, childArgs) => actor.spawnChild(factory, childArgs),
      stopChild: (id) => actor.stopChild(id),
      send: (to, body) => actor.send(to, body),
    });
    this.leaders = new PartitionLeaders({
      appendWaiters: this.appendWaiters,
      retentionCheckIntervalMs: this.config.logRetentionCheckIntervalMs,
      cleanerBackoffMs: this.config.logCleanerBackoffMs,
      spawnChild: (factory, childArgs) => actor.spawnChild(factory, childArgs),
      stopChild: (id) => actor.stopChild(id),
      send: (to, body) => actor.send(to, body),
    });
  }

  get nodeId(): number {
    return this.args.nodeId;
  }

  get controller(): MetadataCache {
    if (!this.cache) throw new Error('broker has no metadata yet');
    return this.cache;
  }

  get logs(): LogDirectory {
    if (!this.logDirectory) throw new Error('broker has not opened its logs yet');
    return this.logDirectory;
  }

  /** Listens on the broker's port; connections are refused until the metadata arrives. */
  async listen(): Promise<BrokerEndpoint> {
    // Paused: the connection chooses the buffers its reads go into before the first (socket-reads.ts).
    const server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.args.port, host: this.args.bindHost }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.log.error({ err: error }, 'listener error'));
    return { nodeId: this.nodeId, host: this.args.advertisedHost, port: (server.address() as net.AddressInfo).port };
  }

  welcome(snapshot: MetadataSnapshot, brokers: readonly BrokerEndpoint[]): void {
    this.brokers = [...brokers];
    if (this.cache) return; // a second welcome (re-registration) changes nothing already applied
    const cache = new MetadataCache(snapshot);
    this.cache = cache;
    const share = pageCacheShareBytes(this.config, this.args.brokerCount);
    const logs = new LogDirectory({
      root: this.args.logDirectory,
      log: this.log,
      configFor: (topic) => topicLogConfig(this.config, cache.topic(topic)?.configs ?? {}),
      pageCacheBudget: share > 0 ? new PageCacheBudget(share) : undefined,
      segmentSpareBytes: this.config.segmentSpareEnable ? this.config.logConfig.segmentBytes : 0,
    });
    this.logDirectory = logs;
    if (logs.recoveredFromUncleanStop) this.log.warn({ directory: this.args.logDirectory }, 'previous stop was unclean; logs recovered');
    this.removeLogsOfDeletedTopics();
    for (const topic of cache.topics()) this.openLedPartitions(topic);
    this.maintenance = new LogMaintenance(logs, this.log);
    this.maintenance.start();
  }

  /** Applies records the controller committed, then does what they mean for this broker's logs. */
  async applyRecords(records: readonly MetadataRecord[]): Promise<void> {
    // Records sent before this broker (re)registered are in the snapshot its welcome brings.
    if (!this.cache) return;
    const cache = this.cache;
    for (const record of records) {
      const before = 'name' in record ? cache.topic(record.name) : undefined;
      cache.apply(record);
      switch (record.type) {
        case 'topic-created':
        case 'partitions-created':
        case 'leaders-changed': {
          const topic = cache.topic(record.name);
          if (topic) this.openLedPartitions(topic);
          if (record.type === 'partitions-created') this.groups.topicGrew(record.name);
          break;
        }
        case 'topic-deleted':
          for (let partition = 0; partition < (before?.partitions.length ?? 0); partition++) {
            // Its actors stop first: nothing writes to a log being deleted.
            if (record.name === OFFSETS_TOPIC) await this.groups.forget(partition);
            await this.leaders.forget(record.name, partition);
            if (this.logs.get(record.name, partition)) this.deletePartitionLog(record.name, partition);
            this.appendWaiters.notify(partitionKey(record.name, partition));
          }
          break;
        case 'topic-configs-changed': {
          const config = topicLogConfig(this.config, record.configs);
          const topic = cache.topic(record.name);
          topic?.partitions.forEach((_, partition) => this.leaders.configure(record.name, partition, config));
          break;
        }
        default:
          break;
      }
    }
  }

  inspect(topic: string, partition: number): PartitionInfo | null {
    const log = this.logDirectory?.get(topic, partition);
    if (!log) return null;
    return {
      nodeId: this.nodeId,
      logStartOffset: Number(log.logStartOffset),
      logEndOffset: Number(log.logEndOffset),
      segmentCount: log.segmentCount,
      config: log.config,
    };
  }

  setBrokers(brokers: readonly BrokerEndpoint[]): void {
    this.brokers = [...brokers];
  }

  reply(requestId: number, result: CommandResult): void {
    this.pending.settle(requestId, result);
  }

  // ---- ClusterServices ----------------------------------------------------------------------

  createTopic(command: Omit<CreateTopicCommand, 'topicId'>, validateOnly = false): Promise<CommandResult> {
    return this.request({ op: 'create-topic', command, validateOnly });
  }

  appendRecords(topic: string, partition: number, records: Uint8Array): Promise<AppendResult> {
    return this.leaders.append(topic, partition, records);
  }

  deleteRecords(topic: string, partition: number, offset: number): Promise<number> {
    return this.leaders.deleteRecords(topic, partition, offset);
  }

  partitionLog(topic: TopicState, partition: number): PartitionLog {
    // The directory computes the config (configFor) only when it opens the log, not per request.
    return this.logs.getOrCreate(topic.name, partition);
  }

  deleteTopic(name: string): Promise<PlanResult> {
    return this.request({ op: 'delete-topic', name });
  }

  createPartitions(command: CreatePartitionsCommand, validateOnly = false): Promise<PlanResult> {
    return this.request({ op: 'create-partitions', command, validateOnly });
  }

  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>, validateOnly = false): Promise<PlanResult> {
    return this.request({ op: 'alter-topic-configs', name, configs, validateOnly });
  }

  // ---- stopping -----------------------------------------------------------------------------

  /** Resolves true when the logs were closed cleanly (clean-shutdown marker written). */
  stop(): Promise<boolean> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<boolean> {
    this.maintenance?.stop();
    // Held JoinGroup and SyncGroup requests are answered (NOT_COORDINATOR) before the drain.
    await this.groups.stop();
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    this.appendWaiters.close();
    let timer: NodeJS.Timeout | undefined;
    const drained = Promise.all([...this.connections].map((connection) => connection.drainAndClose()));
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, STOP_DRAIN_MS_MAX)))]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.destroy();
    await closed;
    await this.leaders.stop();
    this.pending.settleAll({ error: 'REQUEST_TIMED_OUT', message: 'broker is stopping' });
    if (!this.logDirectory) return false;
    await this.logDirectory.close();
    this.log.info('broker stopped');
    return true;
  }

  // ---- internals ----------------------------------------------------------------------------

  private request(command: ControllerCommand): Promise<CommandResult> {
    if (this.stopping) return Promise.resolve({ error: 'REQUEST_TIMED_OUT', message: 'broker is stopping' });
    return this.pending.request((requestId) => this.send({ type: 'request', requestId, command }));
  }

  private openLedPartitions(topic: TopicState): void {
    topic.partitions.forEach((assignment, partition) => {
      if (assignment.leader !== this.nodeId) return;
      const log = this.partitionLog(topic, partition);
      if (this.stopping) return;
      this.leaders.lead(topic.name, partition, log);
      this.groups.lead(topic, partition, log);
    });
  }

  private deletePartitionLog(topic: string, partition: number): void {
    try {
      this.logs.delete(topic, partition);
    } catch (error) {
      this.log.error({ err: error, topic, partition }, 'deleting a partition log failed');
    }
  }

  /**
   * Partition directories of topics that the metadata log says were deleted: what a crash in the
   * middle of a DeleteTopics left behind. A directory of a topic the metadata log has never heard
   * of is kept (with a warning): deleting data on a guess is worse than keeping it.
   */
  private removeLogsOfDeletedTopics(): void {
    const cache = this.controller;
    for (const [name] of this.logs.entries()) {
      const match = PARTITION_DIRECTORY.exec(name);
      if (!match) continue;
      const topic = match[1]!;
      const partition = Number(match[2]);
      if (cache.topic(topic)?.partitions[partition]) continue;
      if (cache.state.deletedTopicNames.has(topic)) {
        this.log.info({ topic, partition }, 'removing the log of a deleted topic');
        this.deletePartitionLog(topic, partition);
      } else {
        this.log.warn({ topic, partition, directory: name }, 'partition directory of a topic unknown to the metadata log; left as is');
      }
    }
  }

  private accept(socket: net.Socket): void {
    if (this.stopping || !this.cache) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, {
      nodeId: this.nodeId,
      cluster: this,
      registry: this.registry,
      log: this.log,
      frameBytesMax: this.config.socketRequestMaxBytes,
    });
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }
}

const START_RETRY_MS = 1_000;
/** The broker node each actor of this thread runs, by node id (see 'start'). */
const running = new Map<number, BrokerNode>();

/** The actor around a BrokerNode (ActorSpec factory "brokerActor"; args: BrokerActorArgs). */
export const brokerActor: ActorFactory = (context, init) => {
  const args = init.args as BrokerActorArgs;
  const controller: Address = args.controller;
  const log = context.log.child({ nodeId: args.nodeId });
  const node = new BrokerNode(args, (body) => context.send(controller, body), log, context);
  context.schedule(0, { type: 'start' });
  return {
    async receive(message) {
      const body = message.body as ToBroker | CoordinatorAnswerMessage | LeaderReply | { type: 'start' };
      switch (body.type) {
        case 'start': {
          // After a crash of this actor (not of its thread), the previous instance still holds
          // the port and the logs: stop it first.
          const previous = running.get(args.nodeId);
          if (previous && previous !== node) await previous.stop();
          running.set(args.nodeId, node);
          let endpoint: BrokerEndpoint;
          try {
            endpoint = await node.listen();
          } catch (error) {
            // Reported (so a start fails at once, naming e.g. EADDRINUSE), then retried.
            const reason = error instanceof Error ? error.message : String(error);
            log.error({ err: error }, 'broker could not listen; retrying in 1 s');
            await context.send(controller, { type: 'start-failed', nodeId: args.nodeId, message: reason } satisfies ToController);
            context.schedule(START_RETRY_MS, { type: 'start' });
            break;
          }
          await context.send(controller, { type: 'register', endpoint } satisfies ToController);
          break;
        }
        case 'welcome':
          node.welcome(body.snapshot, body.brokers);
          break;
        case 'brokers':
          node.setBrokers(body.brokers);
          break;
        case 'records':
          await node.applyRecords(body.records);
          await context.send(controller, { type: 'applied', nodeId: args.nodeId, seq: body.seq } satisfies ToController);
          break;
        case 'reply':
          node.reply(body.requestId, body.result);
          break;
        case 'answer':
          node.groups.answer(body.requestId, body.answer);
          break;
        case 'leader-reply':
          node.leaders.reply(body.requestId, body.outcome);
          break;
        case 'inspect':
          await context.send(message.from, { type: 'inspected', inspectId: body.inspectId, info: node.inspect(body.topic, body.partition) } satisfies ToController);
          break;
        case 'stop': {
          // Not awaited here: in-flight admin requests still need their replies (messages).
          const from = message.from;
          void node.stop().then(
            (clean) => context.send(from, { type: 'stopped', nodeId: args.nodeId, clean } satisfies ToController),
            (error: unknown) => {
              log.error({ err: error }, 'stopping the broker failed');
              return context.send(from, { type: 'stopped', nodeId: args.nodeId, clean: false } satisfies ToController);
            },
          );
          break;
        }
      }
    },
    async stop() {
      await node.stop();
    },
  };
};
