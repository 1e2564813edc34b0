/**
 * Handing bytes to another thread without a copy means transferring their ArrayBuffer, which
 * detaches it on the sending side. That is only safe when the view covers the whole buffer:
 *
 *   ArrayBuffer  [ other Buffer | bytes | other Buffer ]   <- Node's 8 KiB Buffer pool, or a
 *                               ^^^^^                         subarray of a larger read
 *
 * transferring it would make the neighbours vanish too. Shared memory is never transferred
 * (a SharedArrayBuffer is already visible to every thread), and Node 21+ refuses buffers it has
 * marked untransferable. In every such case a copy is the safe choice.
 */
import { types } from 'node:util';
import * as workerThreads from 'node:worker_threads';

/** Node 21+ only; undefined on Node 20, where only pool buffers are marked and never whole. */
const isMarkedAsUntransferable = (workerThreads as { isMarkedAsUntransferable?: (value: object) => boolean })
  .isMarkedAsUntransferable;

export function canTransferWholeBuffer(bytes: Uint8Array): boolean {
  const buffer = bytes.buffer;
  if (types.isSharedArrayBuffer(buffer)) return false;
  // An empty view is cheaper to copy than to reason about (it may sit on a detached buffer).
  if (bytes.byteLength === 0) return false;
  if (bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return false;
  return !isMarkedAsUntransferable?.(buffer);
}

/** `bytes` itself when its buffer can be transferred whole, else a copy that owns its buffer. */
export function transferableBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength === 0) return new Uint8Array(0);
  // new Uint8Array(view) copies into a fresh ArrayBuffer (Buffer#slice would not: it shares).
  return canTransferWholeBuffer(bytes) ? bytes : new Uint8Array(bytes);
}

/**
 * A view whose buffer was transferred away reads as empty, and compressing it would quietly
 * give the bytes of an empty input. Only an empty view can be detached, and wrapping a detached
 * buffer throws on every Node version (ArrayBuffer#detached is Node 22+ only).
 */
export function assertNotDetached(bytes: Uint8Array): void {
  if (bytes.byteLength !== 0) return;
  try {
    new DataView(bytes.buffer);
  } catch {
    throw new TypeError('bytes are detached: an earlier CpuPool call took ownership of their buffer');
  }
}
