/**
 * Consumer lag, as kafka-consumer-groups computes it: per partition, the log end offset minus
 * the group's committed offset, known only when both are. Pure functions over what the admin
 * client gathered (DescribeGroups, OffsetFetch, ListOffsets), so they are testable without a
 * broker; `AdminClient.describeConsumerGroup` and `samsa group describe` use them.
 *
 * Worked example: partition 0 has records at offsets 0..9 (log end offset 10); the group
 * committed 7 (the next record it will read), so its lag is 3. Nothing committed: lag unknown
 * ("-"), whatever the log end. A committed offset past the log end (the log was truncated or
 * the topic re-created) gives a negative lag, shown as is, as Kafka shows it.
 */
import type { TopicPartitions } from '../groups/group-calls.js';

export type { TopicPartitions };

/** topic -> partition -> offset. */
export type OffsetsByPartition = ReadonlyMap<string, ReadonlyMap<number, bigint>>;

export interface GroupMemberAssignment {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** What the member holds (decoded consumer protocol assignment); empty when it holds nothing. */
  readonly assignment: readonly TopicPartitions[];
}

/** One row of `samsa group describe`: undefined fields are unknown ("-"). */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset (the next record it will consume). */
  readonly currentOffset: bigint | undefined;
  readonly logEndOffset: bigint | undefined;
  readonly lag: bigint | undefined;
  /** The member holding the partition; undefined when none does (offsets of a past assignment). */
  readonly memberId: string | undefined;
  readonly clientHost: string | undefined;
  readonly clientId: string | undefined;
}

/** Log end offset minus committed offset; undefined unless both are known (>= 0). */
export function consumerLag(committedOffset: bigint | undefined, logEndOffset: bigint | undefined): bigint | undefined {
  if (committedOffset === undefined || logEndOffset === undefined || committedOffset < 0n || logEndOffset < 0n) return undefined;
  return logEndOffset - committedOffset;
}

/** Sum of the known lags (a group's total lag); undefined when no partition's lag is known. */
export function totalLag(rows: readonly PartitionLag[]): bigint | undefined {
  let total: bigint | undefined;
  for (const row of rows) if (row.lag !== undefined) total = (total ?? 0n) + row.lag;
  return total;
}

export function offsetOf(offsets: OffsetsByPartition, topic: string, partition: number): bigint | undefined {
  return offsets.get(topic)?.get(partition);
}

/**
 * The rows kafka-consumer-groups --describe prints, in its order: the members holding partitions
 * (the member holding most first), each member's partitions by topic and partition; then the
 * partitions with a committed offset that no member holds, by topic and partition.
 */
export function partitionLags(members: readonly GroupMemberAssignment[], committed: OffsetsByPartition, logEnd: OffsetsByPartition): PartitionLag[] {
  const rows: PartitionLag[] = [];
  const held = new Set<string>();
  const key = (topic: string, partition: number) => `${partition}:${topic}`;
  const row = (topic: string, partition: number, member: GroupMemberAssignment | undefined): PartitionLag => {
    const currentOffset = offsetOf(committed, topic, partition);
    const logEndOffset = offsetOf(logEnd, topic, partition);
    return { topic, partition, currentOffset, logEndOffset, lag: consumerLag(currentOffset, logEndOffset), memberId: member?.memberId, clientHost: member?.clientHost, clientId: member?.clientId };
  };
  const count = (member: GroupMemberAssignment) => member.assignment.reduce((sum, entry) => sum + entry.partitions.length, 0);
  const holders = members.filter((member) => count(member) > 0).sort((a, b) => count(b) - count(a));
  for (const member of holders) {
    for (const { topic, partition } of sortedPartitions(member.assignment)) {
      held.add(key(topic, partition));
      rows.push(row(topic, partition, member));
    }
  }
  const unheld = [...committed].map(([topic, partitions]) => ({ topic, partitions: [...partitions.keys()].filter((partition) => !held.has(key(topic, partition))) }));
  for (const { topic, partition } of sortedPartitions(unheld)) rows.push(row(topic, partition, undefined));
  return rows;
}

function sortedPartitions(entries: readonly TopicPartitions[]): { topic: string; partition: number }[] {
  return entries
    .flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })))
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}
