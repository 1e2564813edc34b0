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
      .map(({ handler }) => ({ apiKey: handler.apiKey, minVersion: handler.minVersion, maxVersion: handler.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
