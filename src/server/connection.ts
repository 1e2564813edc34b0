/**
 * One client connection: framing, request header, dispatch, and responses in request order.
 *
 * Requests are pipelined: each is handed to its handler as soon as it is decoded, so a long-poll
 * Fetch does not hold up a Metadata request behind it. Responses still leave in request order,
 * as Kafka's protocol requires (clients match them by position as well as correlation id):
 *
 *   requests   #1 Fetch (waits)   #2 Metadata (done)   #3 Produce (done)
 *   pending    [ #1 ...........,  #2 ready,            #3 ready ]   nothing sent yet
 *   #1 done -> [ #1 ready, #2 ready, #3 ready ] -> all three written, in order
 *
 * Bounds: at most `inFlightRequestsMax` requests pending per connection, and nothing more is
 * read while the socket's send buffer is full; past either, reading pauses (TCP backpressure
 * reaches the client) and resumes when responses drain.
 *
 * Responses are written without copying the record sets a Fetch returns: a response is a list
 * of chunks (ProtocolWriter.chunks(): its own bytes, and the stored batches as the log read
 * them), and everything ready is written under one cork()/uncork(), which makes one writev.
 * Once the socket has written them, the log's read buffers among the chunks go back to the
 * thread's data-path pool (src/protocol/buffer-pool.ts) for the next fetch. Requests are read
 * into buffers of the same pool, a large one straight into a buffer of its size
 * (src/protocol/frame-receiver.ts, socket-reads.ts); the frame goes back once the request is answered when
 * its handler says it keeps no view of it (ApiHandler.releasesRequestBytes: Produce, whose
 * records are in the log by then). Other frames are left to the collector.
 *
 * Bad input closes this connection only, with one log line, as Kafka does: a frame size over
 * socket.request.max.bytes or too small, an unknown API key, an unsupported version (except
 * ApiVersions, answered in v0 with UNSUPPORTED_VERSION so the client can retry lower), or a
 * request that does not decode.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { dataPathBuffers } from '../protocol/buffer-pool.js';
import { InvalidFrameError, REQUEST_FRAME_BYTES_MIN } from '../protocol/frame-decoder.js';
import { FrameReceiver } from '../protocol/frame-receiver.js';
import { ErrorCode } from '../protocol/generated/error-codes.js';
import { ResponseHeaderCodec } from '../protocol/generated/messages/index.js';
import { API_VERSIONS_API_KEY, readRequestHeader, responseHeaderVersion } from '../protocol/headers.js';
import type { MessageCodec } from '../protocol/message-codec.js';
import { ProtocolReader } from '../protocol/reader.js';
import { ProtocolWriter } from '../protocol/writer.js';
import { CLOSE_CONNECTION, NO_RESPONSE, type ClusterServices, type RequestContext } from './handler.js';
import type { HandlerRegistry } from './handler-registry.js';
import { readIntoOwnBuffers } from './socket-reads.js';

export const IN_FLIGHT_REQUESTS_MAX_DEFAULT = 64;
/**
 * Record sets from this size on are written from where the log read them rather than copied
 * into the response; below it a copy costs less than another chunk in the writev.
 */
const RECORDS_BY_REFERENCE_FROM_BYTES = 8 * 1024;

export interface ConnectionOptions {
  readonly nodeId: number;
  readonly cluster: ClusterServices;
  readonly registry: HandlerRegistry;
  readonly log: Logger;
  readonly frameBytesMax: number;
  readonly inFlightRequestsMax?: number;
}

interface PendingResponse {
  /** The framed response in chunks; undefined while the handler runs, null when there is none. */
  chunks: readonly Uint8Array[] | null | undefined;
  /** Close the connection once everything before this is written. */
  closeAfter?: boolean;
}

export class Connection {
  private readonly receiver: FrameReceiver;
  private readonly pending: PendingResponse[] = [];
  private readonly inFlightRequestsMax: number;
  private readonly log: Logger;
  private writeBlocked = false;
  private draining = false;
  private closed = false;
  private drained: (() => void) | undefined;
  /** The client's address as Kafka reports it (JoinGroup's client host): "/127.0.0.1". */
  private readonly clientHost: string;

  /**
   * @param socket an accepted socket that has not started reading (the server is created with
   *   pauseOnConnect); this starts it
   */
  constructor(private readonly socket: Socket, private readonly options: ConnectionOptions) {
    this.receiver = new FrameReceiver(options.frameBytesMax, REQUEST_FRAME_BYTES_MIN, dataPathBuffers);
    this.inFlightRequestsMax = options.inFlightRequestsMax ?? IN_FLIGHT_REQUESTS_MAX_DEFAULT;
    this.log = options.log.child({ remote: `${socket.remoteAddress}:${socket.remotePort}` });
    this.clientHost = `/${(socket.remoteAddress ?? '').replace(/^::ffff:/, '')}`;
    socket.setNoDelay(true);
    const ownBuffers = readIntoOwnBuffers(socket, () => this.receiver.nextBuffer(), (bytes) => {
      this.onReceived(bytes, undefined);
      return true;
    });
    if (!ownBuffers) socket.on('data', (chunk: Buffer) => this.onReceived(chunk.byteLength, chunk));
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.updateFlow();
    });
    socket.on('error', (error) => this.log.debug({ err: error }, 'connection error'));
    socket.on('close', () => {
      this.closed = true;
      this.receiver.dispose();
      this.drained?.();
    });
    socket.resume();
  }

  /**
   * Stops reading new requests, lets those already received finish and their responses go out,
   * then ends the connection. Resolves when the socket is closed.
   */
  drainAndClose(): Promise<void> {
    this.draining = true;
    // Keep reading (onData drops what arrives now): paused, a request the client sent meanwhile
    // would sit unread in front of its FIN, and the close would wait for the drain's time limit.
    this.socket.resume();
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = () => {
        this.drained = undefined;
        resolve();
      };
      this.endIfDrained();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Handles the frames that `bytes` just received complete: read into the receiver's buffer, or
   * given as `chunk` (the 'data' path).
   */
  private onReceived(bytes: number, chunk: Buffer | undefined): void {
    if (this.draining || this.closed) return;
    let frames: Buffer[];
    try {
      frames = chunk ? this.receiver.push(chunk) : this.receiver.received(bytes);
    } catch (error) {
      if (!(error instanceof InvalidFrameError)) throw error;
      this.closeForBadInput(error.message, { declaredSizeBytes: error.declaredSizeBytes });
      return;
    }
    for (const frame of frames) {
      if (this.closed || this.draining) return;
      this.onFrame(frame);
    }
    this.updateFlow();
  }

  private onFrame(frame: Buffer): void {
    const reader = new ProtocolReader(frame);
    const apiKey = reader.peekInt16(0);
    const apiVersion = reader.peekInt16(2);
    const registered = this.options.registry.get(apiKey);
    if (!registered) return this.closeForBadInput('unknown API key', { apiKey, apiVersion });
    let header;
    try {
      header = readRequestHeader(reader);
    } catch (error) {
      return this.closeForBadInput(`unreadable request header: ${(error as Error).message}`, { apiKey, apiVersion });
    }
    const { handler, codecs } = registered;
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === API_VERSIONS_API_KEY) {
        // The client asked with a version we cannot parse: answer in v0, which every client
        // reads, with the ranges we serve, so it retries with a version both sides know.
        const response = { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: this.options.registry.apiVersions() };
        this.pending.push({ chunks: encodeResponse(codecs.response, apiKey, 0, header.correlationId, response) });
        return this.flush();
      }
      return this.closeForBadInput(`unsupported version of ${codecs.apiName}`, { apiKey, apiVersion, supported: `${handler.minVersion}-${handler.maxVersion}` });
    }
    let request: unknown;
    try {
      request = codecs.request.decode(reader, apiVersion);
    } catch (error) {
      return this.closeForBadInput(`unreadable ${codecs.apiName} request: ${(error as Error).message}`, { apiKey, apiVersion });
    }
    const slot: PendingResponse = { chunks: undefined };
    this.pending.push(slot);
    const context: RequestContext = {
      nodeId: this.options.nodeId,
      cluster: this.options.cluster,
      registry: this.options.registry,
      header,
      apiVersion,
      clientHost: this.clientHost,
      log: this.log,
    };
    const complete = (response: unknown): void => {
      if (handler.releasesRequestBytes) dataPathBuffers.release(frame);
      slot.closeAfter = response === CLOSE_CONNECTION;
      slot.chunks = response === NO_RESPONSE || response === CLOSE_CONNECTION ? null : encodeResponse(codecs.response, apiKey, apiVersion, header.correlationId, response);
      this.flush();
    };
    const fail = (error: unknown): void => {
      this.log.error({ err: error, api: codecs.apiName, apiVersion, correlationId: header.correlationId }, 'request failed; closing the connection');
      this.socket.destroy();
    };
    try {
      // Called synchronously so that handlers start in request order (see ApiHandler.handle).
      const result = handler.handle(request, context) as unknown;
      if (result instanceof Promise) (result as Promise<unknown>).then(complete).catch(fail);
      else complete(result);
    } catch (error) {
      fail(error);
    }
  }

  /**
   * Writes every response that is ready and has no unfinished request before it, all of their
   * chunks in one writev (cork, write each, uncork).
   */
  private flush(): void {
    const ready: Uint8Array[] = [];
    let closeAfter = false;
    while (this.pending.length > 0 && this.pending[0]!.chunks !== undefined && !closeAfter) {
      const response = this.pending.shift()!;
      if (response.chunks && !this.closed) for (const chunk of response.chunks) ready.push(chunk);
      closeAfter = response.closeAfter === true;
    }
    if (ready.length > 0) this.write(ready);
    if (closeAfter) {
      this.log.debug('closing connection after a failed request that gets no response');
      this.pending.length = 0;
      this.closed = true;
      this.socket.end();
      return;
    }
    this.updateFlow();
    this.endIfDrained();
  }

  /** One writev for all of `chunks`; their read buffers are released once it is done. */
  private write(chunks: readonly Uint8Array[]): void {
    const written = (error?: Error | null): void => {
      if (error) return; // not written: nothing is reused, the collector takes them
      for (const chunk of chunks) dataPathBuffers.release(chunk);
    };
    this.socket.cork();
    for (let i = 0; i < chunks.length; i++) {
      if (!this.socket.write(chunks[i]!, i === chunks.length - 1 ? written : undefined)) this.writeBlocked = true;
    }
    this.socket.uncork();
  }

  private updateFlow(): void {
    if (this.closed || this.draining) return;
    const mustWait = this.writeBlocked || this.pending.length >= this.inFlightRequestsMax;
    if (mustWait && !this.socket.isPaused()) this.socket.pause();
    else if (!mustWait && this.socket.isPaused()) this.socket.resume();
  }

  private endIfDrained(): void {
    if (this.draining && this.pending.length === 0 && !this.closed) this.socket.end();
  }

  private closeForBadInput(reason: string, details: Record<string, unknown>): void {
    this.log.warn(details, `closing connection: ${reason}`);
    this.closed = true;
    this.socket.destroy();
  }
}

/**
 * Frames a response: size, response header (v0 or v1 by API and version), body; as chunks to be
 * written in order, large record sets referenced rather than copied. The size counts them all.
 */
export function encodeResponse(codec: MessageCodec<unknown>, apiKey: number, apiVersion: number, correlationId: number, response: unknown): Uint8Array[] {
  const writer = new ProtocolWriter(256, { recordsByReferenceFromBytes: RECORDS_BY_REFERENCE_FROM_BYTES });
  writer.writeInt32(0);
  ResponseHeaderCodec.encode(writer, { correlationId }, responseHeaderVersion(apiKey, apiVersion));
  codec.encode(writer, response, apiVersion);
  writer.patchInt32(0, writer.offset - 4);
  return writer.chunks();
}
