/**
 * The loopback ceiling's server for bench/broker.ts, run as its own process (as the broker is):
 * accepts connections and reads and discards every byte, nothing else. Prints
 * `sink listening on <port>` once listening; exits on SIGTERM/SIGINT or when its parent's IPC
 * channel closes.
 */
import net from 'node:net';

let bytes = 0;
const server = net.createServer((socket) => {
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.byteLength;
  });
  socket.on('error', () => undefined);
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
