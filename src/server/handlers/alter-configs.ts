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
import type { AlterConfigsRequest, AlterConfigsResponse } from '../../protocol/generated/messages/index.js';
import type { AlterConfigsResource } from '../../protocol/generated/messages/alter-configs-request.js';
import { alterConfigResources, type ConfigAlteration } from '../config-resources.js';
import { defineHandler } from '../handler.js';

const replaceConfigs: ConfigAlteration<AlterConfigsResource> = {
  refuse(resource) {
    const nulls = resource.configs.filter((entry) => entry.value === null).map((entry) => entry.name);
    return nulls.length > 0 ? { error: 'INVALID_REQUEST', message: `null value not supported for: ${nulls.join(', ')}` } : undefined;
  },
  topicConfigs: (resource) => ({ configs: Object.fromEntries(resource.configs.map((entry) => [entry.name, entry.value!])) }),
  logMessage: 'topic configs replaced',
};

export const alterConfigsHandler = defineHandler<AlterConfigsRequest, AlterConfigsResponse>({
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    return { throttleTimeMs: 0, responses: await alterConfigResources(request.resources, request.validateOnly, context, replaceConfigs) };
  },
});
