/**
 * The table of request handlers by API key. ApiVersions answers from it, so a client is told
 * exactly the versions the handlers serve. Each handler's range is checked at construction
 * against the generated codecs: advertising a version that cannot be decoded would be a bug.
 */
import { codecsForApiKey, type ApiCodecs } from '../protocol/generated/messages/index.js';
import type { ApiVersion } from '../protocol/generated/messages/api-versions-response.js';
import type { ApiHandler } from './handler.js';

export interface RegisteredHandler {
  readonly handler: ApiHandler<unknown, unknown>;
  readonly codecs: ApiCodecs;
}

/**
 * Produce is advertised from v0 though only v3 and later are served (a v0-2 request closes the
 * connection, as any unsupported version does), as Kafka 4 does (KAFKA-18659): librdkafka
 * before 2.11.1 compresses with gzip, snappy or lz4 only if the broker lists Produce v0, and
 * otherwise sends every batch uncompressed without a word (librdkafka #4956). Clients use the
 * highest version both sides support, so none is led to send v0-2.
 */
const ADVERTISED_MIN_VERSION: ReadonlyMap<number, number> = new Map([[0, 0]]);

export class HandlerRegistry {
  private readonly byApiKey = new Map<number, RegisteredHandler>();

  constructor(handlers: readonly ApiHandler<never, unknown>[]) {
    for (const handler of handlers as readonly ApiHandler<unknown, unknown>[]) {
      const codecs = codecsForApiKey(handler.apiKey);
      if (!codecs) throw new Error(`no codecs for API key ${handler.apiKey}`);
      const valid = codecs.request.validVersions;
      if (handler.minVersion < valid.lowest || handler.maxVersion > valid.highest || handler.minVersion > handler.maxVersion) {
        throw new Error(`${codecs.apiName} handler serves ${handler.minVersion}-${handler.maxVersion}, outside the spec's ${valid.lowest}-${valid.highest}`);
      }
      if (this.byApiKey.has(handler.apiKey)) throw new Error(`two handlers for ${codecs.apiName}`);
      this.byApiKey.set(handler.apiKey, { handler, codecs });
    }
  }

  get(apiKey: number): RegisteredHandler | undefined {
    return this.byApiKey.get(apiKey);
  }

  /** The ApiVersions answer: every API served, by ascending key. */
  apiVersions(): ApiVersion[] {
    return [...this.byApiKey.values()]
      .map(({ handler }) => ({ apiKey: handler.apiKey, minVersion: ADVERTISED_MIN_VERSION.get(handler.apiKey) ?? handler.minVersion, maxVersion: handler.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
