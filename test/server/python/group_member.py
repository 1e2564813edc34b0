"""One member of a consumer group, driven through a Python Kafka client, as its own process.

usage: group_member.py kafka-python|confluent PORT TOPIC GROUP OPTIONS.json

OPTIONS (JSON): session_timeout_ms, heartbeat_interval_ms, max_poll_interval_ms, and for
confluent (librdkafka) strategy (partition.assignment.strategy, e.g. cooperative-sticky) and
instance_id (group.instance.id: a static member).

Subscribes to TOPIC from the earliest offset with auto-commit off; after each batch it receives
it commits the offsets after the batch's records, synchronously (so nothing it processed is
uncommitted when it next polls and a rebalance can take its partitions). Prints one JSON
object a line on stdout, flushed at once:
  {"event": "assigned", "partitions": [...]}   the client's on_assign (incremental under
  {"event": "revoked", "partitions": [...]}    cooperative-sticky, the whole assignment otherwise)
  {"event": "lost", "partitions": [...]}
  {"event": "record", "partition": p, "offset": o, "key": k}
  {"event": "committed", "offsets": [[p, next offset], ...]}
  {"event": "commit-failed", "error": "..."}
  {"event": "commits-paused"}                 after the command below
  {"event": "closed"}
Commands, one a line on stdin: "pause-commits" (keep processing, stop committing: what was
processed since is lost with a SIGKILL), "stop" (close the consumer cleanly, which leaves the
group unless the member is static, and exit).
Runs under Debian's /usr/bin/python3, where python3-kafka and python3-confluent-kafka install.
"""
import json
import queue
import sys
import threading

client, port, topic, group = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
options = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
bootstrap = f'127.0.0.1:{port}'
session_timeout_ms = options.get('session_timeout_ms', 3000)
heartbeat_interval_ms = options.get('heartbeat_interval_ms', 300)
max_poll_interval_ms = options.get('max_poll_interval_ms', 10000)

commands = queue.Queue()


def read_commands():
    for line in sys.stdin:
        commands.put(line.strip())
    commands.put('stop')  # stdin closed: the test is gone


threading.Thread(target=read_commands, daemon=True).start()


def emit(event, **fields):
    print(json.dumps({'event': event, **fields}), flush=True)


def decode(raw):
    return None if raw is None else raw.decode()


class KafkaPythonMember:
    def __init__(self):
        from kafka import KafkaConsumer, ConsumerRebalanceListener

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                emit('revoked', partitions=sorted(tp.partition for tp in revoked))

            def on_partitions_assigned(self, assigned):
                emit('assigned', partitions=sorted(tp.partition for tp in assigned))

        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, client_id=f'kafka-python-{group}',
            enable_auto_commit=False, auto_offset_reset='earliest', fetch_max_wait_ms=100,
            session_timeout_ms=session_timeout_ms, heartbeat_interval_ms=heartbeat_interval_ms,
            max_poll_interval_ms=max_poll_interval_ms, request_timeout_ms=max(30000, session_timeout_ms + 5000),
            metadata_max_age_ms=5000)
        self.consumer.subscribe([topic], listener=Listener())

    def poll(self):
        """Records received, as (partition, offset, key)."""
        return [(m.partition, m.offset, decode(m.key)) for batch in self.consumer.poll(timeout_ms=100).values() for m in batch]

    def commit(self, offsets):
        from kafka import OffsetAndMetadata, TopicPartition
        self.consumer.commit({TopicPartition(topic, partition): OffsetAndMetadata(offset, None) for partition, offset in offsets.items()})

    def close(self):
        self.consumer.close()


class ConfluentMember:
    def __init__(self):
        from confluent_kafka import Consumer
        config = {
            'bootstrap.servers': bootstrap, 'group.id': group, 'client.id': f'confluent-{group}',
            'enable.auto.commit': False, 'auto.offset.reset': 'earliest', 'fetch.wait.max.ms': 100,
            'session.timeout.ms': session_timeout_ms, 'heartbeat.interval.ms': heartbeat_interval_ms,
            'max.poll.interval.ms': max_poll_interval_ms, 'topic.metadata.refresh.interval.ms': 5000,
        }
        if 'strategy' in options:
            config['partition.assignment.strategy'] = options['strategy']
        if options.get('instance_id'):
            config['group.instance.id'] = options['instance_id']
        self.consumer = Consumer(config)
        # confluent-kafka-python assigns (incrementally, under a cooperative protocol) after
        # these return, since they do not assign themselves.
        self.consumer.subscribe(
            [topic],
            on_assign=lambda _, partitions: emit('assigned', partitions=sorted(tp.partition for tp in partitions)),
            on_revoke=lambda _, partitions: emit('revoked', partitions=sorted(tp.partition for tp in partitions)),
            on_lost=lambda _, partitions: emit('lost', partitions=sorted(tp.partition for tp in partitions)))

    def poll(self):
        received = []
        for message in self.consumer.consume(num_messages=500, timeout=0.1):
            if message.error():
                emit('error', error=str(message.error()))
                continue
            received.append((message.partition(), message.offset(), decode(message.key())))
        return received

    def commit(self, offsets):
        from confluent_kafka import TopicPartition
        self.consumer.commit(offsets=[TopicPartition(topic, partition, offset) for partition, offset in offsets.items()], asynchronous=False)

    def close(self):
        self.consumer.close()


member = {'kafka-python': KafkaPythonMember, 'confluent': ConfluentMember}[client]()
committing = True
while True:
    try:
        command = commands.get_nowait()
    except queue.Empty:
        command = None
    if command == 'stop':
        member.close()
        emit('closed')
        break
    if command == 'pause-commits':
        committing = False
        emit('commits-paused')
    received = member.poll()
    next_offsets = {}
    for partition, offset, key in received:
        emit('record', partition=partition, offset=offset, key=key)
        next_offsets[partition] = max(next_offsets.get(partition, 0), offset + 1)
    if next_offsets and committing:
        try:
            member.commit(next_offsets)
            emit('committed', offsets=sorted(next_offsets.items()))
        except Exception as error:  # a rebalance took the partitions: the next owner re-reads
            emit('commit-failed', error=str(error))
