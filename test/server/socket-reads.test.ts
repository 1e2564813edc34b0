import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/protocol/buffer-pool.js';
import { FrameReceiver } from '../../src/protocol/frame-receiver.js';
import { readIntoOwnBuffers } from '../../src/server/socket-reads.js';
import { framed, payload } from '../protocol/frames.js';

describe('readIntoOwnBuffers on an accepted socket', () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  it('reads every frame into the receiver\'s buffers, with no data event, and stops and resumes with pause()/resume()', async () => {
    const payloads = Array.from({ length: 40 }, (_, i) => payload([20, 5_000, 70_000, 300_000][i % 4]!, i));
    const stream = framed(payloads);
    const received = new Promise<{ frames: Buffer[]; installed: boolean; dataEvents: number; readsWhilePaused: number }>((resolve) => {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => {
        const receiver = new FrameReceiver(1 << 20, 10, new BufferPool());
        const frames: Buffer[] = [];
        let dataEvents = 0;
        let paused = false;
        let readsWhilePaused = 0;
        const installed = readIntoOwnBuffers(socket, () => receiver.nextBuffer(), (bytes) => {
          if (paused) readsWhilePaused++;
          frames.push(...receiver.received(bytes));
          if (frames.length === 10 && !paused) {
            // Stop reading for a while, as the connection does at its in-flight bound.
            paused = true;
            socket.pause();
            setTimeout(() => {
              paused = false;
              socket.resume();
            }, 50);
          }
          if (frames.length === payloads.length) resolve({ frames, installed, dataEvents, readsWhilePaused });
          return true;
        });
        socket.on('data', () => dataEvents++);
        socket.resume();
      });
      server.listen(0, '127.0.0.1', () => {
        const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => {
          // Writes cut across frames at odd places.
          for (let at = 0; at < stream.byteLength; at += 100_003) client.write(stream.subarray(at, at + 100_003));
        });
        closers.push(() => {
          client.destroy();
          server.close();
        });
      });
    });
    const { frames, installed, dataEvents, readsWhilePaused } = await received;
    expect(installed).toBe(true);
    expect(dataEvents).toBe(0);
    expect(readsWhilePaused).toBe(0);
    expect(frames.length).toBe(payloads.length);
    frames.forEach((frame, i) => expect(frame.equals(payloads[i]!)).toBe(true));
  });

  it('changes nothing on a socket that is reading already', async () => {
    const result = await new Promise<boolean>((resolve) => {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => {
        const receiver = new FrameReceiver(1 << 20, 10, new BufferPool());
        readIntoOwnBuffers(socket, () => receiver.nextBuffer(), () => true);
        resolve(readIntoOwnBuffers(socket, () => receiver.nextBuffer(), () => true));
        socket.destroy();
      });
      server.listen(0, '127.0.0.1', () => {
        const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
        client.on('error', () => undefined);
        closers.push(() => {
          client.destroy();
          server.close();
        });
      });
    });
    expect(result).toBe(false);
  });
});
