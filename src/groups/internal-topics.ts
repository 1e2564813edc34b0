/**
 * The internal topics and how a coordinator key maps to one of their partitions, as in Kafka:
 * partition = abs(javaHashCode(key)) % partitions, so a group lands on the same partition
 * number as it would on a Kafka cluster with the same offsets.topic.num.partitions.
 *
 *   __consumer_offsets   group coordinators (FindCoordinator key type 0); compacted
 *   __transaction_state  transaction coordinators (key type 1); compacted
 *
 * Both are created on first use (FindCoordinator, or a Metadata request naming them), with
 * Kafka's configs for them.
 */
import type { BrokerConfig } from '../server/broker-config.js';

export const OFFSETS_TOPIC = '__consumer_offsets';
export const TRANSACTION_STATE_TOPIC = '__transaction_state';

export const COORDINATOR_KEY_GROUP = 0;
export const COORDINATOR_KEY_TRANSACTION = 1;

export function isInternalTopic(name: string): boolean {
  return name === OFFSETS_TOPIC || name === TRANSACTION_STATE_TOPIC;
}

/** What to create for an internal topic; undefined for any other name. */
export function internalTopicSpec(name: string, config: BrokerConfig): { partitionCount: number; configs: Record<string, string> } | undefined {
  if (name === OFFSETS_TOPIC) {
    return {
      partitionCount: config.groups.offsetsTopicPartitions,
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(config.groups.offsetsTopicSegmentBytes) },
    };
  }
  if (name === TRANSACTION_STATE_TOPIC) {
    return {
      partitionCount: config.groups.transactionTopicPartitions,
      configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(104_857_600) },
    };
  }
  return undefined;
}

/** The internal topic holding a coordinator key type's state. */
export function topicForKeyType(keyType: number): string | undefined {
  if (keyType === COORDINATOR_KEY_GROUP) return OFFSETS_TOPIC;
  if (keyType === COORDINATOR_KEY_TRANSACTION) return TRANSACTION_STATE_TOPIC;
  return undefined;
}

/** Java's String.hashCode: over UTF-16 code units, 32-bit wrap-around. */
export function javaHashCode(text: string): number {
  let hash = 0;
  for (let index = 0; index < text.length; index++) hash = (Math.imul(hash, 31) + text.charCodeAt(index)) | 0;
  return hash;
}

/** Kafka's Utils.abs(key.hashCode) % partitions (abs of MIN_VALUE is 0). */
export function partitionForKey(key: string, partitions: number): number {
  const hash = javaHashCode(key);
  const absolute = hash === -2147483648 ? 0 : Math.abs(hash);
  return absolute % partitions;
}
