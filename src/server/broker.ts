/**
 * The brokers of one process: B listeners on ports base..base+B-1, broker i on base+i, sharing
 * one data directory, one controller (topic metadata) and one LogDirectory.
 *
 *   client --TCP--> listener i (nodeId i) --Connection--> handlers --> controller / partition logs
 *
 * Each partition is led by one broker (round robin at creation); a request for a partition sent
 * to another broker gets NOT_LEADER_OR_FOLLOWER, exactly as from a real cluster, so clients
 * route by the Metadata they are given.
 *
 * This first slice runs every listener on the main thread and reaches the logs directly. The
 * next step moves each broker onto its own worker thread (src/runtime ThreadRuntime), with one
 * partition-leader actor per partition owning its PartitionLog and the controller as an actor
 * of its own; the handlers then send messages to those actors instead of calling the log.
 */
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import { LogDirectory } from '../log/log-directory.js';
import type { LogConfig } from '../log/log-config.js';
import type { PartitionLog } from '../log/partition-log.js';
import { createLogger } from '../runtime/logger.js';
import { AppendWaiters, partitionKey } from './append-waiters.js';
import { DEFAULT_BROKER_CONFIG, topicLogConfig, type BrokerConfig } from './broker-config.js';
import { Connection } from './connection.js';
import { Controller } from './controller.js';
import type { CreatePartitionsCommand, CreateTopicCommand, PlanResult, TopicState } from './controller-state.js';
import type { BrokerEndpoint, ClusterServices } from './handler.js';
import type { HandlerRegistry } from './handler-registry.js';
import { defaultRegistry } from './handlers/index.js';
import { LogMaintenance } from './log-maintenance.js';

export interface BrokerOptions {
  readonly dataDirectory: string;
  readonly brokerCount: number;
  /** Port of broker 0; broker i listens on port + i. 0: every broker on a free port (tests). */
  readonly port: number;
  /** Host name advertised in Metadata. Default: localhost. */
  readonly advertisedHost?: string;
  /** Address to listen on. Default: every interface. */
  readonly bindHost?: string;
  readonly config?: BrokerConfig;
  readonly log?: Logger;
  readonly registry?: HandlerRegistry;
}

/** A partition log's directory name, "<topic>-<partition>" (as LogDirectory names them). */
const PARTITION_DIRECTORY = /^(.+)-(\d+)$/;

/** How long a stop waits for in-flight requests before cutting the connections. */
export const STOP_DRAIN_MS_MAX = 5_000;

export class Broker implements ClusterServices {
  readonly appendWaiters = new AppendWaiters();
  brokers: BrokerEndpoint[] = [];
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<Connection>();
  private readonly registry: HandlerRegistry;
  private readonly maintenance: LogMaintenance;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: BrokerOptions,
    readonly config: BrokerConfig,
    readonly controller: Controller,
    readonly logs: LogDirectory,
    readonly log: Logger,
  ) {
    this.registry = options.registry ?? defaultRegistry();
    this.maintenance = new LogMaintenance(logs, config, log);
  }

  static async start(options: BrokerOptions): Promise<Broker> {
    const config = options.config ?? DEFAULT_BROKER_CONFIG;
    const log = options.log ?? createLogger('samsa');
    if (!Number.isInteger(options.brokerCount) || options.brokerCount < 1) throw new Error(`--brokers must be at least 1, got ${options.brokerCount}`);
    mkdirSync(options.dataDirectory, { recursive: true });
    const controller = Controller.open(options.dataDirectory, options.brokerCount, log);
    const logs = new LogDirectory({
      root: options.dataDirectory,
      log,
      configFor: (topic) => topicLogConfig(config, controller.topic(topic)?.configs ?? {}),
    });
    if (logs.recoveredFromUncleanStop) log.warn({ dataDirectory: options.dataDirectory }, 'previous stop was unclean; logs recovered');
    const broker = new Broker(options, config, controller, logs, log);
    broker.removeLogsOfDeletedTopics();
    for (const topic of controller.topics()) topic.partitions.forEach((_, partition) => broker.partitionLog(topic, partition));
    try {
      await broker.listen();
    } catch (error) {
      await broker.stop();
      throw error;
    }
    broker.maintenance.start();
    return broker;
  }

  createTopic(command: Omit<CreateTopicCommand, 'topicId'>, validateOnly = false): PlanResult & { topic?: TopicState } {
    const result = this.controller.createTopic(command, validateOnly);
    if (result.topic) result.topic.partitions.forEach((_, partition) => this.partitionLog(result.topic!, partition));
    return result;
  }

  partitionLog(topic: TopicState, partition: number): PartitionLog {
    return this.logs.getOrCreate(topic.name, partition, topicLogConfig(this.config, topic.configs));
  }

  /**
   * The metadata record comes first: once it is durable the topic is gone for every client, and
   * a crash before the directories are removed is finished at the next start
   * (removeLogsOfDeletedTopics). Fetches waiting on the partitions wake up and find them gone.
   */
  deleteTopic(name: string): PlanResult {
    const topic = this.controller.topic(name);
    const result = this.controller.deleteTopic(name);
    if ('error' in result || !topic) return result;
    topic.partitions.forEach((_, partition) => {
      this.deletePartitionLog(name, partition);
      this.appendWaiters.notify(partitionKey(name, partition));
    });
    return result;
  }

  createPartitions(command: CreatePartitionsCommand, validateOnly = false): PlanResult {
    const result = this.controller.createPartitions(command, validateOnly);
    if ('error' in result || validateOnly) return result;
    const topic = this.controller.topic(command.name)!;
    topic.partitions.forEach((_, partition) => this.partitionLog(topic, partition));
    return result;
  }

  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>, validateOnly = false): PlanResult {
    const planned = this.controller.alterTopicConfigs(name, configs, true);
    if ('error' in planned) return planned;
    let logConfig: LogConfig;
    try {
      logConfig = topicLogConfig(this.config, configs);
    } catch (error) {
      return { error: 'INVALID_CONFIG', message: (error as Error).message };
    }
    if (validateOnly) return planned;
    const result = this.controller.alterTopicConfigs(name, configs);
    this.controller.topic(name)!.partitions.forEach((_, partition) => {
      const log = this.logs.get(name, partition);
      if (log) log.config = logConfig;
    });
    return result;
  }

  private deletePartitionLog(topic: string, partition: number): void {
    try {
      this.logs.delete(topic, partition);
    } catch (error) {
      // The topic is already gone from the metadata; the next start removes what is left.
      this.log.error({ err: error, topic, partition }, 'deleting a partition log failed');
    }
  }

  /**
   * Partition directories of topics that the metadata log says were deleted: what a crash in the
   * middle of a DeleteTopics left behind. A directory of a topic the metadata log has never heard
   * of is kept (with a warning): deleting data on a guess is worse than keeping it.
   */
  private removeLogsOfDeletedTopics(): void {
    for (const [name] of this.logs.entries()) {
      const match = PARTITION_DIRECTORY.exec(name);
      if (!match) continue;
      const topic = match[1]!;
      const partition = Number(match[2]);
      if (this.controller.topic(topic)?.partitions[partition]) continue;
      if (this.controller.state.deletedTopicNames.has(topic)) {
        this.log.info({ topic, partition }, 'removing the log of a deleted topic');
        this.deletePartitionLog(topic, partition);
      } else {
        this.log.warn({ topic, partition, directory: name }, 'partition directory of a topic unknown to the metadata log; left as is');
      }
    }
  }

  /**
   * Stops accepting connections, answers what is in flight (waiting fetches answer at once),
   * closes the connections, then flushes and closes the logs, which writes the clean-shutdown
   * marker so the next start skips recovery.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    this.maintenance.stop();
    const closed = this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    this.appendWaiters.close();
    let timer: NodeJS.Timeout | undefined;
    const drained = Promise.all([...this.connections].map((connection) => connection.drainAndClose()));
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, STOP_DRAIN_MS_MAX)))]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.destroy();
    await Promise.all(closed);
    await this.logs.close();
    this.controller.close();
    this.log.info('stopped');
  }

  private async listen(): Promise<void> {
    const host = this.options.advertisedHost ?? 'localhost';
    for (let nodeId = 0; nodeId < this.options.brokerCount; nodeId++) {
      const server = net.createServer((socket) => this.accept(socket, nodeId));
      this.servers.push(server);
      const port = this.options.port === 0 ? 0 : this.options.port + nodeId;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: this.options.bindHost }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (error) => this.log.error({ err: error, nodeId }, 'listener error'));
      this.brokers.push({ nodeId, host, port: (server.address() as net.AddressInfo).port });
    }
  }

  private accept(socket: net.Socket, nodeId: number): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, {
      nodeId,
      cluster: this,
      registry: this.registry,
      log: this.log.child({ nodeId }),
      frameBytesMax: this.config.socketRequestMaxBytes,
    });
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }
}
