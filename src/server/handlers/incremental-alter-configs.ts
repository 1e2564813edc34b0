/**
 * IncrementalAlterConfigs (44): changes some of a topic's configs and keeps the others.
 *
 *   SET       name=value
 *   DELETE    name back to the broker's default
 *   APPEND    adds values to a list config (cleanup.policy) that it does not hold yet
 *   SUBTRACT  removes values from a list config
 *
 * APPEND and SUBTRACT start from the effective value (the topic's own, else the broker's
 * default) and apply to list configs only (INVALID_CONFIG otherwise). The result is validated
 * and stored as AlterConfigs stores it: in the metadata log, applied to the partition logs.
 */
import type { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from '../../protocol/generated/messages/index.js';
import type { AlterableConfig, AlterConfigsResource } from '../../protocol/generated/messages/incremental-alter-configs-request.js';
import { TOPIC_CONFIG_KEYS } from '../../log/log-config.js';
import { topicLogConfig, type BrokerConfig } from '../broker-config.js';
import { alterConfigResources, type ConfigAlteration, type TopicConfigsChange } from '../config-resources.js';
import type { TopicState } from '../controller-state.js';
import { ConfigType, formatConfigValue, TOPIC_CONFIG_INFO } from '../described-configs.js';
import { defineHandler } from '../handler.js';

/** Kafka's AlterConfigOp.OpType values. */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

function listItems(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** The topic's explicit configs after the operations, or the first operation's error. */
function applyOperations(topic: TopicState, broker: BrokerConfig, operations: readonly AlterableConfig[]): TopicConfigsChange {
  const configs: Record<string, string> = { ...topic.configs };
  for (const { name, configOperation, value } of operations) {
    if (configOperation < ConfigOperation.SET || configOperation > ConfigOperation.SUBTRACT) {
      return { error: 'INVALID_REQUEST', message: `unknown config operation ${configOperation} for '${name}'` };
    }
    const field = TOPIC_CONFIG_KEYS[name]?.[0];
    if (field === undefined) return { error: 'INVALID_CONFIG', message: `unknown topic config: ${name}` };
    if (configOperation === ConfigOperation.DELETE) {
      delete configs[name];
      continue;
    }
    if (value === null) return { error: 'INVALID_REQUEST', message: `null value not supported for: ${name}` };
    if (configOperation === ConfigOperation.SET) {
      configs[name] = value;
      continue;
    }
    const verb = configOperation === ConfigOperation.APPEND ? 'append' : 'subtract';
    if (TOPIC_CONFIG_INFO[name]!.type !== ConfigType.LIST) return { error: 'INVALID_CONFIG', message: `config value ${verb} is not allowed for config key: ${name}` };
    const current = listItems(configs[name] ?? formatConfigValue(topicLogConfig(broker, topic.configs)[field]));
    const given = listItems(value);
    const next = configOperation === ConfigOperation.APPEND
      ? [...current, ...given.filter((item) => !current.includes(item))]
      : current.filter((item) => !given.includes(item));
    configs[name] = next.join(',');
  }
  return { configs };
}

export const incrementalAlterConfigsHandler = defineHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>({
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, context) {
    const alteration: ConfigAlteration<AlterConfigsResource> = {
      topicConfigs: (resource, topic) => applyOperations(topic, context.cluster.config, resource.configs),
      logMessage: 'topic configs changed',
    };
    return { throttleTimeMs: 0, responses: await alterConfigResources(request.resources, request.validateOnly, context, alteration) };
  },
});
