/**
 * AlterConfigs (33): replaces a topic's configs as a whole. Configs named are set; every other
 * config falls back to the broker's default (use IncrementalAlterConfigs to change one config
 * and keep the rest). The change is written to the metadata log, so a restart keeps it, and
 * applied to the topic's partition logs at once. validateOnly checks without changing.
 *
 * Per resource: UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG (unknown name, bad value),
 * INVALID_REQUEST (a null value, a name or resource given twice). Broker settings cannot be
 * changed at run time (INVALID_CONFIG).
 */
import { ErrorCode, type ErrorCodeName } from '../../protocol/generated/error-codes.js';
import type { AlterConfigsRequest, AlterConfigsResponse } from '../../protocol/generated/messages/index.js';
import type { AlterConfigsResource } from '../../protocol/generated/messages/alter-configs-request.js';
import type { AlterConfigsResourceResponse } from '../../protocol/generated/messages/alter-configs-response.js';
import { duplicateConfigName, refuseBrokerChange, resolveConfigResource, resourceCounts } from '../config-resources.js';
import { defineHandler, type RequestContext } from '../handler.js';

async function alterResource(resource: AlterConfigsResource, validateOnly: boolean, duplicated: boolean, context: RequestContext): Promise<AlterConfigsResourceResponse> {
  const { resourceType, resourceName } = resource;
  const answer = (error?: ErrorCodeName, message?: string): AlterConfigsResourceResponse =>
    ({ errorCode: error ? ErrorCode[error] : ErrorCode.NONE, errorMessage: message ?? null, resourceType, resourceName });
  if (duplicated) return answer('INVALID_REQUEST', `resource '${resourceName}' appears more than once in the request`);
  const found = resolveConfigResource(resourceType, resourceName, context);
  if (found.kind === 'error') return answer(found.error, found.message);
  const duplicate = duplicateConfigName(resource.configs);
  if (duplicate !== undefined) return answer('INVALID_REQUEST', `config '${duplicate}' appears more than once`);
  const nulls = resource.configs.filter((entry) => entry.value === null).map((entry) => entry.name);
  if (nulls.length > 0) return answer('INVALID_REQUEST', `null value not supported for: ${nulls.join(', ')}`);
  if (found.kind === 'broker') {
    const refused = refuseBrokerChange(resource.configs.length);
    return refused ? answer(refused.error, refused.message) : answer();
  }
  const configs = Object.fromEntries(resource.configs.map((entry) => [entry.name, entry.value!]));
  const result = await context.cluster.alterTopicConfigs(found.topic.name, configs, validateOnly);
  if ('error' in result) return answer(result.error, result.message);
  if (!validateOnly) context.log.info({ topic: found.topic.name, configs }, 'topic configs replaced');
  return answer();
}

export const alterConfigsHandler = defineHandler<AlterConfigsRequest, AlterConfigsResponse>({
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    const count = resourceCounts(request.resources);
    const responses: AlterConfigsResourceResponse[] = [];
    for (const resource of request.resources) responses.push(await alterResource(resource, request.validateOnly, count(resource) > 1, context));
    return { throttleTimeMs: 0, responses };
  },
});
