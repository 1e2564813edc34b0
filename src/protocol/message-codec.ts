/**
 * What every generated message module exports besides its types: the spec's version facts and
 * the two functions. One object per message lets the server table requests by API key and
 * ApiVersions derive its answer without knowing any message by name.
 */
import type { ProtocolReader } from './reader.js';
import { ProtocolWriter } from './writer.js';

export interface VersionRange {
  readonly lowest: number;
  readonly highest: number;
}

export interface MessageCodec<T> {
  /** The spec's name, e.g. "FetchRequest". */
  readonly name: string;
  /** The API key for requests and responses; null for headers and internal-topic records. */
  readonly apiKey: number | null;
  readonly validVersions: VersionRange;
  /** Kafka still accepts these versions but plans to drop them; null when none are. */
  readonly deprecatedVersions: VersionRange | null;
  /** The first version using tagged fields and compact encodings; null if none does. */
  readonly firstFlexibleVersion: number | null;
  /** The highest valid version is still under development in Kafka and not advertised. */
  readonly latestVersionUnstable: boolean;
  // Method syntax on purpose: it keeps MessageCodec<Specific> assignable to MessageCodec<unknown>.
  encode(writer: ProtocolWriter, value: T, version: number): void;
  decode(reader: ProtocolReader, version: number): T;
}

export function isFlexibleVersion(codec: MessageCodec<unknown>, version: number): boolean {
  return codec.firstFlexibleVersion !== null && version >= codec.firstFlexibleVersion;
}

/**
 * A struct as Kafka writes versioned data outside requests (consumer protocol subscriptions and
 * assignments, __consumer_offsets keys and values): int16 version, then the struct in that
 * version. A copy, safe to keep.
 */
export function encodeVersioned<T>(codec: MessageCodec<T>, value: T, version: number): Uint8Array {
  const writer = new ProtocolWriter(64);
  writer.writeInt16(version);
  codec.encode(writer, value, version);
  return writer.toUint8Array();
}
