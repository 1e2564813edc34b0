/**
 * The controller: owns topic metadata. It wraps the pure state machine (controller-state.ts)
 * with a durable metadata log, one JSON record a line, in the data directory:
 *
 *   data/samsa-metadata.jsonl
 *     {"type":"cluster-created","clusterId":"q1Wd..."}
 *     {"type":"topic-created","name":"orders","topicId":"x8f...","leaders":[0,1,0],"configs":{}}
 *     {"type":"partitions-created","name":"orders","leaders":[1,0]}
 *     {"type":"topic-configs-changed","name":"orders","configs":{"retention.ms":"3600000"}}
 *     {"type":"topic-deleted","name":"orders","topicId":"x8f..."}
 *
 * Each record is written and fsynced before it is applied, so a restart that replays the file
 * finds every topic that a client was told exists. A crash in the middle of a write leaves a
 * torn last line, which is dropped (and cut off) at start: that record was never acknowledged.
 * (The name does not look like "<topic>-<partition>", so LogDirectory leaves the file alone.)
 *
 * The write and the fsync run on the libuv thread pool: with a busy page cache an fsync takes
 * hundreds of milliseconds (the journal commits everything dirty), and the controller shares the
 * main thread with every other main-thread actor. The controller actor takes one command at a
 * time, so commits never overlap. If a write or fsync fails the file's state is unknown (the
 * record may be on disk, unapplied): like Kafka's controller, this one then commits nothing more,
 * and every later change is refused with KAFKA_STORAGE_ERROR until a restart replays the file.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, closeSync, existsSync, fsync, fsyncSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { uuidFromBytes } from '../protocol/uuid.js';
import {
  planAlterTopicConfigs, planCreatePartitions, planCreateTopic, planDeleteTopic, planReassignMissingLeaders,
  type ControllerState, type CreatePartitionsCommand, type CreateTopicCommand, type MetadataRecord, type PlanResult, type TopicState,
} from './controller-state.js';
import { MetadataCache } from './metadata-cache.js';

export const METADATA_LOG_FILE = 'samsa-metadata.jsonl';

/** The controller is not a separate node yet; broker 0 stands for it (Metadata, DescribeCluster). */
export const CONTROLLER_NODE_ID = 0;

/** A random Kafka uuid; like Kafka's Uuid.randomUuid, never one starting with '-'. */
function randomUuid(): string {
  for (;;) {
    const uuid = uuidFromBytes(randomBytes(16));
    if (!uuid.startsWith('-') && uuid !== 'AAAAAAAAAAAAAAAAAAAAAA' && uuid !== 'AAAAAAAAAAAAAAAAAAAAAQ') return uuid;
  }
}

/** How the controller makes its records durable: append the bytes to the file, then fsync it. */
export interface MetadataFileIo {
  append(fd: number, bytes: Buffer): Promise<void>;
  fsync(fd: number): Promise<void>;
}

/** Both on the libuv thread pool, off the calling thread (appendFile writes all of the bytes). */
export const nodeMetadataFileIo: MetadataFileIo = {
  append: (fd, bytes) => new Promise((resolve, reject) => appendFile(fd, bytes, (error) => (error ? reject(error) : resolve()))),
  fsync: (fd) => new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve()))),
};

export class Controller {
  /** Applies committed records and indexes topics by id, as each broker's cache does. */
  private readonly metadata = new MetadataCache();
  private fd: number | undefined;
  /** The commit in progress, which close() waits for. */
  private committing: Promise<void> | undefined;
  /** Set when a write or fsync of the metadata log failed: nothing more is committed. */
  private failure: Error | undefined;

  private constructor(readonly file: string, readonly brokerCount: number, private readonly log: Logger | undefined, private readonly io: MetadataFileIo) {}

  /** Replays the metadata log (creating it on first start) and moves orphaned leaders. */
  static async open(dataDirectory: string, brokerCount: number, log?: Logger, io: MetadataFileIo = nodeMetadataFileIo): Promise<Controller> {
    const controller = new Controller(path.join(dataDirectory, METADATA_LOG_FILE), brokerCount, log, io);
    controller.replay();
    if (controller.state.clusterId === undefined) await controller.commitOrThrow([{ type: 'cluster-created', clusterId: randomUuid() }]);
    const moves = planReassignMissingLeaders(controller.state, brokerCount);
    if (moves.length > 0) {
      log?.info({ topics: moves.length, brokerCount }, 'moving leaders of partitions whose broker no longer exists');
      await controller.commitOrThrow(moves);
    }
    return controller;
  }

  get state(): ControllerState {
    return this.metadata.state;
  }

  get clusterId(): string {
    return this.metadata.clusterId;
  }

  topic(name: string): TopicState | undefined {
    return this.metadata.topic(name);
  }

  topicById(topicId: string): TopicState | undefined {
    return this.metadata.topicById(topicId);
  }

  topics(): IterableIterator<TopicState> {
    return this.metadata.topics();
  }

  /**
   * Validates and, unless `validateOnly`, durably creates a topic. Callers must not overlap
   * changes (the controller actor takes one message at a time): each plans on the state the
   * previous one left.
   */
  async createTopic(command: Omit<CreateTopicCommand, 'topicId'>, validateOnly = false): Promise<PlanResult & { topic?: TopicState }> {
    const plan = planCreateTopic(this.state, { ...command, topicId: randomUuid() }, this.brokerCount);
    if ('error' in plan || validateOnly) return plan;
    const committed = await this.commit(plan);
    if ('error' in committed) return committed;
    return { ...plan, topic: this.metadata.topic(command.name)! };
  }

  /** Durably removes a topic from the metadata (its logs are the caller's to delete). */
  deleteTopic(name: string): Promise<PlanResult> {
    return this.carryOut(planDeleteTopic(this.state, name), false);
  }

  /** Validates and, unless `validateOnly`, durably adds partitions to a topic. */
  createPartitions(command: CreatePartitionsCommand, validateOnly = false): Promise<PlanResult> {
    return this.carryOut(planCreatePartitions(this.state, command, this.brokerCount), validateOnly);
  }

  /** Replaces a topic's explicit configs (already validated by the caller). */
  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>, validateOnly = false): Promise<PlanResult> {
    return this.carryOut(planAlterTopicConfigs(this.state, name, configs), validateOnly);
  }

  /** Closes the file once the commit in progress, if any, has finished. */
  async close(): Promise<void> {
    await this.committing?.catch(() => undefined);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private async carryOut(plan: PlanResult, validateOnly: boolean): Promise<PlanResult> {
    if ('error' in plan || validateOnly) return plan;
    return this.commit(plan);
  }

  /** Writes and fsyncs the records, then applies them; a failed disk answers KAFKA_STORAGE_ERROR. */
  private async commit(plan: PlanResult & { records: MetadataRecord[] }): Promise<PlanResult> {
    if (this.failure) return { error: 'KAFKA_STORAGE_ERROR', message: `the metadata log is offline: ${this.failure.message}` };
    try {
      await this.commitOrThrow(plan.records);
      return plan;
    } catch (error) {
      this.failure = error as Error;
      this.log?.error({ file: this.file, err: error }, 'metadata log write failed; no more topic changes until a restart');
      return { error: 'KAFKA_STORAGE_ERROR', message: `writing the metadata log failed: ${(error as Error).message}` };
    }
  }

  private async commitOrThrow(records: MetadataRecord[]): Promise<void> {
    const bytes = Buffer.from(records.map((record) => JSON.stringify(record) + '\n').join(''));
    this.fd ??= openSync(this.file, 'a');
    const fd = this.fd;
    this.committing = (async () => {
      await this.io.append(fd, bytes);
      await this.io.fsync(fd);
    })();
    try {
      await this.committing;
    } finally {
      this.committing = undefined;
    }
    for (const record of records) this.metadata.apply(record);
  }

  private replay(): void {
    if (!existsSync(this.file)) return;
    const bytes = readFileSync(this.file);
    let position = 0;
    while (position < bytes.byteLength) {
      const end = bytes.indexOf(0x0a, position);
      let record: MetadataRecord | undefined;
      if (end >= 0) {
        try {
          record = JSON.parse(bytes.subarray(position, end).toString('utf8')) as MetadataRecord;
        } catch {
          record = undefined;
        }
      }
      if (!record) break;
      this.metadata.apply(record);
      position = end + 1;
    }
    if (position < bytes.byteLength) {
      this.log?.warn({ file: this.file, droppedBytes: bytes.byteLength - position }, 'metadata log has a torn or unreadable tail; cutting it off');
      const fd = openSync(this.file, 'r+');
      try {
        ftruncateSync(fd, position);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
}
