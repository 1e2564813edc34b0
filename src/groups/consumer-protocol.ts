/**
 * The one thing the coordinator reads inside a member's protocol metadata: which topics a
 * consumer (protocol type "consumer") subscribes to. The metadata is the clients'
 * ConsumerProtocolSubscription: int16 version, then an int32 count of int16-length topic names
 * (then user data and, from v1, owned partitions, which the coordinator does not need). Used to
 * rebalance a group whose subscribed topic gains partitions and to refuse OffsetDelete on a
 * subscribed topic. Metadata that does not parse subscribes to nothing.
 *
 * Also both halves of the consumer protocol as clients write them (the generated codecs of
 * Kafka's ConsumerProtocolSubscription and ConsumerProtocolAssignment), for the admin client
 * (`samsa group describe` decodes each member's assignment) and protocol-level members in the
 * benchmarks and tests:
 *
 *   assignment:   int16 version | int32 count, per topic: string, int32 count, int32 partition... | nullable bytes user data
 *   subscription: int16 version | int32 count, string topic... | nullable bytes user data | v1+ owned partitions | v2+ int32 generation
 *
 * As in Kafka's ConsumerProtocol, a version newer than the codecs know is read as the newest
 * known one (later versions may only append fields).
 */
import {
  ConsumerProtocolAssignmentCodec,
  ConsumerProtocolSubscriptionCodec,
  decodeConsumerProtocolAssignment,
  type ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
} from '../protocol/generated/messages/index.js';
import { encodeVersioned } from '../protocol/message-codec.js';
import { ProtocolReader } from '../protocol/reader.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export function subscribedTopics(metadata: Uint8Array): string[] {
  try {
    const reader = new ProtocolReader(metadata);
    const version = reader.readInt16();
    if (version < 0) return [];
    // Only the topics: what follows them is not needed (and not checked). Each name takes at
    // least its 2-byte length, so a larger count is refused before anything is allocated.
    return reader.readArray(false, 2, () => reader.readString(false));
  } catch {
    return [];
  }
}

export interface ConsumerAssignment {
  readonly version: number;
  /** Topics in the order the leader wrote them, each with its partitions as written. */
  readonly partitions: readonly { readonly topic: string; readonly partitions: readonly number[] }[];
  readonly userData: Uint8Array | null;
}

/**
 * A member's assignment (SyncGroup answer, DescribeGroups member assignment) under protocol type
 * "consumer". Empty bytes (a member not yet assigned, or a group not stable) assign nothing.
 * Throws a ProtocolDecodeError on bytes that are not an assignment.
 */
export function decodeConsumerAssignment(bytes: Uint8Array): ConsumerAssignment {
  if (bytes.byteLength === 0) return { version: 0, partitions: [], userData: null };
  const reader = new ProtocolReader(bytes);
  const version = reader.readInt16();
  if (version < ConsumerProtocolAssignmentCodec.validVersions.lowest) throw new RangeError(`consumer assignment version ${version} is not valid`);
  const decoded = decodeConsumerProtocolAssignment(reader, Math.min(version, ConsumerProtocolAssignmentCodec.validVersions.highest));
  return { version, partitions: decoded.assignedPartitions, userData: decoded.userData };
}

export function encodeConsumerAssignment(assignment: ConsumerProtocolAssignment, version = 0): Uint8Array {
  return encodeVersioned(ConsumerProtocolAssignmentCodec, assignment, version);
}

export function encodeConsumerSubscription(subscription: ConsumerProtocolSubscription, version = 0): Uint8Array {
  return encodeVersioned(ConsumerProtocolSubscriptionCodec, subscription, version);
}
