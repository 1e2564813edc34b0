/**
 * How one actor message is laid out inside a ring frame's payload:
 *
 *   +0   u32 to         receiving actor
 *   +4   u32 from       sending actor (0 = from outside any actor)
 *   +8   u32 bodyBytes  length of the msgpackr-encoded body (0 = no body)
 *   +12  u32 flags      bit 0: a data part follows the body
 *   +16  body           msgpackr
 *   +16+bodyBytes data  raw bytes (e.g. a record batch), to the end of the payload
 *
 * The data part is copied exactly once, from the sender's buffer into the ring; the receiver
 * gets a view of it in place.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Address } from './actor.js';
import type { RingReader, RingWriter } from './ring.js';

export const ENVELOPE_HEADER_BYTES = 16;
const FLAG_DATA = 1;

const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, moreTypes: false });

export function encodeBody(body: unknown): Uint8Array | undefined {
  return body === undefined ? undefined : packr.pack(body);
}

/**
 * Writes the envelope into the ring. Returns undefined when written at once, or a promise when
 * the ring is full (the message is then serialized into one buffer and queued in order).
 */
export function writeEnvelope(writer: RingWriter, to: Address, from: Address, body: unknown, data: Uint8Array | undefined): Promise<void> | undefined {
  const encoded = encodeBody(body);
  const bodyBytes = encoded?.byteLength ?? 0;
  const dataBytes = data?.byteLength ?? 0;
  const total = ENVELOPE_HEADER_BYTES + bodyBytes + dataBytes;
  const offset = total <= writer.maxWholeBytes ? writer.tryReserve(total) : -1;
  if (offset >= 0) {
    fill(writer.data, writer.view, offset, to, from, encoded, data);
    writer.publish();
    return undefined;
  }
  const bytes = new Uint8Array(total);
  fill(bytes, new DataView(bytes.buffer), 0, to, from, encoded, data);
  return writer.write(bytes);
}

function fill(target: Uint8Array, view: DataView, offset: number, to: Address, from: Address, body: Uint8Array | undefined, data: Uint8Array | undefined): void {
  const bodyBytes = body?.byteLength ?? 0;
  view.setUint32(offset, to, true);
  view.setUint32(offset + 4, from, true);
  view.setUint32(offset + 8, bodyBytes, true);
  view.setUint32(offset + 12, data ? FLAG_DATA : 0, true);
  if (body) target.set(body, offset + ENVELOPE_HEADER_BYTES);
  if (data) target.set(data, offset + ENVELOPE_HEADER_BYTES + bodyBytes);
}

export interface DecodedEnvelope {
  to: Address;
  from: Address;
  body: unknown;
  data: Uint8Array | undefined;
}

/** Reads an envelope from a message's bytes; `data` stays a view into them. */
export function readEnvelope(bytes: Uint8Array): DecodedEnvelope {
  if (bytes.byteLength < ENVELOPE_HEADER_BYTES) throw new Error(`envelope too short: ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const to = view.getUint32(0, true);
  const from = view.getUint32(4, true);
  const bodyBytes = view.getUint32(8, true);
  const flags = view.getUint32(12, true);
  const bodyEnd = ENVELOPE_HEADER_BYTES + bodyBytes;
  if (bodyEnd > bytes.byteLength) throw new Error(`envelope body of ${bodyBytes} bytes exceeds the message`);
  const body = bodyBytes === 0 ? undefined : unpackr.unpack(bytes.subarray(ENVELOPE_HEADER_BYTES, bodyEnd));
  const data = flags & FLAG_DATA ? bytes.subarray(bodyEnd) : undefined;
  return { to, from, body, data };
}

export type { RingReader };
