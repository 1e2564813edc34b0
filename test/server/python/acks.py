"""confluent-kafka-python (librdkafka) against Samsa: acks settings and offsets_for_times.

usage: acks.py produce PORT TOPIC ACKS COUNT
         Produces COUNT keyed records with acks=ACKS (0, 1 or all; murmur2_random partitioner),
         then consumes the topic from offset 0 (assign(), no group) until COUNT records arrived.
         Prints {"delivered": [[key, partition, offset, error]], "consumed": [[partition, offset, key, value]]}.
       acks.py times PORT TOPIC PARTITIONS
         Produces, in each partition p, two records at each of the timestamps 1000*p + (1000, 2000,
         3000), one batch per timestamp (flush between), then asks offsets_for_times for a list of
         timestamps in every partition and reads every record's timestamp back.
         Prints {"times": [[partition, asked, offset]], "consumed": [[partition, offset, timestamp_type, timestamp]]}.
Runs under Debian's /usr/bin/python3 (python3-confluent-kafka).
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

mode, port, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bootstrap = f'127.0.0.1:{port}'


def consume(count, deadline_s=20):
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'not-used', 'enable.auto.commit': False, 'check.crcs': True})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    messages = []
    deadline = time.time() + deadline_s
    while len(messages) < count and time.time() < deadline:
        m = consumer.poll(0.2)
        if m is None:
            continue
        if m.error():
            raise SystemExit(f'consume failed: {m.error()}')
        messages.append(m)
    return consumer, messages


if mode == 'produce':
    acks, count = sys.argv[4], int(sys.argv[5])
    delivered = []
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': acks, 'partitioner': 'murmur2_random', 'linger.ms': 5})
    for i in range(count):
        producer.produce(topic, key=f'key-{i}'.encode(), value=f'value {i} with acks={acks}'.encode(),
                         on_delivery=lambda error, m: delivered.append([m.key().decode(), m.partition(), m.offset(), str(error) if error else None]))
        if i % 10 == 9:
            producer.flush(10)  # several requests, not one
    if producer.flush(20) != 0:
        raise SystemExit('records still not delivered after 20 s')
    consumer, messages = consume(count)
    consumer.close()
    print(json.dumps({'delivered': delivered,
                      'consumed': [[m.partition(), m.offset(), m.key().decode(), m.value().decode()] for m in messages]}))
elif mode == 'times':
    partition_count = int(sys.argv[4])
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all'})
    errors = []
    for step in (1000, 2000, 3000):
        for p in range(partition_count):
            for copy in range(2):
                producer.produce(topic, partition=p, value=f'p{p} at {step} #{copy}'.encode(), timestamp=1000 * p + step,
                                 on_delivery=lambda error, m: errors.append(str(error)) if error else None)
        producer.flush(10)
    if errors:
        raise SystemExit(f'delivery failed: {errors}')
    consumer, messages = consume(6 * partition_count)
    consumer.close()
    # A fresh consumer with nothing assigned: an assigned one keeps a long-polling Fetch on each
    # connection, and a broker answers a connection's requests in order, behind it.
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'not-used'})
    asked = [1, 999, 1000, 1001, 1999, 2000, 2500, 3000, 3001, 4000, 10 ** 13]
    times = []
    for ts in asked:
        found = consumer.offsets_for_times([TopicPartition(topic, p, 1000 * p + ts) for p in range(partition_count)], timeout=10)
        for tp in found:
            if tp.error:
                raise SystemExit(f'offsets_for_times failed: {tp.error}')
            times.append([tp.partition, ts, tp.offset])
    consumer.close()
    print(json.dumps({'times': times,
                      'consumed': [[m.partition(), m.offset(), m.timestamp()[0], m.timestamp()[1]] for m in messages]}))
else:
    raise SystemExit(f'unknown mode {mode}')
