/**
 * Configs as Kafka describes them (CreateTopics v5+ answers, DescribeConfigs): every name with
 * its effective value, where that value comes from, its synonyms, type and documentation.
 *
 * A topic config's value comes from the first of these that is set; its synonyms list every one
 * that is set, in this order, ending with the default (Kafka's ConfigHelper does the same):
 *
 *   retention.ms=3600000 on the topic      DYNAMIC_TOPIC_CONFIG   CreateTopics, AlterConfigs
 *   log.retention.hours=2 on the broker    STATIC_BROKER_CONFIG   server.properties, --override
 *   log.retention.ms=604800000             DEFAULT_CONFIG         Kafka's default
 *
 * Broker settings are read-only here (they are read at start; there are no dynamic broker
 * configs), topic configs are not (AlterConfigs, IncrementalAlterConfigs).
 */
import { BROKER_LOG_DEFAULT_KEYS, DEFAULT_LOG_CONFIG, TOPIC_CONFIG_KEYS, type LogConfig } from '../log/log-config.js';
import { DEFAULT_BROKER_CONFIG, RETENTION_UNITS_MS, type BrokerConfig } from './broker-config.js';

/** Kafka's ConfigSource values (DescribeConfigs v1+). */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** Kafka's ConfigType values (DescribeConfigs v3+). */
export const ConfigType = {
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
} as const;

export interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

export interface DescribedConfig {
  readonly name: string;
  readonly value: string;
  readonly readOnly: boolean;
  readonly configSource: number;
  /** True when the value is the default; DescribeConfigs v0 sends it, later versions the source. */
  readonly isDefault: boolean;
  readonly isSensitive: boolean;
  readonly synonyms: ConfigSynonym[];
  readonly configType: number;
  readonly documentation: string;
}

interface ConfigInfo {
  readonly type: number;
  readonly documentation: string;
}

/** Type and documentation of every topic config in TOPIC_CONFIG_KEYS. */
export const TOPIC_CONFIG_INFO: Readonly<Record<string, ConfigInfo>> = {
  'segment.bytes': { type: ConfigType.INT, documentation: 'The size of a segment file; a new segment is rolled when the active one is full.' },
  'segment.ms': { type: ConfigType.LONG, documentation: 'The time after which the active segment is rolled even if not full, so that retention can delete or compact it.' },
  'index.interval.bytes': { type: ConfigType.INT, documentation: 'How many bytes of batches lie between two entries of the offset index.' },
  'max.message.bytes': { type: ConfigType.INT, documentation: 'The largest record batch the topic accepts.' },
  'message.timestamp.type': { type: ConfigType.STRING, documentation: 'CreateTime keeps the producer\'s timestamps; LogAppendTime stamps batches with the broker\'s time.' },
  'flush.messages': { type: ConfigType.LONG, documentation: 'The number of messages after which the log is fsynced.' },
  'flush.ms': { type: ConfigType.LONG, documentation: 'The time after which unflushed messages are fsynced.' },
  'retention.ms': { type: ConfigType.LONG, documentation: 'How long records are kept before their segment is deleted (delete policy); -1 for no limit.' },
  'retention.bytes': { type: ConfigType.LONG, documentation: 'How large a partition grows before its oldest segments are deleted (delete policy); -1 for no limit.' },
  'cleanup.policy': { type: ConfigType.LIST, documentation: 'delete (by retention time and size), compact (keep the last record of each key), or both.' },
  'delete.retention.ms': { type: ConfigType.LONG, documentation: 'How long tombstones are kept in a compacted topic.' },
  'min.cleanable.dirty.ratio': { type: ConfigType.DOUBLE, documentation: 'The share of the log that must be uncompacted before the log is compacted.' },
};

interface BrokerSettingInfo extends ConfigInfo {
  readonly value: (config: BrokerConfig) => unknown;
}

/** The broker's own settings (broker-config.ts BROKER_KEYS); its log.* settings come from TOPIC_CONFIG_INFO. */
const BROKER_SETTING_INFO: Readonly<Record<string, BrokerSettingInfo>> = {
  'num.partitions': { type: ConfigType.INT, value: (config) => config.numPartitions, documentation: 'The number of partitions of a topic created without a count.' },
  'default.replication.factor': { type: ConfigType.INT, value: (config) => config.defaultReplicationFactor, documentation: 'The replication factor of a topic created without one.' },
  'auto.create.topics.enable': { type: ConfigType.BOOLEAN, value: (config) => config.autoCreateTopicsEnable, documentation: 'Whether Metadata requests create the unknown topics they name.' },
  'socket.request.max.bytes': { type: ConfigType.INT, value: (config) => config.socketRequestMaxBytes, documentation: 'The largest request frame accepted.' },
  'log.retention.check.interval.ms': { type: ConfigType.LONG, value: (config) => config.logRetentionCheckIntervalMs, documentation: 'How often retention is applied.' },
  'log.cleaner.backoff.ms': { type: ConfigType.LONG, value: (config) => config.logCleanerBackoffMs, documentation: 'How often a compacted log looks for segments to clean.' },
  'offsets.topic.num.partitions': { type: ConfigType.INT, value: (config) => config.groups.offsetsTopicPartitions, documentation: 'The number of partitions of __consumer_offsets (fixed once it exists).' },
  'offsets.topic.replication.factor': { type: ConfigType.INT, value: () => 1, documentation: 'Accepted for compatibility; __consumer_offsets has one replica until replication exists.' },
  'offsets.topic.segment.bytes': { type: ConfigType.INT, value: (config) => config.groups.offsetsTopicSegmentBytes, documentation: 'The segment size of __consumer_offsets.' },
  'offsets.retention.minutes': { type: ConfigType.INT, value: (config) => config.groups.offsetsRetentionMs / 60_000, documentation: 'How long the offsets of an empty group (or of a standalone consumer) are kept.' },
  'offsets.retention.check.interval.ms': { type: ConfigType.LONG, value: (config) => config.groups.offsetsRetentionCheckIntervalMs, documentation: 'How often expired offsets are removed.' },
  'offset.metadata.max.bytes': { type: ConfigType.INT, value: (config) => config.groups.offsetMetadataMaxBytes, documentation: 'The largest metadata string an offset commit may carry.' },
  'group.initial.rebalance.delay.ms': { type: ConfigType.INT, value: (config) => config.groups.initialRebalanceDelayMs, documentation: 'How long the first rebalance of an empty group waits for more members.' },
  'group.min.session.timeout.ms': { type: ConfigType.INT, value: (config) => config.groups.minSessionTimeoutMs, documentation: 'The smallest session timeout a member may ask for.' },
  'group.max.session.timeout.ms': { type: ConfigType.INT, value: (config) => config.groups.maxSessionTimeoutMs, documentation: 'The largest session timeout a member may ask for.' },
  'group.max.size': { type: ConfigType.INT, value: (config) => config.groups.maxSize, documentation: 'The most members a group may have.' },
  'transaction.state.log.num.partitions': { type: ConfigType.INT, value: (config) => config.groups.transactionTopicPartitions, documentation: 'The number of partitions of __transaction_state.' },
  'samsa.log.page.cache.max.bytes': { type: ConfigType.LONG, value: (config) => config.pageCacheMaxBytes, documentation: 'The most log bytes the brokers keep in the page cache (split over the broker threads); the oldest written ranges are dropped once on disk, and reads of dropped data stream through a read-ahead (0: no limit, the kernel decides, as in Kafka). Default: a quarter of the memory.' },
  'samsa.log.segment.spare.enable': { type: ConfigType.BOOLEAN, value: (config) => config.segmentSpareEnable, documentation: 'Whether each broker thread keeps one spare segment file of log.segment.bytes with all its blocks allocated, which the next new segment written fast (4 MiB within a second) moves onto, so that no append waits for the file system to allocate blocks. Costs log.segment.bytes of disk per broker thread once a fast segment has been seen.' },
};

/** Topic config name -> the broker setting that is its default (retention.ms -> log.retention.ms). */
const BROKER_NAME_OF: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(BROKER_LOG_DEFAULT_KEYS).map(([broker, topic]) => [topic, broker]));

/** Kafka spells "no limit" as Long.MAX_VALUE; the log config keeps it as MAX_SAFE_INTEGER. */
export function formatConfigValue(value: unknown): string {
  if (value === Number.MAX_SAFE_INTEGER) return '9223372036854775807';
  return String(value);
}

/** The broker settings that were given for a topic config, in Kafka's order of precedence. */
function staticSynonyms(broker: BrokerConfig, topicConfig: string): ConfigSynonym[] {
  const names = [BROKER_NAME_OF[topicConfig]!, ...(topicConfig === 'retention.ms' ? Object.keys(RETENTION_UNITS_MS) : [])];
  return names
    .filter((name) => broker.settings[name] !== undefined)
    .map((name) => ({ name, value: broker.settings[name]!, source: ConfigSource.STATIC_BROKER_CONFIG }));
}

function describe(name: string, value: string, readOnly: boolean, synonyms: ConfigSynonym[], info: ConfigInfo): DescribedConfig {
  const source = synonyms[0]!.source;
  return {
    name,
    value,
    readOnly,
    configSource: source,
    isDefault: source === ConfigSource.DEFAULT_CONFIG,
    isSensitive: false,
    synonyms,
    configType: info.type,
    documentation: info.documentation,
  };
}

/** Every topic config with its effective value; `explicit` holds the ones set on the topic. */
export function describeTopicConfigs(broker: BrokerConfig, effective: LogConfig, explicit: Readonly<Record<string, string>>): DescribedConfig[] {
  return Object.entries(TOPIC_CONFIG_KEYS).map(([name, [field]]) => {
    const synonyms: ConfigSynonym[] = [];
    if (explicit[name] !== undefined) synonyms.push({ name, value: explicit[name], source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    synonyms.push(...staticSynonyms(broker, name));
    synonyms.push({ name: BROKER_NAME_OF[name]!, value: formatConfigValue(DEFAULT_LOG_CONFIG[field]), source: ConfigSource.DEFAULT_CONFIG });
    return describe(name, formatConfigValue(effective[field]), false, synonyms, TOPIC_CONFIG_INFO[name]!);
  });
}

/** Every broker setting with its value (the same on every broker of the process). */
export function describeBrokerConfigs(broker: BrokerConfig): DescribedConfig[] {
  const own = Object.entries(BROKER_SETTING_INFO).map(([name, info]) => {
    const synonyms: ConfigSynonym[] = [];
    if (broker.settings[name] !== undefined) synonyms.push({ name, value: broker.settings[name], source: ConfigSource.STATIC_BROKER_CONFIG });
    synonyms.push({ name, value: formatConfigValue(info.value(DEFAULT_BROKER_CONFIG)), source: ConfigSource.DEFAULT_CONFIG });
    return describe(name, formatConfigValue(info.value(broker)), true, synonyms, info);
  });
  const log = Object.entries(BROKER_LOG_DEFAULT_KEYS).map(([name, topicConfig]) => {
    const field = TOPIC_CONFIG_KEYS[topicConfig]![0];
    const synonyms = staticSynonyms(broker, topicConfig);
    synonyms.push({ name, value: formatConfigValue(DEFAULT_LOG_CONFIG[field]), source: ConfigSource.DEFAULT_CONFIG });
    return describe(name, formatConfigValue(broker.logConfig[field]), true, synonyms, TOPIC_CONFIG_INFO[topicConfig]!);
  });
  return [...own, ...log].sort((a, b) => a.name.localeCompare(b.name));
}

/** Names of the broker settings DescribeConfigs lists (tests check it against broker-config.ts). */
export function describedBrokerSettingNames(): string[] {
  return [...Object.keys(BROKER_SETTING_INFO), ...Object.keys(BROKER_LOG_DEFAULT_KEYS)].sort();
}
