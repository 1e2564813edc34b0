/**
 * The group coordinator actor of one __consumer_offsets partition: a child of the broker actor
 * that leads the partition (same thread, so it reads the partition's open log in place; it writes
 * through the partition's leader actor like any producer). It replays the partition when it starts, then takes calls from the broker's handlers one at a time through
 * its mailbox, and keeps one timer per group (member sessions, rebalance and join deadlines)
 * plus the periodic offsets expiry. The logic is GroupCoordinator's; this only moves messages.
 */
import type { PartitionLog } from '../log/partition-log.js';
import { decodeBatchRecords, encodePlainBatch } from '../log/records.js';
import { parseBatches } from '../log/record-batch.js';
import type { ActorContext, ActorFactory, Message } from '../runtime/actor.js';
import type { CoordinatorAnswerMessage, ToCoordinator } from './group-calls.js';
import { GroupCoordinator, type CoordinatorSettings } from './group-coordinator.js';
import type { OffsetsRecord } from './offsets-records.js';

export interface CoordinatorActorArgs {
  readonly partition: number;
  /** The partition's log, to replay at start (read in place). */
  readonly log: PartitionLog;
  /**
   * Appends a batch through the partition's leader actor, the log's only writer; resolves once
   * it is written (and the high watermark has moved past it).
   */
  readonly append: (batch: Uint8Array) => Promise<unknown>;
  readonly settings: CoordinatorSettings;
  /** offsets.retention.check.interval.ms */
  readonly retentionCheckIntervalMs: number;
}

const LOAD_READ_BYTES = 1 << 20;

/** Every record of the partition, oldest first (compacted batches included). */
function* recordsOf(log: PartitionLog): Generator<OffsetsRecord> {
  let offset = log.logStartOffset;
  const end = log.logEndOffset;
  while (offset < end) {
    const slice = log.read(offset, LOAD_READ_BYTES, end);
    if (slice.bytes.byteLength === 0) break;
    for (const header of parseBatches(slice.bytes)) {
      const batch = decodeBatchRecords(slice.bytes.subarray(header.position, header.position + header.sizeBytes), { verifyCrc: false });
      for (const record of batch.records) {
        if (record.key !== null && batch.baseOffset + record.offsetDelta >= offset) yield { key: record.key, value: record.value };
      }
    }
    offset = slice.nextOffset;
  }
}

function appendRecords(args: CoordinatorActorArgs, context: ActorContext) {
  return async (records: readonly OffsetsRecord[]): Promise<void> => {
    if (records.length === 0) return;
    const batch = encodePlainBatch(
      records.map((record, index) => ({ offsetDelta: index, timestampDelta: 0, key: record.key, value: record.value, headers: [] })),
      context.now(),
      0,
    );
    await args.append(batch);
  };
}

export const coordinatorActor: ActorFactory = (context, init) => {
  const args = init.args as CoordinatorActorArgs;
  const log = context.log.child({ coordinator: args.partition });
  let suffixes = 0;
  const coordinator = new GroupCoordinator(args.settings, {
    append: appendRecords(args, context),
    now: () => context.now(),
    uniqueSuffix: () => `${Math.floor(context.random() * 0xffffffff).toString(16).padStart(8, '0')}-${context.now().toString(36)}-${(suffixes++).toString(36)}`,
    log,
  });
  const started = context.now();
  coordinator.load(recordsOf(args.log));
  log.info({ groups: coordinator.groups.size, ms: context.now() - started }, 'group coordinator loaded');

  const timers = new Map<string, number>();
  const reschedule = (groupId: string) => {
    const previous = timers.get(groupId);
    if (previous !== undefined) context.cancel(previous);
    timers.delete(groupId);
    const deadline = coordinator.deadlineOf(groupId);
    if (deadline !== undefined) timers.set(groupId, context.schedule(Math.max(0, deadline - context.now()), { type: 'expire', groupId } satisfies ToCoordinator));
  };
  for (const groupId of coordinator.groups.keys()) reschedule(groupId);
  context.schedule(args.retentionCheckIntervalMs, { type: 'expire-offsets' } satisfies ToCoordinator);

  return {
    async receive(message: Message) {
      const body = message.body as ToCoordinator;
      switch (body.type) {
        case 'call': {
          const from = message.from;
          await coordinator.handle(body.call, (answer) => {
            void context.send(from, { type: 'answer', requestId: body.requestId, answer } satisfies CoordinatorAnswerMessage);
          });
          if ('groupId' in body.call) reschedule(body.call.groupId);
          break;
        }
        case 'expire':
          timers.delete(body.groupId);
          await coordinator.expire(body.groupId);
          reschedule(body.groupId);
          break;
        case 'topic-grew':
          await coordinator.topicGrew(body.topic);
          for (const groupId of coordinator.groups.keys()) reschedule(groupId);
          break;
        case 'expire-offsets':
          await coordinator.expireOffsets();
          context.schedule(args.retentionCheckIntervalMs, { type: 'expire-offsets' } satisfies ToCoordinator);
          break;
      }
    },
    stop() {
      coordinator.unload();
    },
  };
};
