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
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
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

export class Controller {
  /** Applies committed records and indexes topics by id, as each broker's cache does. */
  private readonly metadata = new MetadataCache();
  private fd: number | undefined;

  private constructor(readonly file: string, readonly brokerCount: number, private readonly log?: Logger) {}

  /** Replays the metadata log (creating it on first start) and moves orphaned leaders. */
  static open(dataDirectory: string, brokerCount: number, log?: Logger): Controller {
    const controller = new Controller(path.join(dataDirectory, METADATA_LOG_FILE), brokerCount, log);
    controller.replay();
    if (controller.state.clusterId === undefined) controller.commit([{ type: 'cluster-created', clusterId: randomUuid() }]);
    const moves = planReassignMissingLeaders(controller.state, brokerCount);
    if (moves.length > 0) {
      log?.info({ topics: moves.length, brokerCount }, 'moving leaders of partitions whose broker no longer exists');
      controller.commit(moves);
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

  /** Validates and, unless `validateOnly`, durably creates a topic. */
  createTopic(command: Omit<CreateTopicCommand, 'topicId'>, validateOnly = false): PlanResult & { topic?: TopicState } {
    const plan = planCreateTopic(this.state, { ...command, topicId: randomUuid() }, this.brokerCount);
    if ('error' in plan || validateOnly) return plan;
    this.commit(plan.records);
    return { ...plan, topic: this.metadata.topic(command.name)! };
  }

  /** Durably removes a topic from the metadata (its logs are the caller's to delete). */
  deleteTopic(name: string): PlanResult {
    return this.carryOut(planDeleteTopic(this.state, name), false);
  }

  /** Validates and, unless `validateOnly`, durably adds partitions to a topic. */
  createPartitions(command: CreatePartitionsCommand, validateOnly = false): PlanResult {
    return this.carryOut(planCreatePartitions(this.state, command, this.brokerCount), validateOnly);
  }

  /** Replaces a topic's explicit configs (already validated by the caller). */
  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>, validateOnly = false): PlanResult {
    return this.carryOut(planAlterTopicConfigs(this.state, name, configs), validateOnly);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private carryOut(plan: PlanResult, validateOnly: boolean): PlanResult {
    if ('records' in plan && !validateOnly) this.commit(plan.records);
    return plan;
  }

  /** Writes and fsyncs the records, then applies them. */
  private commit(records: MetadataRecord[]): void {
    const text = records.map((record) => JSON.stringify(record) + '\n').join('');
    this.fd ??= openSync(this.file, 'a');
    writeSync(this.fd, text);
    fsyncSync(this.fd);
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
