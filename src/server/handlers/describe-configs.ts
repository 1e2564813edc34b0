/**
 * DescribeConfigs (32): a topic's configs (effective value, source, synonyms) or a broker's
 * settings. `configurationKeys` null lists everything; a list names the configs wanted (names
 * not known are left out, as Kafka does). Synonyms only when asked for (includeSynonyms),
 * documentation likewise (v3+).
 *
 * v0 is not served: it is deprecated and every client on the table speaks v1 or later (kafkajs
 * ignores the minimum and would pick v2 anyway).
 */
import { ErrorCode } from '../../protocol/generated/error-codes.js';
import type { DescribeConfigsRequest, DescribeConfigsResponse } from '../../protocol/generated/messages/index.js';
import type { DescribeConfigsResource } from '../../protocol/generated/messages/describe-configs-request.js';
import type { DescribeConfigsResourceResult, DescribeConfigsResult } from '../../protocol/generated/messages/describe-configs-response.js';
import { topicLogConfig } from '../broker-config.js';
import { resolveConfigResource } from '../config-resources.js';
import { describeBrokerConfigs, describeTopicConfigs, type DescribedConfig } from '../described-configs.js';
import { defineHandler, type RequestContext } from '../handler.js';

interface Wanted {
  readonly includeSynonyms: boolean;
  readonly includeDocumentation: boolean;
}

function toResult(config: DescribedConfig, wanted: Wanted): DescribeConfigsResourceResult {
  return {
    name: config.name,
    value: config.value,
    readOnly: config.readOnly,
    configSource: config.configSource,
    isSensitive: config.isSensitive,
    synonyms: wanted.includeSynonyms ? config.synonyms.map((synonym) => ({ ...synonym })) : [],
    configType: config.configType,
    documentation: wanted.includeDocumentation ? config.documentation : null,
  };
}

function describeResource(resource: DescribeConfigsResource, wanted: Wanted, context: RequestContext): DescribeConfigsResult {
  const { resourceType, resourceName } = resource;
  const found = resolveConfigResource(resourceType, resourceName, context);
  if (found.kind === 'error') return { errorCode: ErrorCode[found.error], errorMessage: found.message, resourceType, resourceName, configs: [] };
  const { config } = context.cluster;
  let configs: DescribedConfig[];
  if (found.kind === 'topic') configs = describeTopicConfigs(config, topicLogConfig(config, found.topic.configs), found.topic.configs);
  else configs = found.nodeId === undefined ? [] : describeBrokerConfigs(config);
  const keys = resource.configurationKeys === null ? undefined : new Set(resource.configurationKeys);
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    resourceType,
    resourceName,
    configs: configs.filter((entry) => !keys || keys.has(entry.name)).map((entry) => toResult(entry, wanted)),
  };
}

export const describeConfigsHandler = defineHandler<DescribeConfigsRequest, DescribeConfigsResponse>({
  apiKey: 32,
  minVersion: 1,
  maxVersion: 4,
  handle(request, context) {
    const wanted = { includeSynonyms: request.includeSynonyms ?? false, includeDocumentation: request.includeDocumentation ?? false };
    return { throttleTimeMs: 0, results: request.resources.map((resource) => describeResource(resource, wanted, context)) };
  },
});
