/**
 * The loopback ceiling's server for bench/broker.ts, run as its own process (as the broker is):
 * accepts connections and reads and discards every byte, nothing else. It reads into one reused
 * 256 KiB buffer per connection (src/server/socket-reads.ts), as the broker reads a large frame
 * in place (up to the frame's size per read; the bench's frames are at most 256 KiB), instead of
 * Node's fresh 64 KiB buffer per read (the fallback where that path is missing). Prints
 * `sink listening on <port>` once listening; exits on SIGTERM/SIGINT or when its parent's IPC
 * channel closes.
 */
import net from 'node:net';
import { readIntoOwnBuffers } from '../../src/server/socket-reads.js';

const READ_BUFFER_BYTES = 256 * 1024;

let bytes = 0;
const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  socket.on('error', () => undefined);
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const own = readIntoOwnBuffers(
    socket,
    () => buffer,
    (read) => {
      bytes += read;
      return true;
    },
  );
  if (!own) socket.on('data', (chunk: Buffer) => (bytes += chunk.byteLength));
  socket.resume();
});
server.listen({ port: 0, host: '127.0.0.1' }, () => {
  console.log(`sink listening on ${(server.address() as net.AddressInfo).port}`);
});
const stop = (): void => {
  console.log(`sink received ${bytes} bytes`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
