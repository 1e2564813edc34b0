/**
 * Every request handler the broker serves. Adding an API is adding its file and a line here;
 * ApiVersions then advertises it.
 */
import { HandlerRegistry } from '../handler-registry.js';
import { apiVersionsHandler } from './api-versions.js';
import { createTopicsHandler } from './create-topics.js';
import { fetchHandler } from './fetch.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { produceHandler } from './produce.js';

export const HANDLERS = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
  createTopicsHandler,
] as const;

export function defaultRegistry(): HandlerRegistry {
  return new HandlerRegistry(HANDLERS);
}
