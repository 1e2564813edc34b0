"""Keyed records for a compacted topic through kafka-python, and what a consumer reads back.

usage: compaction.py produce PORT TOPIC CODEC ROUNDS.json   (each round one batch: flushed)
       compaction.py consume PORT TOPIC OUT.json             (partition 0 from offset 0, CRCs checked)

ROUNDS.json: [[[key, value], ...], ...] as text. OUT.json: [[offset, key, value], ...].
Runs under Debian's /usr/bin/python3 (python3-kafka; python3-snappy, python3-lz4, python3-zstandard
for the codecs).
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

mode, port, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bootstrap = f'127.0.0.1:{port}'

if mode == 'produce':
    codec, rounds_path = sys.argv[4], sys.argv[5]
    with open(rounds_path) as source:
        rounds = json.load(source)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', compression_type=codec, linger_ms=1000, batch_size=1000000)
    for records in rounds:
        futures = [producer.send(topic, partition=0, key=key.encode(), value=value.encode()) for key, value in records]
        producer.flush(30)
        for future in futures:
            future.get(timeout=1)
        # The next round must find this one's segment at least 1 ms old (segment.ms=1): a round
        # trip here can take less than that, and the two rounds would share a segment.
        time.sleep(0.01)
    producer.close()
elif mode == 'consume':
    output_path = sys.argv[4]
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, check_crcs=True)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    end = consumer.end_offsets([partition])[partition]
    consumed = []
    deadline = time.time() + 20
    while consumer.position(partition) < end and time.time() < deadline:
        for messages in consumer.poll(timeout_ms=500).values():
            consumed += [[m.offset, m.key.decode(), m.value.decode()] for m in messages]
    consumer.close()
    with open(output_path, 'w') as sink:
        json.dump(consumed, sink)
else:
    raise SystemExit(f'unknown mode {mode}')
