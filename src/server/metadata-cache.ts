/**
 * A broker's copy of the topic metadata (Kafka's MetadataCache), in the threaded cluster.
 *
 * The controller sends each broker a snapshot when it registers, then every record it commits
 * (Kafka's UpdateMetadata); the cache applies them with the same pure `applyRecord` the
 * controller uses, so both hold the same state. Handlers read it locally. The controller keeps
 * its own state in one too, starting empty and replaying the metadata log into it.
 */
import { applyRecord, EMPTY_CONTROLLER_STATE, type ControllerState, type MetadataRecord, type TopicState } from './controller-state.js';
import type { MetadataView } from './handler.js';

/** The controller's state as plain data (msgpackr carries no Map or Set). */
export interface MetadataSnapshot {
  readonly clusterId: string;
  readonly topics: readonly TopicState[];
  readonly nextLeader: number;
  readonly deletedTopicNames: readonly string[];
}

export function snapshotOf(state: ControllerState): MetadataSnapshot {
  return {
    clusterId: state.clusterId!,
    topics: [...state.topics.values()],
    nextLeader: state.nextLeader,
    deletedTopicNames: [...state.deletedTopicNames],
  };
}

export class MetadataCache implements MetadataView {
  private current: ControllerState;
  private readonly topicsById = new Map<string, TopicState>();

  /** No snapshot: the empty state, before any record. */
  constructor(snapshot?: MetadataSnapshot) {
    if (!snapshot) {
      this.current = EMPTY_CONTROLLER_STATE;
      return;
    }
    this.current = {
      clusterId: snapshot.clusterId,
      topics: new Map(snapshot.topics.map((topic) => [topic.name, topic])),
      nextLeader: snapshot.nextLeader,
      deletedTopicNames: new Set(snapshot.deletedTopicNames),
    };
    for (const topic of snapshot.topics) this.topicsById.set(topic.topicId, topic);
  }

  get state(): ControllerState {
    return this.current;
  }

  get clusterId(): string {
    return this.current.clusterId!;
  }

  topic(name: string): TopicState | undefined {
    return this.current.topics.get(name);
  }

  topicById(topicId: string): TopicState | undefined {
    return this.topicsById.get(topicId);
  }

  topics(): IterableIterator<TopicState> {
    return this.current.topics.values();
  }

  apply(record: MetadataRecord): void {
    const before = 'name' in record ? this.current.topics.get(record.name) : undefined;
    this.current = applyRecord(this.current, record);
    if (!('name' in record)) return;
    // Keep the by-id index pointing at the topic's current state, or at nothing once deleted.
    const after = this.current.topics.get(record.name);
    if (before && before !== after) this.topicsById.delete(before.topicId);
    if (after) this.topicsById.set(after.topicId, after);
  }
}
