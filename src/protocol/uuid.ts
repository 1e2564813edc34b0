/**
 * Kafka UUIDs (topic ids, directory ids): 16 bytes on the wire, shown the way Kafka shows them,
 * as 22 characters of URL-safe base64 without padding ("AAAAAAAAAAAAAAAAAAAAAA" is all zeros).
 * A string keeps them comparable with === and usable as Map keys.
 */

export const UUID_BYTES = 16;
/** Kafka's Uuid.ZERO_UUID: the default of every uuid field ("no id"). */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

const UUID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.byteLength !== UUID_BYTES) throw new RangeError(`a uuid is ${UUID_BYTES} bytes, not ${bytes.byteLength}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, UUID_BYTES).toString('base64url');
}

/** The 16 bytes of a uuid string; undefined unless it is exactly what uuidFromBytes produces. */
export function uuidToBytes(uuid: string): Uint8Array | undefined {
  if (!UUID_PATTERN.test(uuid)) return undefined;
  const bytes = Buffer.from(uuid, 'base64url');
  // The 22nd character carries 2 spare bits; only the canonical spelling round-trips.
  if (bytes.byteLength !== UUID_BYTES || bytes.toString('base64url') !== uuid) return undefined;
  return bytes;
}
