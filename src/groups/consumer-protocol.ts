/**
 * The one thing the coordinator reads inside a member's protocol metadata: which topics a
 * consumer (protocol type "consumer") subscribes to. The metadata is the clients'
 * ConsumerProtocolSubscription: int16 version, then an int32 count of int16-length topic names
 * (then user data and, from v1, owned partitions, which the coordinator does not need). Used to
 * rebalance a group whose subscribed topic gains partitions and to refuse OffsetDelete on a
 * subscribed topic. Metadata that does not parse subscribes to nothing.
 */
import { ProtocolReader } from '../protocol/reader.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export function subscribedTopics(metadata: Uint8Array): string[] {
  try {
    const reader = new ProtocolReader(metadata);
    const version = reader.readInt16();
    if (version < 0) return [];
    const count = reader.readInt32();
    // Each name takes at least its 2-byte length: a larger count is garbage.
    if (count < 0 || count * 2 > reader.remaining) return [];
    const topics: string[] = [];
    for (let index = 0; index < count; index++) {
      topics.push(reader.readString(false));
    }
    return topics;
  } catch {
    return [];
  }
}
