/**
 * The threaded cluster that `samsa start` runs: one process, B brokers, one broker per worker
 * thread, and the controller on the main thread.
 *
 *   main thread (ThreadRuntime supervisor, thread 0)
 *     controller actor: owns topic metadata, writes data/samsa-metadata.jsonl (controller.ts)
 *       |  rings (msgpackr envelopes): register/welcome, request/records/applied/reply, stop
 *   worker thread i+1: broker actor i (broker-actor.ts)
 *     listener on base port + i, connections, handlers, metadata cache,
 *     logs of the partitions broker i leads, in data/broker-<i>/ (its own LogDirectory)
 *
 * A worker that dies is restarted by the runtime, which starts its broker actor again: it
 * listens again, reopens (and recovers) its logs and registers with the controller, which sends
 * it the metadata afresh.
 *
 * Data directory layout: the metadata log at the root, one LogDirectory per broker under
 * broker-<i>/ (each with its own clean-shutdown marker and checkpoints). A clean stop of every
 * broker also writes the root's .samsa-clean-shutdown (removed at start), so "was the last stop
 * clean" can still be read at the root. At start, partition directories are put under the
 * broker that leads them: from the root (the single-thread layout) or from another broker's
 * directory (a restart with fewer brokers moved the leader). A moved log is recovered (its new
 * directory loses its clean marker), and it loses its checkpointed log start offset. At the
 * root, a directory of a deleted topic is removed; one of an unknown topic is left with a warning.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { CLEAN_SHUTDOWN_FILE } from '../log/log-directory.js';
import type { ActorFactory, Address } from '../runtime/actor.js';
import { createLogger } from '../runtime/logger.js';
import { PendingReplies } from '../runtime/pending-replies.js';
import { ThreadRuntime } from '../runtime/thread-runtime.js';
import { DEFAULT_BROKER_CONFIG, topicLogConfig, type BrokerConfig } from './broker-config.js';
import { brokerDirectoryName, type BrokerActorArgs, type CommandResult, type ControllerCommand, type PartitionInfo, type ToBroker, type ToController } from './cluster-messages.js';
import { Controller } from './controller.js';
import type { MetadataRecord } from './controller-state.js';
import type { BrokerEndpoint } from './handler.js';
import { snapshotOf } from './metadata-cache.js';

export interface ClusterOptions {
  readonly dataDirectory: string;
  readonly brokerCount: number;
  /** Port of broker 0; broker i listens on port + i. 0: every broker on a free port (tests). */
  readonly port: number;
  readonly advertisedHost?: string;
  readonly bindHost?: string;
  readonly config?: BrokerConfig;
  readonly log?: Logger;
  /** How long to wait for every broker to register at start. */
  readonly startTimeoutMs?: number;
}

const PARTITION_DIRECTORY = /^(.+)-(\d+)$/;
const BROKER_DIRECTORY = /^broker-(\d+)$/;
/** A broker that does not ack a metadata change within this is not waited for (it re-registers). */
const APPLY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 15_000;
/** A broker that does not answer an inspection within this counts as not having the partition. */
const INSPECT_TIMEOUT_MS = 5_000;

interface PendingChange {
  readonly waiting: Set<number>;
  readonly done: () => void;
  readonly timer: NodeJS.Timeout;
}

export class Cluster {
  brokers: BrokerEndpoint[] = [];
  readonly brokerAddresses: Address[] = [];
  private readonly registered = new Map<number, { address: Address; endpoint: BrokerEndpoint }>();
  private readonly changes = new Map<number, PendingChange>();
  private readonly stopped = new Map<number, boolean>();
  private nextSeq = 1;
  private readonly inspections = new PendingReplies<PartitionInfo | null>();
  private controllerAddress: Address = 0;
  private allRegistered: (() => void) | undefined;
  private startFailed: ((error: Error) => void) | undefined;
  private allStopped: (() => void) | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: ClusterOptions,
    readonly config: BrokerConfig,
    readonly controller: Controller,
    readonly runtime: ThreadRuntime,
    readonly log: Logger,
  ) {}

  static async start(options: ClusterOptions): Promise<Cluster> {
    const config = options.config ?? DEFAULT_BROKER_CONFIG;
    const log = options.log ?? createLogger('samsa');
    const { brokerCount, dataDirectory } = options;
    if (!Number.isInteger(brokerCount) || brokerCount < 1) throw new Error(`--brokers must be at least 1, got ${brokerCount}`);
    mkdirSync(dataDirectory, { recursive: true });
    const controller = await Controller.open(dataDirectory, brokerCount, log);
    arrangeBrokerDirectories(dataDirectory, controller, log);
    const rootMarker = path.join(dataDirectory, CLEAN_SHUTDOWN_FILE);
    if (existsSync(rootMarker)) unlinkSync(rootMarker);
    const runtime = await ThreadRuntime.start({ workers: brokerCount, log });
    const cluster = new Cluster(options, config, controller, runtime, log);
    runtime.on('workerRestarted', (thread, reason) => log.warn({ nodeId: thread - 1, reason }, 'broker thread restarted'));
    try {
      await cluster.startBrokers();
    } catch (error) {
      await runtime.close();
      await controller.close();
      throw error;
    }
    return cluster;
  }

  /**
   * Tells every broker to stop (stop accepting, answer in-flight requests, close its logs with
   * their clean-shutdown marker), then writes the root marker if all were clean, then stops the
   * threads.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  /**
   * The log of a partition as the broker that has it open sees it; undefined if none has (a
   * broker that does not answer within INSPECT_TIMEOUT_MS counts as not having it).
   */
  async partitionInfo(topic: string, partition: number): Promise<PartitionInfo | undefined> {
    const ask = (address: Address): Promise<PartitionInfo | null> => {
      let timer: NodeJS.Timeout | undefined;
      return this.inspections.request((inspectId) => {
        timer = setTimeout(() => this.inspections.settle(inspectId, null), INSPECT_TIMEOUT_MS);
        return this.runtime.sendAs(this.controllerAddress, address, { type: 'inspect', inspectId, topic, partition } satisfies ToBroker);
      }).catch(() => null).finally(() => clearTimeout(timer));
    };
    const answers = await Promise.all([...this.registered.values()].map(({ address }) => ask(address)));
    return answers.find((info) => info !== null) ?? undefined;
  }

  private async startBrokers(): Promise<void> {
    this.controllerAddress = this.runtime.spawnLocal(this.controllerActor, undefined, { mailboxCapacity: 1 << 16 });
    const registered = new Promise<void>((resolve, reject) => {
      this.allRegistered = resolve;
      this.startFailed = reject;
    });
    // A broker may fail to start while later ones are still being spawned, before anything
    // awaits this: the rejection is handled below, not an unhandled one meanwhile.
    registered.catch(() => undefined);
    const moduleUrl = new URL(`./broker-actor${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;
    for (let nodeId = 0; nodeId < this.options.brokerCount; nodeId++) {
      const args: BrokerActorArgs = {
        nodeId,
        port: this.options.port === 0 ? 0 : this.options.port + nodeId,
        advertisedHost: this.options.advertisedHost ?? 'localhost',
        bindHost: this.options.bindHost,
        logDirectory: path.join(this.options.dataDirectory, brokerDirectoryName(nodeId)),
        settings: this.config.settings,
        controller: this.controllerAddress,
        brokerCount: this.options.brokerCount,
      };
      this.brokerAddresses.push(await this.runtime.spawn({ module: moduleUrl, factory: 'brokerActor', args, restart: 'permanent' }, { thread: nodeId + 1 }));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`brokers did not start within ${timeoutMs} ms (see the log for why)`)), timeoutMs);
    });
    try {
      await Promise.race([registered, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async stopNow(): Promise<void> {
    const expected = [...this.registered.keys()];
    const allStopped = new Promise<void>((resolve) => (this.allStopped = resolve));
    for (const nodeId of expected) await this.runtime.sendAs(this.controllerAddress, this.registered.get(nodeId)!.address, { type: 'stop' } satisfies ToBroker);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allStopped, new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    const clean = expected.length === this.options.brokerCount && expected.every((nodeId) => this.stopped.get(nodeId) === true);
    if (clean) writeFileSync(path.join(this.options.dataDirectory, CLEAN_SHUTDOWN_FILE), '');
    else this.log.warn({ stopped: Object.fromEntries(this.stopped) }, 'not every broker stopped cleanly');
    await this.runtime.close();
    await this.controller.close();
    this.log.info('stopped');
  }

  // ---- the controller actor (main thread) ---------------------------------------------------

  private readonly controllerActor: ActorFactory = (context) => ({
    receive: async (message) => {
      const body = message.body as ToController;
      switch (body.type) {
        case 'register': {
          this.registered.set(body.endpoint.nodeId, { address: message.from, endpoint: body.endpoint });
          // A broker that registers again (its thread restarted) gets everything in the snapshot.
          for (const [seq, change] of this.changes) this.acknowledge(seq, change, body.endpoint.nodeId);
          this.brokers = [...this.registered.values()].map((entry) => entry.endpoint).sort((a, b) => a.nodeId - b.nodeId);
          await context.send(message.from, { type: 'welcome', snapshot: snapshotOf(this.controller.state), brokers: this.brokers } satisfies ToBroker);
          for (const [nodeId, entry] of this.registered) {
            if (nodeId !== body.endpoint.nodeId) await context.send(entry.address, { type: 'brokers', brokers: this.brokers } satisfies ToBroker);
          }
          if (this.registered.size === this.options.brokerCount) {
            this.allRegistered?.();
            this.startFailed = undefined;
          }
          break;
        }
        case 'start-failed':
          this.log.error({ nodeId: body.nodeId, reason: body.message }, 'broker could not start');
          this.startFailed?.(new Error(`broker ${body.nodeId}: ${body.message}`));
          break;
        case 'applied': {
          const change = this.changes.get(body.seq);
          if (change) this.acknowledge(body.seq, change, body.nodeId);
          break;
        }
        case 'request': {
          const result = await this.carryOut(body.command);
          const reply = (): Promise<void> => context.send(message.from, { type: 'reply', requestId: body.requestId, result } satisfies ToBroker);
          if ('error' in result || result.records.length === 0 || isValidateOnly(body.command)) {
            await reply();
            break;
          }
          await this.broadcast(result.records, () => void reply(), (to, records) => context.send(to, records));
          break;
        }
        case 'inspected':
          this.inspections.settle(body.inspectId, body.info);
          break;
        case 'stopped':
          this.stopped.set(body.nodeId, body.clean);
          if (this.stopped.size >= this.registered.size) this.allStopped?.();
          break;
      }
    },
  });

  /** Plans and (unless validate-only) commits a command; the records are durable when it settles. */
  private async carryOut(command: ControllerCommand): Promise<CommandResult> {
    switch (command.op) {
      case 'create-topic':
        return this.controller.createTopic(command.command, command.validateOnly);
      case 'delete-topic':
        return this.controller.deleteTopic(command.name);
      case 'create-partitions':
        return this.controller.createPartitions(command.command, command.validateOnly);
      case 'alter-topic-configs': {
        const planned = await this.controller.alterTopicConfigs(command.name, command.configs, true);
        if ('error' in planned) return planned;
        try {
          topicLogConfig(this.config, command.configs);
        } catch (error) {
          return { error: 'INVALID_CONFIG', message: (error as Error).message };
        }
        if (command.validateOnly) return planned;
        return this.controller.alterTopicConfigs(command.name, command.configs);
      }
    }
  }

  /** Pushes committed records to every registered broker; `done` once all applied them. */
  private async broadcast(records: readonly MetadataRecord[], done: () => void, send: (to: Address, body: ToBroker) => Promise<void>): Promise<void> {
    const seq = this.nextSeq++;
    const waiting = new Set(this.registered.keys());
    const timer = setTimeout(() => {
      const change = this.changes.get(seq);
      if (!change) return;
      this.log.warn({ seq, brokers: [...change.waiting] }, 'brokers did not apply a metadata change in time; answering anyway');
      this.changes.delete(seq);
      change.done();
    }, APPLY_TIMEOUT_MS);
    timer.unref();
    this.changes.set(seq, { waiting, done, timer });
    for (const entry of this.registered.values()) await send(entry.address, { type: 'records', seq, records });
  }

  private acknowledge(seq: number, change: PendingChange, nodeId: number): void {
    change.waiting.delete(nodeId);
    if (change.waiting.size > 0) return;
    clearTimeout(change.timer);
    this.changes.delete(seq);
    change.done();
  }
}

function isValidateOnly(command: ControllerCommand): boolean {
  return 'validateOnly' in command && command.validateOnly;
}

/**
 * Puts every partition directory under the broker that leads it (see the header comment). A
 * directory whose topic the metadata log does not know is left where it is.
 */
function arrangeBrokerDirectories(dataDirectory: string, controller: Controller, log: Logger): void {
  const rootClean = existsSync(path.join(dataDirectory, CLEAN_SHUTDOWN_FILE));
  const move = (from: string, name: string, fromClean: boolean): void => {
    const match = PARTITION_DIRECTORY.exec(name);
    if (!match) return;
    const leader = controller.topic(match[1]!)?.partitions[Number(match[2])]?.leader;
    if (leader === undefined) {
      // Brokers clean up their own directories; the root is left to this function.
      if (from !== dataDirectory) return;
      if (controller.state.deletedTopicNames.has(match[1]!)) {
        log.info({ directory: path.join(from, name) }, 'removing the log of a deleted topic');
        rmSync(path.join(from, name), { recursive: true, force: true });
      } else {
        log.warn({ directory: path.join(from, name) }, 'partition directory of a topic unknown to the metadata log; left as is');
      }
      return;
    }
    const targetDirectory = path.join(dataDirectory, brokerDirectoryName(leader));
    if (path.resolve(from) === path.resolve(targetDirectory)) return;
    const target = path.join(targetDirectory, name);
    if (existsSync(target)) {
      log.warn({ from: path.join(from, name), to: target }, 'a partition directory exists under two brokers; left as is');
      return;
    }
    mkdirSync(targetDirectory, { recursive: true });
    renameSync(path.join(from, name), target);
    // The moved log's checkpoints stay behind: unless its source was clean, recover it.
    if (!fromClean) rmSync(path.join(targetDirectory, CLEAN_SHUTDOWN_FILE), { force: true });
    log.info({ from: path.join(from, name), to: target }, 'partition directory moved to its leader');
  };
  for (const name of readdirSync(dataDirectory)) {
    const full = path.join(dataDirectory, name);
    if (!statSync(full).isDirectory()) continue;
    if (BROKER_DIRECTORY.test(name)) {
      const clean = existsSync(path.join(full, CLEAN_SHUTDOWN_FILE));
      for (const child of readdirSync(full)) if (statSync(path.join(full, child)).isDirectory()) move(full, child, clean);
    } else {
      move(dataDirectory, name, rootClean);
    }
  }
}
