/**
 * One client connection to a Kafka-protocol broker: requests framed with the generated codecs,
 * pipelined (any number in flight), answered in order. Used by the admin client behind
 * `samsa group` and by the benchmarks' protocol-level group members.
 *
 *   request(apiKey, version, body) ──▶ [size][header: apiKey, version, correlationId, clientId][body]
 *   ◀── response frames, in request order: [size][header: correlationId][body] ──▶ decoded body
 *
 * A broker answers a connection's requests in the order they were sent, so a response that
 * does not carry the correlation id of the oldest request in flight means the stream is broken:
 * the connection is closed and every request in flight fails. So does a request that times out
 * (its answer could still arrive and would be taken for the next one's).
 */
import net from 'node:net';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { codecsForApiKey, RequestHeaderCodec, ResponseHeaderCodec } from '../protocol/generated/messages/index.js';
import { requestHeaderVersion, responseHeaderVersion } from '../protocol/headers.js';
import { ProtocolReader } from '../protocol/reader.js';
import { ProtocolWriter } from '../protocol/writer.js';

/** Where the correlation id sits in a request frame: size int32, apiKey int16, apiVersion int16. */
export const CORRELATION_ID_AT = 8;
/** Largest response frame accepted (a Fetch answer can be large; nothing here asks for one). */
const RESPONSE_BYTES_MAX = 1 << 30;

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  /** The client id in every request header (brokers show it, e.g. as a group member's client id). */
  readonly clientId?: string;
  /** Bound on connecting and on each request; 0: none. Default 30 s. */
  readonly timeoutMs?: number;
}

/** The connection failed or was closed; `address` is host:port. */
export class ConnectionError extends Error {
  constructor(readonly address: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

interface InFlight {
  readonly correlationId: number;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout | undefined;
}

export class KafkaConnection {
  readonly address: string;
  /** Resolves once the socket is closed (by either side). */
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder(RESPONSE_BYTES_MAX, 4);
  private readonly inFlight: InFlight[] = [];
  private nextCorrelationId = 1;
  private failure: ConnectionError | undefined;

  private constructor(private readonly socket: net.Socket, private readonly options: ConnectOptions) {
    this.address = `${options.host}:${options.port}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = this.decoder.push(chunk);
      } catch (error) {
        this.fail(`bad response frame: ${(error as Error).message}`);
        return;
      }
      for (const frame of frames) this.onFrame(frame);
    });
    socket.on('error', (error) => this.fail(error.message));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.fail('connection closed by the broker');
      resolve();
    }));
  }

  /** Connects; rejects with a ConnectionError naming the address (refused, unknown host, timeout). */
  static connect(options: ConnectOptions): Promise<KafkaConnection> {
    const address = `${options.host}:${options.port}`;
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port });
      const timer = timeoutMs > 0 ? setTimeout(() => {
        socket.destroy();
        reject(new ConnectionError(address, `cannot connect to ${address}: no answer within ${timeoutMs} ms`));
      }, timeoutMs) : undefined;
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new KafkaConnection(socket, options));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new ConnectionError(address, `cannot connect to ${address}: ${error.code ?? error.message}`, { cause: error }));
      });
    });
  }

  get isOpen(): boolean {
    return this.failure === undefined;
  }

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  /** Sends a request and resolves with its decoded response body. */
  request<Response = unknown>(apiKey: number, apiVersion: number, body: unknown, timeoutMs?: number): Promise<Response> {
    return this.requestFrame<Response>(KafkaConnection.encodeRequest(apiKey, apiVersion, body, this.options.clientId ?? 'samsa'), timeoutMs);
  }

  /**
   * Sends a frame made by `encodeRequest` (its correlation id is set here, on the frame itself:
   * pass a fresh copy when a frame is sent again while an earlier send may still be queued).
   */
  requestFrame<Response = unknown>(frame: Buffer, timeoutMs = this.options.timeoutMs ?? 30_000): Promise<Response> {
    if (this.failure) return Promise.reject(this.failure);
    const apiKey = frame.readInt16BE(4);
    const apiVersion = frame.readInt16BE(6);
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) | 0;
    frame.writeInt32BE(correlationId, CORRELATION_ID_AT);
    return new Promise<Response>((resolve, reject) => {
      const timer = timeoutMs > 0
        ? setTimeout(() => this.fail(`no answer to API ${apiKey} v${apiVersion} within ${timeoutMs} ms`), timeoutMs)
        : undefined;
      this.inFlight.push({ correlationId, apiKey, apiVersion, resolve: resolve as (value: unknown) => void, reject, timer });
      this.socket.write(frame);
    });
  }

  /** A whole request frame (size prefix included, correlation id 0) from the generated codecs. */
  static encodeRequest(apiKey: number, apiVersion: number, body: unknown, clientId: string): Buffer {
    const codecs = codecsForApiKey(apiKey);
    if (!codecs) throw new Error(`no codec for API key ${apiKey}`);
    const writer = new ProtocolWriter(256);
    writer.writeInt32(0);
    RequestHeaderCodec.encode(writer, { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId: 0, clientId }, requestHeaderVersion(apiKey, apiVersion));
    codecs.request.encode(writer, body, apiVersion);
    writer.patchInt32(0, writer.offset - 4);
    return Buffer.from(writer.toUint8Array());
  }

  close(): void {
    this.fail('connection closed');
  }

  private onFrame(frame: Buffer): void {
    const waiting = this.inFlight.shift();
    if (!waiting) {
      this.fail('a response arrived for no request');
      return;
    }
    clearTimeout(waiting.timer);
    let body: unknown;
    try {
      const reader = new ProtocolReader(frame);
      const header = ResponseHeaderCodec.decode(reader, responseHeaderVersion(waiting.apiKey, waiting.apiVersion));
      if (header.correlationId !== waiting.correlationId) throw new Error(`response out of order: expected correlation id ${waiting.correlationId}, got ${header.correlationId}`);
      body = codecsForApiKey(waiting.apiKey)!.response.decode(reader, waiting.apiVersion);
    } catch (error) {
      const failure = new ConnectionError(this.address, `${this.address}: bad response to API ${waiting.apiKey} v${waiting.apiVersion}: ${(error as Error).message}`);
      waiting.reject(failure);
      this.fail(failure.message);
      return;
    }
    waiting.resolve(body);
  }

  /** Closes the socket and fails every request in flight (the first reason wins). */
  private fail(reason: string): void {
    this.failure ??= new ConnectionError(this.address, `${this.address}: ${reason}`);
    for (const waiting of this.inFlight.splice(0)) {
      clearTimeout(waiting.timer);
      waiting.reject(this.failure);
    }
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
