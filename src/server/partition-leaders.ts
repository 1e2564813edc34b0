/**
 * A broker's partition leader actors (partition-leader.ts), one per partition it leads, started
 * when it starts leading the partition and stopped when the topic goes or the broker stops; and
 * the way handlers reach them: a message from the broker actor, answered by a message back to it
 * (broker-actor.ts hands the replies here).
 */
import type { LogConfig } from '../log/log-config.js';
import type { AppendResult, PartitionLog } from '../log/partition-log.js';
import { KafkaError } from '../protocol/kafka-error.js';
import type { ActorFactory, Address } from '../runtime/actor.js';
import { CpuPool } from '../runtime/cpu-pool.js';
import { PendingReplies } from '../runtime/pending-replies.js';
import { partitionKey, type AppendWaiters } from './append-waiters.js';
import { outcomeError, partitionLeaderActor, type LeaderOutcome, type PartitionLeaderArgs, type ToLeader } from './partition-leader.js';

export interface LeaderHost {
  readonly appendWaiters: AppendWaiters;
  /** log.retention.check.interval.ms */
  readonly retentionCheckIntervalMs: number;
  /** log.cleaner.backoff.ms */
  readonly cleanerBackoffMs: number;
  spawnChild(factory: ActorFactory, args: unknown): Address;
  stopChild(id: Address): Promise<void>;
  send(to: Address, body: unknown): Promise<void>;
}

/** Compaction work of one broker: one pool thread at most, made on first use. */
const CLEANER_THREADS = 1;

export class PartitionLeaders {
  private readonly leaders = new Map<string, Address>();
  private readonly pending = new PendingReplies<LeaderOutcome>();
  private pool: CpuPool | undefined;

  constructor(private readonly host: LeaderHost) {}

  /** Starts the leader actor of a partition this broker now leads (once). */
  lead(topic: string, partition: number, log: PartitionLog): void {
    const key = partitionKey(topic, partition);
    if (this.leaders.has(key)) return;
    const args: PartitionLeaderArgs = {
      topic,
      partition,
      log,
      retentionCheckIntervalMs: this.host.retentionCheckIntervalMs,
      cleanerBackoffMs: this.host.cleanerBackoffMs,
      appended: () => this.host.appendWaiters.notify(key),
      cpuPool: () => (this.pool ??= new CpuPool({ threadsMax: CLEANER_THREADS })),
    };
    this.leaders.set(key, this.host.spawnChild(partitionLeaderActor, args));
  }

  /** Appends record batches through the partition's leader; rejects as the log does. */
  async append(topic: string, partition: number, records: Uint8Array): Promise<AppendResult> {
    const outcome = await this.call(topic, partition, (requestId) => ({ type: 'append', requestId, records }));
    if (!outcome.ok) throw outcomeError(outcome);
    return (outcome as { result: AppendResult }).result;
  }

  /** Moves the log start offset up (DeleteRecords); resolves with the new low watermark. */
  async deleteRecords(topic: string, partition: number, offset: number): Promise<number> {
    const outcome = await this.call(topic, partition, (requestId) => ({ type: 'delete-records', requestId, offset }));
    if (!outcome.ok) throw outcomeError(outcome);
    return (outcome as { lowWatermark: number }).lowWatermark;
  }

  configure(topic: string, partition: number, config: LogConfig): void {
    const leader = this.leaders.get(partitionKey(topic, partition));
    if (leader !== undefined) void this.host.send(leader, { type: 'configure', config } satisfies ToLeader);
  }

  /** A reply from a leader (a message to the broker actor). */
  reply(requestId: number, outcome: LeaderOutcome): void {
    this.pending.settle(requestId, outcome);
  }

  /** Stops the leader of a partition (its topic was deleted), before its log goes. */
  async forget(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const leader = this.leaders.get(key);
    if (leader === undefined) return;
    this.leaders.delete(key);
    await this.host.stopChild(leader);
  }

  /** Stops every leader (after the connections drained), then the compaction pool. */
  async stop(): Promise<void> {
    const leaders = [...this.leaders.values()];
    this.leaders.clear();
    await Promise.all(leaders.map((leader) => this.host.stopChild(leader)));
    this.pending.settleAll({ ok: false, error: new KafkaError('NOT_LEADER_OR_FOLLOWER', 'the broker is stopping') });
    await this.pool?.close();
  }

  private call(topic: string, partition: number, message: (requestId: number) => ToLeader): Promise<LeaderOutcome> {
    const leader = this.leaders.get(partitionKey(topic, partition));
    if (leader === undefined) return Promise.resolve({ ok: false, error: new KafkaError('NOT_LEADER_OR_FOLLOWER', `no leader for ${topic}-${partition} on this broker`) });
    return this.pending.request((requestId) => this.host.send(leader, message(requestId)));
  }
}
