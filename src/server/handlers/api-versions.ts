/**
 * ApiVersions (18): the APIs and versions this broker serves, straight from the handler
 * registry. A request in a version outside 0-3 never reaches here: the connection answers it
 * in v0 with UNSUPPORTED_VERSION (see connection.ts).
 */
import type { ApiVersionsRequest, ApiVersionsResponse } from '../../protocol/generated/messages/index.js';
import { defineHandler } from '../handler.js';

export const apiVersionsHandler = defineHandler<ApiVersionsRequest, ApiVersionsResponse>({
  apiKey: 18,
  minVersion: 0,
  maxVersion: 3,
  handle(_request, context) {
    return { errorCode: 0, apiKeys: context.registry.apiVersions(), throttleTimeMs: 0 };
  },
});
