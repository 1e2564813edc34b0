import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG } from '../../src/log/log-config.js';
import { brokerConfigFrom, defaultPageCacheMaxBytes, pageCacheShareBytes, parseOverride, parseProperties, topicLogConfig } from '../../src/server/broker-config.js';

describe('broker config', () => {
  it('reads server.properties and lets overrides win', () => {
    const properties = parseProperties('# comment\n\nnum.partitions=3\nlog.segment.bytes : 1048576\nauto.create.topics.enable=true\n');
    const config = brokerConfigFrom([...properties, parseOverride('num.partitions=5'), parseOverride('auto.create.topics.enable=false')]);
    expect(config.numPartitions).toBe(5);
    expect(config.autoCreateTopicsEnable).toBe(false);
    expect(config.logConfig.segmentBytes).toBe(1048576);
    expect(config.logDefaults).toEqual({ 'segment.bytes': '1048576' });
  });

  it('maps broker log settings onto every topic, under the topic configs', () => {
    const config = brokerConfigFrom([['log.retention.hours', '2'], ['message.max.bytes', '2000'], ['log.flush.interval.messages', '1']]);
    expect(config.logConfig).toEqual({ ...DEFAULT_LOG_CONFIG, retentionMs: 7_200_000, maxMessageBytes: 2000, flushMessages: 1 });
    expect(topicLogConfig(config, { 'max.message.bytes': '100' }).maxMessageBytes).toBe(100);
  });

  it('takes samsa.log.page.cache.max.bytes (Samsa\'s own; a quarter of the memory by default; 0 = no limit) and splits it over the brokers', () => {
    expect(defaultPageCacheMaxBytes(24 * 2 ** 30)).toBe(6 * 2 ** 30);
    expect(defaultPageCacheMaxBytes(1000 * 2 ** 20 + 5)).toBe(250 * 2 ** 20);
    expect(brokerConfigFrom([]).pageCacheMaxBytes).toBe(defaultPageCacheMaxBytes(os.totalmem()));
    const config = brokerConfigFrom([['samsa.log.page.cache.max.bytes', '67108864'], ['log.segment.bytes', '1048576']]);
    expect(config.pageCacheMaxBytes).toBe(67108864);
    expect(config.logConfig.segmentBytes).toBe(1048576);
    expect(pageCacheShareBytes(config, 2)).toBe(33554432);
    expect(pageCacheShareBytes(config, 3)).toBe(22369621);
    const unlimited = brokerConfigFrom([['samsa.log.page.cache.max.bytes', '0']]);
    expect(pageCacheShareBytes(unlimited, 2)).toBe(0);
    expect(() => brokerConfigFrom([['samsa.log.page.cache.max.bytes', '-1']])).toThrow(/samsa.log.page.cache.max.bytes: must be at least 0/);
    expect(() => brokerConfigFrom([['samsa.log.page.cache.window.bytes', '1']])).toThrow(/unknown setting: samsa.log.page.cache.window.bytes/);
  });

  it('refuses an unknown setting or a bad value, naming it', () => {
    expect(() => brokerConfigFrom([['num.partition', '3']])).toThrow(/unknown setting: num.partition/);
    expect(() => brokerConfigFrom([['num.partitions', 'three']])).toThrow(/num.partitions: not an integer/);
    expect(() => brokerConfigFrom([['num.partitions', '0']])).toThrow(/num.partitions: must be at least 1/);
    expect(() => brokerConfigFrom([['log.segment.bytes', '-5']])).toThrow(/log.segment.bytes/);
    expect(() => brokerConfigFrom([['auto.create.topics.enable', 'yes']])).toThrow(/auto.create.topics.enable/);
    // Timer periods: Node's timers fire after 1 ms for 0 or anything above 2^31-1.
    expect(brokerConfigFrom([['log.cleaner.backoff.ms', '200']]).logCleanerBackoffMs).toBe(200);
    expect(() => brokerConfigFrom([['log.cleaner.backoff.ms', '0']])).toThrow(/log.cleaner.backoff.ms: must be at least 1/);
    expect(() => brokerConfigFrom([['log.retention.check.interval.ms', '2147483648']])).toThrow(/log.retention.check.interval.ms: must be at most 2147483647/);
    expect(() => brokerConfigFrom([['offsets.retention.check.interval.ms', '1e12']])).toThrow(/offsets.retention.check.interval.ms: must be at most/);
    expect(() => parseOverride('num.partitions')).toThrow(/key=value/);
    expect(() => parseProperties('just words')).toThrow(/properties:1/);
  });
});
