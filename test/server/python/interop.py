"""Produce and consume with a Python Kafka client against Samsa; prints one JSON document.

usage: interop.py kafka-python|confluent PORT TOPIC

Consumers use assign() without a consumer group (groups: group_member.py), reading from the start.
Runs under Debian's /usr/bin/python3, where python3-kafka and python3-confluent-kafka install.
"""
import json
import sys
import time

client, port, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bootstrap = f'127.0.0.1:{port}'
records = [(f'key-{i}'.encode(), None if i % 4 == 3 else f'value {i}'.encode()) for i in range(12)]
consumed = []

if client == 'kafka-python':
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', compression_type='gzip')
    for key, value in records:
        producer.send(topic, key=key, value=value, headers=[('client', b'kafka-python')]).get(timeout=20)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, consumer_timeout_ms=3000)
    consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
    consumer.seek_to_beginning()
    for message in consumer:
        consumed.append((message.partition, message.offset, message.key, message.value, message.headers))
    consumer.close()
elif client == 'confluent':
    from confluent_kafka import Consumer, Producer, TopicPartition
    errors = []
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'compression.type': 'gzip', 'linger.ms': 5})
    for key, value in records:
        producer.produce(topic, key=key, value=value, headers=[('client', b'confluent')], on_delivery=lambda error, message: errors.append(str(error)) if error else None)
    producer.flush(20)
    if errors:
        raise SystemExit(f'delivery failed: {errors}')
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'not-used', 'enable.auto.commit': False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    deadline = time.time() + 20
    while len(consumed) < len(records) and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        consumed.append((message.partition(), message.offset(), message.key(), message.value(), message.headers()))
    consumer.close()
else:
    raise SystemExit(f'unknown client {client}')

decode = lambda raw: None if raw is None else raw.decode()
print(json.dumps({
    'produced': [[decode(key), decode(value)] for key, value in records],
    'consumed': [[partition, offset, decode(key), decode(value), [[name, decode(v)] for name, v in (headers or [])]]
                 for partition, offset, key, value, headers in consumed],
}))
