/**
 * Which header version goes with which request or response, and reading a request header before
 * the API is known.
 *
 *   request  header v1: apiKey int16, apiVersion int16, correlationId int32, clientId string
 *            header v2: the same, then a tagged-field section (for flexible request versions)
 *   response header v0: correlationId int32
 *            header v1: correlationId, then a tagged-field section (for flexible response
 *                       versions, except ApiVersions: a client reads its answer before it knows
 *                       what the broker speaks, so that answer always has header v0)
 *
 * The client id stays a classic int16-length string even in header v2, so that any broker can
 * read the header of any ApiVersions request. (Header v0, without a client id, only serves
 * ControlledShutdown v0, which Samsa does not implement.)
 */
import { codecsForApiKey } from './generated/messages/index.js';
import { decodeRequestHeader, type RequestHeader } from './generated/messages/request-header.js';
import { isFlexibleVersion } from './message-codec.js';
import type { ProtocolReader } from './reader.js';

export const API_VERSIONS_API_KEY = 18;

/**
 * Header version of a request. Flexibility is open-ended, so a version above the highest known
 * one still gets header v2 when the API has flexible versions; an unknown API gets v1, which is
 * enough to read its correlation id and client id and answer with an error.
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): 1 | 2 {
  const codecs = codecsForApiKey(apiKey);
  return codecs !== undefined && isFlexibleVersion(codecs.request, apiVersion) ? 2 : 1;
}

/** Header version of a response; always 0 for ApiVersions. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === API_VERSIONS_API_KEY) return 0;
  const codecs = codecsForApiKey(apiKey);
  return codecs !== undefined && isFlexibleVersion(codecs.response, apiVersion) ? 1 : 0;
}

/** Reads a request header, choosing its version from the API key and version it starts with. */
export function readRequestHeader(reader: ProtocolReader): RequestHeader {
  const apiKey = reader.peekInt16(0);
  const apiVersion = reader.peekInt16(2);
  return decodeRequestHeader(reader, requestHeaderVersion(apiKey, apiVersion));
}
