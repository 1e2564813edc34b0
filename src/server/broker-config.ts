/**
 * Broker settings under their Kafka names, from a server.properties file and --override
 * key=value pairs (overrides win). An unknown name or a bad value is refused at start with a
 * message naming it: a typo silently ignored is a setting silently not applied.
 *
 * Log settings (log.segment.bytes, message.max.bytes, ...) are the defaults of every topic's
 * LogConfig; a topic's own configs (CreateTopics) override them.
 */
import os from 'node:os';
import { BROKER_LOG_DEFAULT_KEYS, DEFAULT_LOG_CONFIG, TOPIC_CONFIG_KEYS, withTopicConfigs, type LogConfig } from '../log/log-config.js';
import { SOCKET_REQUEST_BYTES_MAX_DEFAULT } from '../protocol/frame-decoder.js';

export interface BrokerConfig {
  /** num.partitions: partitions of a topic created without a count (auto-create, -1). */
  readonly numPartitions: number;
  /** default.replication.factor: accepted and reported; replication itself comes later. */
  readonly defaultReplicationFactor: number;
  readonly autoCreateTopicsEnable: boolean;
  readonly socketRequestMaxBytes: number;
  /** log.retention.check.interval.ms: how often retention and flush.ms are applied. */
  readonly logRetentionCheckIntervalMs: number;
  /** log.cleaner.backoff.ms: how often a compacted log looks for cleanable segments. */
  readonly logCleanerBackoffMs: number;
  /** The broker-level log settings, as topic config names, as given (DescribeConfigs sources). */
  readonly logDefaults: Readonly<Record<string, string>>;
  /** Every setting given (server.properties, then overrides), by its own name: what DescribeConfigs reports as static. */
  readonly settings: Readonly<Record<string, string>>;
  /** Every topic's base LogConfig: Kafka's defaults with the broker's log settings applied. */
  readonly logConfig: LogConfig;
  /** Consumer groups and __consumer_offsets (offsets.*, group.*): see groups below. */
  readonly groups: GroupConfig;
  /**
   * samsa.log.page.cache.max.bytes: the most log bytes the brokers keep in the page cache,
   * split evenly over the broker threads (src/log/page-cache-budget.ts); 0: no limit, the
   * kernel decides what stays cached, as in Kafka.
   */
  readonly pageCacheMaxBytes: number;
  /**
   * samsa.log.segment.spare.enable: each broker thread keeps one spare segment file of
   * log.segment.bytes, all its blocks allocated, for the next new segment written fast to move
   * onto (src/log/segment-spares.ts); false: fast segments allocate in place.
   */
  readonly segmentSpareEnable: boolean;
}

/** The group coordinator's settings, under Kafka's names. */
export interface GroupConfig {
  /** offsets.topic.num.partitions */
  readonly offsetsTopicPartitions: number;
  /** offsets.topic.segment.bytes */
  readonly offsetsTopicSegmentBytes: number;
  /** offsets.retention.minutes, in ms */
  readonly offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  readonly offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes */
  readonly offsetMetadataMaxBytes: number;
  /** group.initial.rebalance.delay.ms */
  readonly initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms, group.max.session.timeout.ms */
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** group.max.size */
  readonly maxSize: number;
  /** transaction.state.log.num.partitions: FindCoordinator for transactional ids. */
  readonly transactionTopicPartitions: number;
}

export const DEFAULT_GROUP_CONFIG: GroupConfig = {
  offsetsTopicPartitions: 50,
  offsetsTopicSegmentBytes: 104_857_600,
  offsetsRetentionMs: 7 * 24 * 3_600_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxSize: 2_147_483_647,
  transactionTopicPartitions: 50,
};

export const DEFAULT_BROKER_CONFIG: BrokerConfig = {
  numPartitions: 1,
  defaultReplicationFactor: 1,
  autoCreateTopicsEnable: true,
  socketRequestMaxBytes: SOCKET_REQUEST_BYTES_MAX_DEFAULT,
  logRetentionCheckIntervalMs: 300_000,
  logCleanerBackoffMs: 15_000,
  logDefaults: {},
  settings: {},
  logConfig: DEFAULT_LOG_CONFIG,
  groups: DEFAULT_GROUP_CONFIG,
  pageCacheMaxBytes: defaultPageCacheMaxBytes(os.totalmem()),
  segmentSpareEnable: true,
};

/** The default page-cache budget: a quarter of the machine's memory, in whole MiB. */
export function defaultPageCacheMaxBytes(totalMemoryBytes: number): number {
  return Math.floor(totalMemoryBytes / 4 / 2 ** 20) * 2 ** 20;
}

/** The budget of one of `brokers` broker threads; 0: no budget. */
export function pageCacheShareBytes(config: BrokerConfig, brokers: number): number {
  return config.pageCacheMaxBytes > 0 ? Math.max(1, Math.floor(config.pageCacheMaxBytes / brokers)) : 0;
}

const integerAtLeast = (min: number) => (value: string, name: string): number => {
  const parsed = Number(value.trim());
  if (!Number.isSafeInteger(parsed) || value.trim() === '') throw new Error(`${name}: not an integer: ${value}`);
  if (parsed < min) throw new Error(`${name}: must be at least ${min}, got ${value}`);
  return parsed;
};
/** A timer's period: Node's timers take 1 to 2^31-1 ms (outside that, setTimeout fires after 1 ms). */
const TIMER_MS_MAX = 2 ** 31 - 1;
const timerMs = (value: string, name: string): number => {
  const parsed = integerAtLeast(1)(value, name);
  if (parsed > TIMER_MS_MAX) throw new Error(`${name}: must be at most ${TIMER_MS_MAX}, got ${value}`);
  return parsed;
};
const boolean = (value: string, name: string): boolean => {
  const normalized = value.trim().toLowerCase();
  if (normalized !== 'true' && normalized !== 'false') throw new Error(`${name}: must be true or false, got ${value}`);
  return normalized === 'true';
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const BROKER_KEYS: Record<string, (config: Mutable<BrokerConfig>, value: string, name: string) => void> = {
  'num.partitions': (config, value, name) => { config.numPartitions = integerAtLeast(1)(value, name); },
  'default.replication.factor': (config, value, name) => { config.defaultReplicationFactor = integerAtLeast(1)(value, name); },
  'auto.create.topics.enable': (config, value, name) => { config.autoCreateTopicsEnable = boolean(value, name); },
  'socket.request.max.bytes': (config, value, name) => { config.socketRequestMaxBytes = integerAtLeast(1)(value, name); },
  'log.retention.check.interval.ms': (config, value, name) => { config.logRetentionCheckIntervalMs = timerMs(value, name); },
  'log.cleaner.backoff.ms': (config, value, name) => { config.logCleanerBackoffMs = timerMs(value, name); },
  'offsets.topic.num.partitions': (config, value, name) => { config.groups = { ...config.groups, offsetsTopicPartitions: integerAtLeast(1)(value, name) }; },
  // Accepted for server.properties written for Kafka; replication comes later (factor 1 today).
  'offsets.topic.replication.factor': (_config, value, name) => { integerAtLeast(1)(value, name); },
  'offsets.topic.segment.bytes': (config, value, name) => { config.groups = { ...config.groups, offsetsTopicSegmentBytes: integerAtLeast(1)(value, name) }; },
  'offsets.retention.minutes': (config, value, name) => { config.groups = { ...config.groups, offsetsRetentionMs: integerAtLeast(1)(value, name) * 60_000 }; },
  'offsets.retention.check.interval.ms': (config, value, name) => { config.groups = { ...config.groups, offsetsRetentionCheckIntervalMs: timerMs(value, name) }; },
  'offset.metadata.max.bytes': (config, value, name) => { config.groups = { ...config.groups, offsetMetadataMaxBytes: integerAtLeast(0)(value, name) }; },
  'group.initial.rebalance.delay.ms': (config, value, name) => { config.groups = { ...config.groups, initialRebalanceDelayMs: integerAtLeast(0)(value, name) }; },
  'group.min.session.timeout.ms': (config, value, name) => { config.groups = { ...config.groups, minSessionTimeoutMs: integerAtLeast(0)(value, name) }; },
  'group.max.session.timeout.ms': (config, value, name) => { config.groups = { ...config.groups, maxSessionTimeoutMs: integerAtLeast(1)(value, name) }; },
  'group.max.size': (config, value, name) => { config.groups = { ...config.groups, maxSize: integerAtLeast(1)(value, name) }; },
  'transaction.state.log.num.partitions': (config, value, name) => { config.groups = { ...config.groups, transactionTopicPartitions: integerAtLeast(1)(value, name) }; },
  // Samsa's own: the page-cache budget of all brokers' logs (src/log/page-cache-budget.ts); 0 = no limit.
  'samsa.log.page.cache.max.bytes': (config, value, name) => { config.pageCacheMaxBytes = integerAtLeast(0)(value, name); },
  // Samsa's own: a spare segment file per broker thread (src/log/segment-spares.ts).
  'samsa.log.segment.spare.enable': (config, value, name) => { config.segmentSpareEnable = boolean(value, name); },
};

/** Kafka's alternative spellings of retention, converted to log.retention.ms. */
export const RETENTION_UNITS_MS: Record<string, number> = { 'log.retention.hours': 3_600_000, 'log.retention.minutes': 60_000 };

/** Every name accepted, for error messages and documentation. */
export function knownBrokerSettings(): string[] {
  return [...Object.keys(BROKER_KEYS), ...Object.keys(BROKER_LOG_DEFAULT_KEYS), ...Object.keys(RETENTION_UNITS_MS)].sort();
}

/** Builds the config from settings in order (later ones win); throws naming the bad setting. */
export function brokerConfigFrom(settings: Iterable<[string, string]>): BrokerConfig {
  const config: Mutable<BrokerConfig> = { ...DEFAULT_BROKER_CONFIG };
  const logDefaults: Record<string, string> = {};
  const given: Record<string, string> = {};
  for (const [name, value] of settings) {
    const brokerSetter = BROKER_KEYS[name];
    const topicName = BROKER_LOG_DEFAULT_KEYS[name];
    if (brokerSetter) {
      brokerSetter(config, value, name);
    } else if (topicName) {
      // Validate now with the setting's own name in the message, not the topic config's.
      TOPIC_CONFIG_KEYS[topicName]![1](value.trim(), name);
      logDefaults[topicName] = value.trim();
    } else if (RETENTION_UNITS_MS[name] !== undefined) {
      logDefaults['retention.ms'] = String(integerAtLeast(-1)(value, name) * RETENTION_UNITS_MS[name]!);
    } else {
      throw new Error(`unknown setting: ${name} (known: ${knownBrokerSettings().join(', ')})`);
    }
    given[name] = value.trim();
  }
  config.logDefaults = logDefaults;
  config.settings = given;
  config.logConfig = withTopicConfigs(DEFAULT_LOG_CONFIG, logDefaults);
  return config;
}

/**
 * Reads Java-properties text: `key=value` or `key: value` lines, `#` and `!` comments, blank
 * lines. (Line continuations and escapes are not supported; none of the settings needs them.)
 */
export function parseProperties(text: string, source = 'properties'): [string, string][] {
  const entries: [string, string][] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) return;
    const separator = line.search(/[=:]/);
    if (separator <= 0) throw new Error(`${source}:${index + 1}: expected key=value, got: ${line}`);
    entries.push([line.slice(0, separator).trim(), line.slice(separator + 1).trim()]);
  });
  return entries;
}

/** Parses one --override argument. */
export function parseOverride(argument: string): [string, string] {
  const separator = argument.indexOf('=');
  if (separator <= 0) throw new Error(`--override expects key=value, got: ${argument}`);
  return [argument.slice(0, separator).trim(), argument.slice(separator + 1).trim()];
}

/** A topic's LogConfig: the broker's log defaults with the topic's own configs on top. */
export function topicLogConfig(config: BrokerConfig, topicConfigs: Readonly<Record<string, string>>): LogConfig {
  return withTopicConfigs(config.logConfig, topicConfigs);
}
