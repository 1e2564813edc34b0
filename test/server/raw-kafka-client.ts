/**
 * A minimal Kafka client over a raw socket, for protocol-level tests: it frames requests with
 * Samsa's generated codecs and decodes responses in order, and can also write arbitrary bytes
 * (garbage, oversize frames) to see what the broker does with them.
 */
import net from 'node:net';
import { CORRELATION_ID_AT, KafkaConnection } from '../../src/client/kafka-connection.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { codecsForApiKey, RequestHeaderCodec, ResponseHeaderCodec } from '../../src/protocol/generated/messages/index.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/headers.js';
import { ProtocolReader } from '../../src/protocol/reader.js';
import { ProtocolWriter } from '../../src/protocol/writer.js';

interface Waiting {
  correlationId: number;
  apiKey: number;
  apiVersion: number;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class RawKafkaClient {
  /** Resolves when the broker (or we) closed the connection. */
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder(1 << 30, 4);
  private readonly waiting: Waiting[] = [];
  private readonly rawFrames: Buffer[] = [];
  private nextCorrelationId = 1;
  private isClosed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.onFrame(frame);
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        for (const waiting of this.waiting.splice(0)) waiting.reject(new Error('connection closed'));
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawKafkaClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawKafkaClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Sends a request and resolves with its decoded response. */
  request<T = Record<string, unknown>>(apiKey: number, apiVersion: number, body: unknown, clientId = 'raw-test'): Promise<T> {
    const correlationId = this.send(apiKey, apiVersion, body, clientId);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ correlationId, apiKey, apiVersion, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** Sends a request that gets no response (Produce acks=0); returns its correlation id. */
  send(apiKey: number, apiVersion: number, body: unknown, clientId = 'raw-test'): number {
    const correlationId = this.nextCorrelationId++;
    const frame = KafkaConnection.encodeRequest(apiKey, apiVersion, body, clientId);
    frame.writeInt32BE(correlationId, CORRELATION_ID_AT);
    this.socket.write(frame);
    return correlationId;
  }

  /** Writes bytes as they are. Frames that then arrive are kept for `nextRawFrame`. */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** A request frame with the given header fields and body bytes, for hand-made requests. */
  static frame(apiKey: number, apiVersion: number, correlationId: number, body: Uint8Array = new Uint8Array(0)): Buffer {
    const writer = new ProtocolWriter();
    writer.writeInt32(0);
    RequestHeaderCodec.encode(writer, { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId, clientId: 'raw-test' }, requestHeaderVersion(apiKey, apiVersion));
    writer.writeRawBytes(body);
    writer.patchInt32(0, writer.offset - 4);
    return Buffer.from(writer.toUint8Array());
  }

  /** The next frame that no request() was waiting for, e.g. an answer to writeRaw. */
  async nextRawFrame(timeoutMs = 5_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.rawFrames.length === 0) {
      if (Date.now() > deadline) throw new Error('no frame arrived');
      if (this.isClosed) throw new Error('connection closed');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.rawFrames.shift()!;
  }

  close(): void {
    this.socket.destroy();
  }

  private onFrame(frame: Buffer): void {
    const waiting = this.waiting.shift();
    if (!waiting) {
      this.rawFrames.push(frame);
      return;
    }
    try {
      const reader = new ProtocolReader(frame);
      const header = ResponseHeaderCodec.decode(reader, responseHeaderVersion(waiting.apiKey, waiting.apiVersion));
      if (header.correlationId !== waiting.correlationId) throw new Error(`response out of order: expected correlation id ${waiting.correlationId}, got ${header.correlationId}`);
      waiting.resolve(codecsForApiKey(waiting.apiKey)!.response.decode(reader, waiting.apiVersion));
    } catch (error) {
      waiting.reject(error as Error);
    }
  }
}
