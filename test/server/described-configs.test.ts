import { describe, expect, it } from 'vitest';
import { TOPIC_CONFIG_KEYS } from '../../src/log/log-config.js';
import { brokerConfigFrom, knownBrokerSettings, RETENTION_UNITS_MS, topicLogConfig } from '../../src/server/broker-config.js';
import { ConfigSource, ConfigType, describeBrokerConfigs, describedBrokerSettingNames, describeTopicConfigs, TOPIC_CONFIG_INFO } from '../../src/server/described-configs.js';

describe('described configs', () => {
  it('has a type and documentation for every topic config, and lists every broker setting', () => {
    expect(Object.keys(TOPIC_CONFIG_INFO).sort()).toEqual(Object.keys(TOPIC_CONFIG_KEYS).sort());
    for (const info of Object.values(TOPIC_CONFIG_INFO)) expect(info.documentation.length).toBeGreaterThan(10);
    // log.retention.hours and .minutes are spellings of log.retention.ms, listed as its synonyms.
    expect(describedBrokerSettingNames()).toEqual(knownBrokerSettings().filter((name) => !(name in RETENTION_UNITS_MS)));
  });

  it('gives a topic config the topic\'s value, else the broker\'s, else Kafka\'s default, with every synonym set', () => {
    const broker = brokerConfigFrom([['log.retention.hours', '2'], ['log.segment.bytes', '1048576']]);
    const explicit = { 'segment.bytes': '4096' };
    const described = new Map(describeTopicConfigs(broker, topicLogConfig(broker, explicit), explicit).map((config) => [config.name, config]));
    expect(described.get('segment.bytes')).toMatchObject({
      value: '4096', configSource: ConfigSource.DYNAMIC_TOPIC_CONFIG, isDefault: false, readOnly: false, isSensitive: false, configType: ConfigType.INT,
      synonyms: [
        { name: 'segment.bytes', value: '4096', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
        { name: 'log.segment.bytes', value: '1048576', source: ConfigSource.STATIC_BROKER_CONFIG },
        { name: 'log.segment.bytes', value: '1073741824', source: ConfigSource.DEFAULT_CONFIG },
      ],
    });
    expect(described.get('retention.ms')).toMatchObject({
      value: '7200000', configSource: ConfigSource.STATIC_BROKER_CONFIG, isDefault: false, configType: ConfigType.LONG,
      synonyms: [
        { name: 'log.retention.hours', value: '2', source: ConfigSource.STATIC_BROKER_CONFIG },
        { name: 'log.retention.ms', value: '604800000', source: ConfigSource.DEFAULT_CONFIG },
      ],
    });
    expect(described.get('flush.ms')).toMatchObject({ value: '9223372036854775807', configSource: ConfigSource.DEFAULT_CONFIG, isDefault: true });
    expect(described.get('cleanup.policy')).toMatchObject({ value: 'delete', configType: ConfigType.LIST });
  });

  it('describes broker settings as read-only, static when given', () => {
    const broker = brokerConfigFrom([['num.partitions', '3'], ['log.retention.minutes', '5']]);
    const described = new Map(describeBrokerConfigs(broker).map((config) => [config.name, config]));
    expect(described.get('num.partitions')).toMatchObject({
      value: '3', readOnly: true, configSource: ConfigSource.STATIC_BROKER_CONFIG, configType: ConfigType.INT,
      synonyms: [{ name: 'num.partitions', value: '3', source: ConfigSource.STATIC_BROKER_CONFIG }, { name: 'num.partitions', value: '1', source: ConfigSource.DEFAULT_CONFIG }],
    });
    expect(described.get('auto.create.topics.enable')).toMatchObject({ value: 'true', configSource: ConfigSource.DEFAULT_CONFIG, configType: ConfigType.BOOLEAN });
    expect(described.get('log.retention.ms')).toMatchObject({ value: '300000', configSource: ConfigSource.STATIC_BROKER_CONFIG });
    expect(described.get('log.segment.bytes')).toMatchObject({ value: '1073741824', configSource: ConfigSource.DEFAULT_CONFIG });
  });
});
