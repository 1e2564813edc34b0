/** Test helpers for Kafka framing: a byte stream of size-prefixed frames, and recognisable payloads. */

/** The frames as they travel: each a 4-byte big-endian size, then its bytes. */
export function framed(payloads: readonly Uint8Array[]): Buffer {
  return Buffer.concat(payloads.flatMap((payload) => {
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(payload.byteLength);
    return [prefix, payload];
  }));
}

/** `size` bytes that differ with `seed` and with position. */
export function payload(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}
