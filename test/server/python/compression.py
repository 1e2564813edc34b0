"""Produce a record set with one compression codec through a Python client, consume it back.

usage: compression.py kafka-python|confluent PORT TOPIC CODEC IN.json OUT.json

IN.json: {"records": [{"key": b64|null, "value": b64|null, "headers": [[name, b64]]}]}, sent in
order with acks=all; keyed records go where the client's partitioner puts them (murmur2 for
kafka-python's default, murmur2_random set for librdkafka). OUT.json: the records consumed
from offset 0 of every partition with assign() (no group), each with partition and offset.
Runs under Debian's /usr/bin/python3 (python3-kafka, python3-confluent-kafka, and for
kafka-python's snappy/lz4/zstd: python3-snappy, python3-lz4, python3-zstandard).
"""
import base64
import json
import sys
import time

client, port, topic, codec, input_path, output_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
bootstrap = f'127.0.0.1:{port}'
MAX_MESSAGE_BYTES = 1048588

unb64 = lambda text: None if text is None else base64.b64decode(text)
b64 = lambda raw: None if raw is None else base64.b64encode(raw).decode()
with open(input_path) as source:
    records = [(unb64(r['key']), unb64(r['value']), [(name, unb64(value)) for name, value in r['headers']]) for r in json.load(source)['records']]
consumed = []
deadline = time.time() + 40

if client == 'kafka-python':
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', compression_type=codec, linger_ms=100,
                             batch_size=1000000, max_request_size=MAX_MESSAGE_BYTES)
    futures = [producer.send(topic, key=key, value=value, headers=headers) for key, value, headers in records]
    producer.flush(30)
    for future in futures:
        future.get(timeout=1)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, check_crcs=True)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    while len(consumed) < len(records) and time.time() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            for m in batch:
                consumed.append((m.partition, m.offset, m.key, m.value, m.headers, m.timestamp))
    consumer.close()
elif client == 'confluent':
    from confluent_kafka import Consumer, Producer, TopicPartition
    errors = []
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'compression.type': codec, 'linger.ms': 100,
                         'partitioner': 'murmur2_random', 'message.max.bytes': MAX_MESSAGE_BYTES})
    for key, value, headers in records:
        producer.produce(topic, key=key, value=value, headers=headers,
                         on_delivery=lambda error, message: errors.append(str(error)) if error else None)
        producer.poll(0)
    if producer.flush(30) != 0:
        raise SystemExit('records still not delivered after 30 s')
    if errors:
        raise SystemExit(f'delivery failed: {errors}')
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'not-used', 'enable.auto.commit': False, 'check.crcs': True})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    while len(consumed) < len(records) and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None:
            continue
        if m.error():
            raise SystemExit(f'consume failed: {m.error()}')
        consumed.append((m.partition(), m.offset(), m.key(), m.value(), m.headers(), m.timestamp()[1]))
    consumer.close()
else:
    raise SystemExit(f'unknown client {client}')

with open(output_path, 'w') as out:
    json.dump({'consumed': [{'partition': p, 'offset': o, 'key': b64(k), 'value': b64(v), 'headers': [[n, b64(hv)] for n, hv in (h or [])], 'timestamp': t}
                            for p, o, k, v, h, t in consumed]}, out)
