"""Drive Samsa with a Python admin client; prints one JSON document of what it saw.

usage: admin.py kafka-python|confluent PORT PREFIX

kafka-python's KafkaAdminClient or confluent-kafka's AdminClient (librdkafka): create_topics,
describe_configs (topic and broker), alter_configs, create_partitions, delete_topics, with an
error case for each. Topic names start with PREFIX. Errors are reported as Kafka error codes.
Runs under Debian's /usr/bin/python3, where python3-kafka and python3-confluent-kafka install.
"""
import json
import sys

client, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bootstrap = f'127.0.0.1:{port}'


class KafkaPythonAdmin:
    def __init__(self):
        from kafka import KafkaAdminClient
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='samsa-python-admin', request_timeout_ms=10000)

    @staticmethod
    def code_of(call):
        """Runs call; 0, or the code of the Kafka error kafka-python raised."""
        try:
            call()
        except Exception as error:
            return getattr(error, 'errno', -1)
        return 0

    def create_topics(self, specs):
        from kafka.admin import NewTopic
        topics = [NewTopic(name, partitions, 1, topic_configs=configs) for name, partitions, configs in specs]
        return [self.code_of(lambda: self.admin.create_topics([topic])) for topic in topics]

    def describe(self, resource_type, name, keys=None):
        from kafka.admin import ConfigResource, ConfigResourceType
        kind = ConfigResourceType.TOPIC if resource_type == 'topic' else ConfigResourceType.BROKER
        [response] = self.admin.describe_configs([ConfigResource(kind, name, configs=None if keys is None else {key: None for key in keys})])
        [(error_code, _message, _type, _name, entries)] = response.resources
        return {'error_code': error_code, 'configs': {entry[0]: [entry[1], entry[2], entry[3]] for entry in entries}}

    def alter(self, name, configs):
        from kafka.admin import ConfigResource, ConfigResourceType
        response = self.admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=configs)])
        return [error_code for error_code, *_ in response.resources][0]

    def create_partitions(self, name, count):
        from kafka.admin import NewPartitions
        return self.code_of(lambda: self.admin.create_partitions({name: NewPartitions(count)}))

    def partitions(self, name):
        return sorted(p['partition'] for t in self.admin.describe_topics([name]) for p in t['partitions'])

    def delete_topic(self, name):
        return self.code_of(lambda: self.admin.delete_topics([name]))

    def topics(self):
        return sorted(self.admin.list_topics())

    def close(self):
        self.admin.close()


class ConfluentAdmin:
    def __init__(self):
        from confluent_kafka.admin import AdminClient
        self.admin = AdminClient({'bootstrap.servers': bootstrap, 'client.id': 'samsa-confluent-admin'})

    @staticmethod
    def code_of(futures):
        """Waits for every future; 0, or the code of the first Kafka error."""
        from confluent_kafka import KafkaException
        for future in futures.values():
            try:
                future.result(timeout=20)
            except KafkaException as error:
                return error.args[0].code()
        return 0

    def create_topics(self, specs):
        from confluent_kafka.admin import NewTopic
        return [self.code_of(self.admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1, config=configs or {})]))
                for name, partitions, configs in specs]

    def describe(self, resource_type, name, keys=None):
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import ConfigResource
        [future] = self.admin.describe_configs([ConfigResource(resource_type, name)]).values()
        try:
            entries = future.result(timeout=20)
        except KafkaException as error:
            return {'error_code': error.args[0].code(), 'configs': {}}
        source = lambda entry: getattr(entry.source, 'value', entry.source)
        return {'error_code': 0, 'configs': {name: [entry.value, entry.is_read_only, source(entry)]
                                             for name, entry in entries.items() if keys is None or name in keys}}

    def alter(self, name, configs):
        from confluent_kafka.admin import ConfigResource
        return self.code_of(self.admin.alter_configs([ConfigResource('topic', name, set_config=configs)]))

    def create_partitions(self, name, count):
        from confluent_kafka.admin import NewPartitions
        return self.code_of(self.admin.create_partitions([NewPartitions(name, count)]))

    def partitions(self, name):
        return sorted(self.admin.list_topics(name, timeout=10).topics[name].partitions.keys())

    def delete_topic(self, name):
        return self.code_of(self.admin.delete_topics([name], operation_timeout=10))

    def topics(self):
        return sorted(self.admin.list_topics(timeout=10).topics.keys())

    def close(self):
        pass


admin = {'kafka-python': KafkaPythonAdmin, 'confluent': ConfluentAdmin}[client]()
grown, configured, doomed = f'{prefix}-grown', f'{prefix}-configured', f'{prefix}-doomed'
out = {}
out['create_topics'] = admin.create_topics([(grown, 2, None), (configured, 1, {'retention.ms': '3600000'}), (doomed, 1, None)])
out['create_existing'] = admin.create_topics([(grown, 1, None)])[0]
out['configs_before'] = admin.describe('topic', configured)
out['configs_filtered'] = admin.describe('topic', configured, ['retention.ms', 'segment.bytes'])
out['configs_missing'] = admin.describe('topic', f'{prefix}-missing')
out['broker_configs'] = admin.describe('broker', '1')
out['alter'] = admin.alter(configured, {'cleanup.policy': 'compact', 'max.message.bytes': '5000'})
out['alter_invalid'] = admin.alter(configured, {'retention.ms': 'soon'})
out['configs_after'] = admin.describe('topic', configured)
out['create_partitions'] = admin.create_partitions(grown, 4)
out['shrink'] = admin.create_partitions(grown, 3)
out['partitions'] = admin.partitions(grown)
out['delete_topic'] = admin.delete_topic(doomed)
out['delete_missing'] = admin.delete_topic(doomed)
out['topics'] = [name for name in admin.topics() if name.startswith(prefix + '-')]
admin.close()
print(json.dumps(out))
