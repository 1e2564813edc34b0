"""Look at (or delete) consumer groups with a Python admin client; prints one JSON document.

usage: group_admin.py kafka-python|confluent PORT inspect GROUP TOPIC
       group_admin.py kafka-python PORT delete GROUP

inspect: every group listed (ListGroups on each broker), GROUP described (DescribeGroups: state,
protocol, members with the partitions of TOPIC assigned to each) and, with kafka-python, GROUP's
committed offsets (OffsetFetch for all its partitions). confluent-kafka 1.7 has only
AdminClient.list_groups (librdkafka's ListGroups then DescribeGroups), which gives the same
listing and description; its assignments come as raw ConsumerProtocol bytes, decoded here.
delete: DeleteGroups for GROUP; the Kafka error code (0 when deleted).
Runs under Debian's /usr/bin/python3, where python3-kafka and python3-confluent-kafka install.
"""
import json
import struct
import sys

client, port, action, group = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
topic = sys.argv[5] if len(sys.argv) > 5 else None
bootstrap = f'127.0.0.1:{port}'


def assigned_partitions(assignment):
    """ConsumerProtocolAssignment bytes -> the partitions of `topic` (version, then topics)."""
    if not assignment:
        return []
    position = 2
    (topic_count,) = struct.unpack_from('>i', assignment, position)
    position += 4
    partitions = []
    for _ in range(topic_count):
        (name_length,) = struct.unpack_from('>h', assignment, position)
        name = assignment[position + 2:position + 2 + name_length].decode()
        position += 2 + name_length
        (count,) = struct.unpack_from('>i', assignment, position)
        position += 4
        indexes = struct.unpack_from(f'>{count}i', assignment, position)
        position += 4 * count
        if name == topic:
            partitions.extend(indexes)
    return sorted(partitions)


out = {}
if client == 'kafka-python':
    from kafka import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='samsa-group-admin', request_timeout_ms=10000)
    if action == 'inspect':
        out['listed'] = sorted([group_id, protocol_type] for group_id, protocol_type in admin.list_consumer_groups())
        [described] = admin.describe_consumer_groups([group])
        out['described'] = {
            'error_code': described.error_code, 'state': described.state, 'protocol_type': described.protocol_type,
            'protocol': described.protocol,
            'members': sorted([[
                member.client_id,
                sorted(p for name, partitions in (member.member_assignment.assignment if member.member_assignment else []) if name == topic for p in partitions),
            ] for member in described.members]),
        }
        out['offsets'] = sorted([tp.partition, committed.offset] for tp, committed in admin.list_consumer_group_offsets(group).items() if tp.topic == topic)
    elif action == 'delete':
        [(_, error)] = admin.delete_consumer_groups([group])
        out['error_code'] = error.errno
    admin.close()
elif client == 'confluent':
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({'bootstrap.servers': bootstrap, 'client.id': 'samsa-group-admin'})
    if action != 'inspect':
        raise SystemExit('confluent-kafka 1.7 can only list groups')
    groups = admin.list_groups(timeout=10)
    out['listed'] = sorted([listed.id, listed.protocol_type] for listed in groups)
    [described] = [listed for listed in groups if listed.id == group]
    out['described'] = {
        'error_code': 0 if described.error is None else described.error.code(), 'state': described.state,
        'protocol_type': described.protocol_type, 'protocol': described.protocol,
        'members': sorted([member.client_id, assigned_partitions(member.assignment)] for member in described.members),
    }
else:
    raise SystemExit(f'unknown client {client}')
print(json.dumps(out))
