/**
 * The records of `__consumer_offsets`, as Kafka writes them (OffsetCommitKey/Value and
 * GroupMetadataKey/Value in protocol-specs/message): a key or value is an int16 version, then
 * the struct in that version. A tombstone (null value) deletes the key's offset or group.
 *
 *   key version 0-1  OffsetCommitKey {group, topic, partition}    value: OffsetCommitValue v3
 *                                                                 (v1 with an expire timestamp)
 *   key version 2    GroupMetadataKey {group}                     value: GroupMetadataValue v3
 *
 * Written with value versions 3 (what Kafka 2.3+ writes); any version the specs define is read.
 */
import { encodeVersioned } from '../protocol/message-codec.js';
import { ProtocolReader } from '../protocol/reader.js';
import {
  decodeGroupMetadataKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
  GroupMetadataKeyCodec,
  GroupMetadataValueCodec,
  OffsetCommitKeyCodec,
  OffsetCommitValueCodec,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from '../protocol/generated/messages/index.js';

const OFFSET_KEY_VERSION = 1;
const GROUP_KEY_VERSION = 2;
const OFFSET_VALUE_VERSION = 3;
/** The one version with expireTimestamp (OffsetCommit v2-4 retention_time_ms). */
const EXPIRING_OFFSET_VALUE_VERSION = 1;
const GROUP_VALUE_VERSION = 3;

export type OffsetsRecordKey =
  | { readonly kind: 'offset'; readonly group: string; readonly topic: string; readonly partition: number }
  | { readonly kind: 'group'; readonly group: string };

export interface OffsetsRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

export function offsetKeyBytes(group: string, topic: string, partition: number): Uint8Array {
  return encodeVersioned(OffsetCommitKeyCodec, { group, topic, partition }, OFFSET_KEY_VERSION);
}

export function groupKeyBytes(group: string): Uint8Array {
  return encodeVersioned(GroupMetadataKeyCodec, { group }, GROUP_KEY_VERSION);
}

/** Version 3, or version 1 (as Kafka writes it) for an offset with an explicit expire timestamp. */
export function offsetValueBytes(value: OffsetCommitValue): Uint8Array {
  const version = value.expireTimestamp !== undefined && value.expireTimestamp >= 0n ? EXPIRING_OFFSET_VALUE_VERSION : OFFSET_VALUE_VERSION;
  return encodeVersioned(OffsetCommitValueCodec, value, version);
}

export function groupValueBytes(value: GroupMetadataValue): Uint8Array {
  return encodeVersioned(GroupMetadataValueCodec, value, GROUP_VALUE_VERSION);
}

/** Decodes a key; undefined for a key version this broker does not know (skipped, as Kafka does). */
export function decodeOffsetsKey(bytes: Uint8Array): OffsetsRecordKey | undefined {
  const reader = new ProtocolReader(bytes);
  const version = reader.readInt16();
  if (version === 0 || version === 1) {
    const key = decodeOffsetCommitKey(reader, version);
    return { kind: 'offset', group: key.group, topic: key.topic, partition: key.partition };
  }
  if (version === 2) return { kind: 'group', group: decodeGroupMetadataKey(reader, version).group };
  return undefined;
}

export function decodeOffsetValue(bytes: Uint8Array): OffsetCommitValue {
  const reader = new ProtocolReader(bytes);
  return decodeOffsetCommitValue(reader, reader.readInt16());
}

export function decodeGroupValue(bytes: Uint8Array): GroupMetadataValue {
  const reader = new ProtocolReader(bytes);
  return decodeGroupMetadataValue(reader, reader.readInt16());
}
