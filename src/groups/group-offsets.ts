/**
 * The committed offsets of the groups one coordinator owns, by group, topic and partition: what
 * OffsetFetch answers and what __consumer_offsets holds. Pure data; the coordinator changes it
 * only after the records saying so are written.
 *
 * Expiry (offsets.retention.minutes), as Kafka 2.1+ does it: the offsets of a group with no
 * members expire `retention` after the group became empty (after their own commit for a group
 * that never had members: a standalone consumer's); a group with members keeps the offsets of
 * the topics it subscribes to, and the others expire `retention` after their commit. An offset
 * committed with an explicit expire timestamp (OffsetCommit v1) expires then.
 */
export interface CommittedOffset {
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** -1: none (expiry follows the retention rules above). */
  readonly expireTimestamp: number;
}

export interface OffsetKey {
  readonly topic: string;
  readonly partition: number;
}

/** What the expiry rules need to know of a group. */
export interface GroupLiveness {
  /** undefined: no group state at all (offsets only), as for a standalone consumer. */
  readonly emptySinceMs: number | undefined;
  readonly hasMembers: boolean;
  readonly usedGroupManagement: boolean;
  readonly subscribedTopics: ReadonlySet<string>;
}

export class GroupOffsets {
  private readonly byGroup = new Map<string, Map<string, Map<number, CommittedOffset>>>();

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(group)?.get(topic)?.get(partition);
  }

  set(group: string, topic: string, partition: number, offset: CommittedOffset): void {
    let topics = this.byGroup.get(group);
    if (!topics) this.byGroup.set(group, (topics = new Map()));
    let partitions = topics.get(topic);
    if (!partitions) topics.set(topic, (partitions = new Map()));
    partitions.set(partition, offset);
  }

  delete(group: string, topic: string, partition: number): void {
    const topics = this.byGroup.get(group);
    const partitions = topics?.get(topic);
    if (!partitions?.delete(partition)) return;
    if (partitions.size === 0) topics!.delete(topic);
    if (topics!.size === 0) this.byGroup.delete(group);
  }

  deleteGroup(group: string): OffsetKey[] {
    const keys = this.keysOf(group);
    this.byGroup.delete(group);
    return keys;
  }

  hasOffsets(group: string): boolean {
    return this.byGroup.has(group);
  }

  groups(): IterableIterator<string> {
    return this.byGroup.keys();
  }

  /** Every committed offset of a group, by topic (sorted by partition). */
  topicsOf(group: string): Map<string, [number, CommittedOffset][]> {
    const result = new Map<string, [number, CommittedOffset][]>();
    for (const [topic, partitions] of this.byGroup.get(group) ?? []) result.set(topic, [...partitions].sort((a, b) => a[0] - b[0]));
    return result;
  }

  keysOf(group: string): OffsetKey[] {
    const keys: OffsetKey[] = [];
    for (const [topic, partitions] of this.byGroup.get(group) ?? []) for (const partition of partitions.keys()) keys.push({ topic, partition });
    return keys;
  }

  /** The offsets of `group` that have expired at `now` under the rules above. */
  expired(group: string, liveness: GroupLiveness, retentionMs: number, now: number): OffsetKey[] {
    const keys: OffsetKey[] = [];
    for (const [topic, partitions] of this.byGroup.get(group) ?? []) {
      if (liveness.hasMembers && liveness.subscribedTopics.has(topic)) continue;
      for (const [partition, committed] of partitions) {
        if (isExpired(committed, liveness, retentionMs, now)) keys.push({ topic, partition });
      }
    }
    return keys;
  }
}

function isExpired(committed: CommittedOffset, liveness: GroupLiveness, retentionMs: number, now: number): boolean {
  if (committed.expireTimestamp >= 0) return committed.expireTimestamp <= now;
  const since = !liveness.hasMembers && liveness.usedGroupManagement && liveness.emptySinceMs !== undefined ? liveness.emptySinceMs : committed.commitTimestamp;
  return since + retentionMs <= now;
}
