/**
 * A topic's configs as Kafka describes them (CreateTopics v5+ answers, DescribeConfigs later):
 * every topic config name with its effective value and where that value comes from.
 */
import { TOPIC_CONFIG_KEYS, type LogConfig } from '../log/log-config.js';
import type { BrokerConfig } from './broker-config.js';

/** Kafka's ConfigSource values. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

export interface DescribedConfig {
  readonly name: string;
  readonly value: string;
  readonly readOnly: boolean;
  readonly configSource: number;
  readonly isSensitive: boolean;
}

/** Kafka spells "no limit" as Long.MAX_VALUE; the log config keeps it as MAX_SAFE_INTEGER. */
function formatValue(value: unknown): string {
  if (value === Number.MAX_SAFE_INTEGER) return '9223372036854775807';
  return String(value);
}

export function describeTopicConfigs(broker: BrokerConfig, effective: LogConfig, explicit: Readonly<Record<string, string>>): DescribedConfig[] {
  return Object.entries(TOPIC_CONFIG_KEYS).map(([name, [field]]) => ({
    name,
    value: formatValue(effective[field]),
    readOnly: false,
    configSource: name in explicit ? ConfigSource.DYNAMIC_TOPIC_CONFIG : name in broker.logDefaults ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG,
    isSensitive: false,
  }));
}
