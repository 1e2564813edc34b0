/**
 * The leader of one partition, as an actor: a child of its broker's actor (same thread), the
 * only writer of the partition's log. Everything that changes the log goes through its mailbox,
 * one message at a time: appends (Produce), DeleteRecords, config changes, and its own timers
 * for flush.ms, retention and compaction. Reads (Fetch, ListOffsets) read the log in place, as
 * the rings are read in place: they never change it.
 *
 * An append is written in the handler's turn (local delivery runs an idle actor at once, so
 * appends keep request order) and answered when the log's flush policy is met (fsync when
 * flush.messages is reached), without holding the mailbox meanwhile: the next append is written
 * at once and rides the same fsync (group commit). The high watermark then moves past it (one
 * replica: the leader is the whole ISR), so readers never see what a crash could take back.
 *
 *   broker actor ── {append, id, records} ──▶ leader ── {leader-reply, id, outcome} ──▶ broker actor
 */
import type { Logger } from 'pino';
import type { LogConfig } from '../log/log-config.js';
import type { AppendResult, PartitionLog } from '../log/partition-log.js';
import { KafkaError } from '../protocol/kafka-error.js';
import type { ActorFactory } from '../runtime/actor.js';
import type { CpuPool } from '../runtime/cpu-pool.js';

export const FLUSH_CHECK_INTERVAL_MS = 1_000;
/** log.cleaner.backoff.ms by default: how often a compacted log looks for cleanable segments. */
export const CLEANER_BACKOFF_MS = 15_000;

export interface PartitionLeaderArgs {
  readonly topic: string;
  readonly partition: number;
  readonly log: PartitionLog;
  /** log.retention.check.interval.ms */
  readonly retentionCheckIntervalMs: number;
  /** log.cleaner.backoff.ms (default CLEANER_BACKOFF_MS) */
  readonly cleanerBackoffMs?: number;
  /** Wakes fetches waiting on the partition after an append. */
  readonly appended: () => void;
  /** The broker's CPU pool for compaction, made on first use. */
  readonly cpuPool: () => CpuPool;
}

export type LeaderOutcome =
  | { readonly ok: true; readonly result: AppendResult }
  | { readonly ok: true; readonly lowWatermark: number }
  | { readonly ok: false; readonly error: unknown };

export type ToLeader =
  | { readonly type: 'append'; readonly requestId: number; readonly records: Uint8Array }
  | { readonly type: 'delete-records'; readonly requestId: number; readonly offset: number }
  | { readonly type: 'configure'; readonly config: LogConfig }
  | { readonly type: 'flush-due' }
  | { readonly type: 'retention-due' }
  | { readonly type: 'clean-due' };

export interface LeaderReply {
  readonly type: 'leader-reply';
  readonly requestId: number;
  readonly outcome: LeaderOutcome;
}

export const partitionLeaderActor: ActorFactory = (context, init) => {
  const args = init.args as PartitionLeaderArgs;
  const { log } = args;
  const logger: Logger = context.log.child({ topic: args.topic, partition: args.partition });
  let cleaning = false;
  context.schedule(FLUSH_CHECK_INTERVAL_MS, { type: 'flush-due' } satisfies ToLeader);
  context.schedule(args.retentionCheckIntervalMs, { type: 'retention-due' } satisfies ToLeader);
  const cleanerBackoffMs = args.cleanerBackoffMs ?? CLEANER_BACKOFF_MS;
  context.schedule(cleanerBackoffMs, { type: 'clean-due' } satisfies ToLeader);

  return {
    receive(message) {
      const body = message.body as ToLeader;
      const reply = (requestId: number, outcome: LeaderOutcome) => context.send(message.from, { type: 'leader-reply', requestId, outcome } satisfies LeaderReply);
      switch (body.type) {
        case 'append': {
          // Written now (synchronously, in mailbox order); answered once the flush policy is met.
          let appending: Promise<AppendResult>;
          try {
            appending = log.append(body.records);
          } catch (error) {
            void reply(body.requestId, { ok: false, error });
            break;
          }
          appending.then(
            (result) => {
              // Readers see an append once it meets the flush policy, as its producer does.
              log.setHighWatermark(Math.max(log.highWatermark, result.lastOffset + 1));
              args.appended();
              return reply(body.requestId, { ok: true, result });
            },
            (error: unknown) => reply(body.requestId, { ok: false, error }),
          );
          break;
        }
        case 'delete-records':
          try {
            void reply(body.requestId, { ok: true, lowWatermark: log.deleteRecordsBefore(body.offset) });
          } catch (error) {
            void reply(body.requestId, { ok: false, error });
          }
          break;
        case 'configure':
          log.config = body.config;
          break;
        case 'flush-due':
          log.maybeFlushOnTime().catch((error: unknown) => logger.error({ err: error }, 'scheduled flush failed'));
          context.schedule(FLUSH_CHECK_INTERVAL_MS, { type: 'flush-due' } satisfies ToLeader);
          break;
        case 'retention-due':
          try {
            const deleted = log.applyRetention();
            if (deleted > 0) logger.info({ segments: deleted, logStartOffset: log.logStartOffset }, 'retention deleted segments');
          } catch (error) {
            logger.error({ err: error }, 'retention failed');
          }
          context.schedule(args.retentionCheckIntervalMs, { type: 'retention-due' } satisfies ToLeader);
          break;
        case 'clean-due':
          // Compaction runs on the CPU pool and tolerates appends meanwhile: not awaited here.
          if (!cleaning && log.config.cleanupPolicy.includes('compact')) {
            cleaning = true;
            log.compact(args.cpuPool())
              .then((result) => {
                if (result.segmentsCleaned > 0) logger.info({ segments: result.segmentsCleaned, bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter }, 'log compacted');
              })
              .catch((error: unknown) => logger.error({ err: error }, 'compaction failed'))
              .finally(() => (cleaning = false));
          }
          context.schedule(cleanerBackoffMs, { type: 'clean-due' } satisfies ToLeader);
          break;
      }
    },
  };
};

/** Rebuilds the error a leader's outcome carries (a KafkaError keeps its code). */
export function outcomeError(outcome: LeaderOutcome & { ok: false }): Error {
  const error = outcome.error;
  if (error instanceof KafkaError || error instanceof Error) return error;
  return new Error(String(error));
}
