/**
 * Reads of an accepted socket into buffers we choose, instead of a fresh 64 KiB buffer per read.
 *
 * Node offers this for sockets it creates (`net.connect({ onread: { buffer, callback } })`) but
 * not for the sockets a server accepts. The accepted socket has the same machinery, keyed by
 * three internal symbols ('kBuffer', 'kBufferGen', 'kBufferCb') and its handle's
 * useUserBuffer(); this sets them as net.Socket's constructor does for `onread`, before the
 * first read (the server is created with pauseOnConnect). Checked on Node 20, 22 and 24
 * (test/server/socket-reads.test.ts); where the internals differ it returns false and the
 * caller reads 'data' events instead.
 *
 * After this, pause()/resume() stop and start reading as usual, 'end' and 'close' come as
 * usual, and no 'data' event is emitted.
 */
import type { Socket } from 'node:net';

interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * Makes `socket` read into `nextBuffer()` and report each read to `onRead(bytes)` (return false
 * to stop reading). The socket must not have started reading. Returns false, changing nothing,
 * if this Node does not have the internals.
 */
export function readIntoOwnBuffers(socket: Socket, nextBuffer: () => Uint8Array, onRead: (bytes: number) => boolean): boolean {
  const symbols = Object.getOwnPropertySymbols(socket);
  const symbol = (name: string): symbol | undefined => symbols.find((s) => s.description === name);
  const kBuffer = symbol('kBuffer');
  const kBufferGen = symbol('kBufferGen');
  const kBufferCb = symbol('kBufferCb');
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  if (!kBuffer || !kBufferGen || !kBufferCb || typeof handle?.useUserBuffer !== 'function') return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[kBuffer] || fields[kBufferGen] !== null) return false; // reading already, or not as known
  const first = nextBuffer();
  fields[kBufferGen] = nextBuffer;
  fields[kBufferCb] = onRead;
  fields[kBuffer] = first;
  handle.useUserBuffer(first);
  return true;
}
