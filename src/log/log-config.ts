/**
 * Per-partition log settings, under their Kafka topic-config names, with Kafka's defaults.
 * Broker-wide defaults (log.segment.bytes, log.flush.interval.messages...) map onto these.
 *
 * Durability, and what each flush setting loses on power failure (writes reach the page cache
 * at once; only fsync puts them on disk):
 * - flush.messages=1: an append is acknowledged only after fsync; nothing acknowledged is lost.
 *   Concurrent appends share one fsync (group commit).
 * - flush.messages=N: up to N-1 acknowledged messages per partition can be lost.
 * - flush.ms=T: up to T ms of acknowledged messages per partition can be lost.
 * - neither (Kafka's default): everything since the last flush can be lost on power failure; as
 *   in Kafka, durability then comes from replication. A process crash (kill -9) loses nothing:
 *   the page cache survives it.
 */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';
export type TimestampType = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly indexIntervalBytes: number;
  readonly maxMessageBytes: number;
  readonly messageTimestampType: TimestampType;
  readonly flushMessages: number;
  readonly flushMs: number;
  /** -1: unlimited. */
  readonly retentionMs: number;
  /** -1: unlimited. */
  readonly retentionBytes: number;
  readonly cleanupPolicy: CleanupPolicy;
  readonly deleteRetentionMs: number;
  readonly minCleanableDirtyRatio: number;
}

export const DEFAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  maxMessageBytes: 1048588,
  messageTimestampType: 'CreateTime',
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 24 * 3600 * 1000,
  minCleanableDirtyRatio: 0.5,
};

type Parser = (value: string, name: string) => unknown;

const integer = (min: number): Parser => (value, name) => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) && !(value.trim() === '9223372036854775807')) throw new Error(`${name}: not an integer: ${value}`);
  const clamped = Number.isSafeInteger(parsed) ? parsed : Number.MAX_SAFE_INTEGER;
  if (clamped < min) throw new Error(`${name}: must be at least ${min}, got ${value}`);
  return clamped;
};
const oneOf = (...allowed: string[]): Parser => (value, name) => {
  if (!allowed.includes(value)) throw new Error(`${name}: must be one of ${allowed.join(', ')}, got ${value}`);
  return value;
};
const ratio: Parser = (value, name) => {
  const parsed = Number(value);
  if (!(parsed >= 0 && parsed <= 1)) throw new Error(`${name}: must be between 0 and 1, got ${value}`);
  return parsed;
};

/** Kafka topic-config name -> [field, parser]. */
export const TOPIC_CONFIG_KEYS: Record<string, [keyof LogConfig, Parser]> = {
  'segment.bytes': ['segmentBytes', integer(14)],
  'segment.ms': ['segmentMs', integer(1)],
  'index.interval.bytes': ['indexIntervalBytes', integer(0)],
  'max.message.bytes': ['maxMessageBytes', integer(0)],
  'message.timestamp.type': ['messageTimestampType', oneOf('CreateTime', 'LogAppendTime')],
  'flush.messages': ['flushMessages', integer(1)],
  'flush.ms': ['flushMs', integer(0)],
  'retention.ms': ['retentionMs', integer(-1)],
  'retention.bytes': ['retentionBytes', integer(-1)],
  'cleanup.policy': ['cleanupPolicy', (value, name) => {
    const normalized = value.split(',').map((part) => part.trim()).sort().join(',');
    return oneOf('delete', 'compact', 'compact,delete')(normalized, name);
  }],
  'delete.retention.ms': ['deleteRetentionMs', integer(0)],
  'min.cleanable.dirty.ratio': ['minCleanableDirtyRatio', ratio],
};

/** Broker setting name -> the topic config it is the default for. */
export const BROKER_LOG_DEFAULT_KEYS: Record<string, string> = {
  'log.segment.bytes': 'segment.bytes',
  'log.roll.ms': 'segment.ms',
  'log.index.interval.bytes': 'index.interval.bytes',
  'message.max.bytes': 'max.message.bytes',
  'log.message.timestamp.type': 'message.timestamp.type',
  'log.flush.interval.messages': 'flush.messages',
  'log.flush.interval.ms': 'flush.ms',
  'log.retention.ms': 'retention.ms',
  'log.retention.bytes': 'retention.bytes',
  'log.cleanup.policy': 'cleanup.policy',
  'log.cleaner.delete.retention.ms': 'delete.retention.ms',
  'log.cleaner.min.cleanable.ratio': 'min.cleanable.dirty.ratio',
};

/** Applies Kafka-named topic configs over `base`; an unknown name or bad value throws. */
export function withTopicConfigs(base: LogConfig, configs: Record<string, string>): LogConfig {
  const result: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(configs)) {
    const entry = TOPIC_CONFIG_KEYS[name];
    if (!entry) throw new Error(`unknown topic config: ${name}`);
    result[entry[0]] = entry[1](value, name);
  }
  return result as unknown as LogConfig;
}
