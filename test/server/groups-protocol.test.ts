/**
 * Consumer-group requests over real sockets to a two-broker cluster: coordinator lookup (and
 * the creation of __consumer_offsets), routing to the right broker, the errors clients rely on,
 * and groups and offsets kept across a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { javaHashCode, OFFSETS_TOPIC, partitionForKey } from '../../src/groups/internal-topics.js';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import type {
  DescribeGroupsResponse,
  FindCoordinatorResponse,
  HeartbeatResponse,
  JoinGroupResponse,
  ListGroupsResponse,
  OffsetCommitResponse,
  OffsetFetchResponse,
  SyncGroupResponse,
} from '../../src/protocol/generated/messages/index.js';
import { subscription } from '../groups/group-driver.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, metadata } from './requests.js';

let fixture: BrokerFixture;
let clients: RawKafkaClient[];

async function connectAll(): Promise<void> {
  clients = [await RawKafkaClient.connect(fixture.port(0)), await RawKafkaClient.connect(fixture.port(1))];
}

beforeAll(async () => {
  fixture = await startBrokers({ brokerCount: 2, settings: { 'group.initial.rebalance.delay.ms': '0', 'group.min.session.timeout.ms': '500', 'offsets.topic.num.partitions': '8' } });
  await connectAll();
  expect((await createTopics(clients[0]!, [{ name: 'events', numPartitions: 4 }])).topics[0]!.errorCode).toBe(0);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await fixture.stop();
  removeScratchDirectories();
});

const findCoordinator = (client: RawKafkaClient, key: string, version = 3) =>
  client.request<FindCoordinatorResponse>(10, version, version >= 4 ? { keyType: 0, coordinatorKeys: [key] } : { key, keyType: 0 });

function join(client: RawKafkaClient, groupId: string, memberId: string, version = 5): Promise<JoinGroupResponse> {
  return client.request<JoinGroupResponse>(11, version, {
    groupId, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, memberId, groupInstanceId: null, protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription('events') }],
  });
}

describe('consumer group requests', () => {
  it('hashes group ids to partitions as Kafka does', () => {
    expect(javaHashCode('hello')).toBe(99162322);
    expect(partitionForKey('hello', 50)).toBe(99162322 % 50);
    expect(partitionForKey('polygenelubricants', 50)).toBe(0); // hashCode is Integer.MIN_VALUE
  });

  it('finds the coordinator (creating __consumer_offsets), and only that broker serves the group', async () => {
    const found = await findCoordinator(clients[1]!, 'g-route');
    expect(found.errorCode).toBe(ErrorCode.NONE);
    const topic = (await metadata(clients[0]!, [OFFSETS_TOPIC], false)).topics[0]!;
    expect(topic).toMatchObject({ errorCode: 0, isInternal: true });
    expect(topic.partitions).toHaveLength(8);
    const partition = partitionForKey('g-route', 8);
    expect(found.nodeId).toBe(topic.partitions[partition]!.leaderId);
    expect(found.port).toBe(fixture.port(found.nodeId!));
    const batched = await findCoordinator(clients[0]!, 'g-route', 4);
    expect(batched.coordinators).toEqual([{ key: 'g-route', nodeId: found.nodeId, host: found.host, port: found.port, errorCode: 0, errorMessage: null }]);

    const other = clients[1 - found.nodeId!]!;
    expect((await join(other, 'g-route', '')).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    const coordinator = clients[found.nodeId!]!;
    const first = await join(coordinator, 'g-route', '');
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^raw-test-/);
    const joined = await join(coordinator, 'g-route', first.memberId);
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, leader: first.memberId, protocolName: 'range' });
    const synced = await coordinator.request<SyncGroupResponse>(14, 3, { groupId: 'g-route', generationId: 1, memberId: first.memberId, groupInstanceId: null, assignments: [{ memberId: first.memberId, assignment: Uint8Array.of(0, 0) }] });
    expect(synced.errorCode).toBe(0);
    expect((await coordinator.request<HeartbeatResponse>(12, 3, { groupId: 'g-route', generationId: 0, memberId: first.memberId, groupInstanceId: null })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await coordinator.request<HeartbeatResponse>(12, 3, { groupId: 'g-route', generationId: 1, memberId: 'stranger', groupInstanceId: null })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

    const committed = await coordinator.request<OffsetCommitResponse>(8, 7, {
      groupId: 'g-route', generationIdOrMemberEpoch: 1, memberId: first.memberId, groupInstanceId: null,
      topics: [{ name: 'events', partitions: [{ partitionIndex: 0, committedOffset: 12n, committedLeaderEpoch: -1, committedMetadata: 'meta' }, { partitionIndex: 9, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(committed.topics[0]!.partitions.map((partition) => partition.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const described = await coordinator.request<DescribeGroupsResponse>(15, 5, { groups: ['g-route'], includeAuthorizedOperations: false });
    expect(described.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(described.groups[0]!.members[0]).toMatchObject({ memberId: first.memberId, clientId: 'raw-test', clientHost: '/127.0.0.1' });
  });

  it('answers an empty group id with INVALID_GROUP_ID and lists groups per broker', async () => {
    const found = await findCoordinator(clients[0]!, 'g-route');
    expect((await join(clients[found.nodeId!]!, '', '')).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    const listed = await Promise.all(clients.map((client) => client.request<ListGroupsResponse>(16, 4, { statesFilter: [] })));
    expect(listed[found.nodeId!]!.groups.find((group) => group.groupId === 'g-route')).toMatchObject({ protocolType: 'consumer', groupState: 'Stable' });
    expect(listed[1 - found.nodeId!]!.groups.find((group) => group.groupId === 'g-route')).toBeUndefined();
  });

  it('keeps committed offsets and groups across a restart, for standalone consumers too', async () => {
    const standalone = await findCoordinator(clients[0]!, 'solo');
    const solo = clients[standalone.nodeId!]!;
    const committed = await solo.request<OffsetCommitResponse>(8, 2, {
      groupId: 'solo', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: -1n,
      topics: [{ name: 'events', partitions: [{ partitionIndex: 3, committedOffset: 77n, committedMetadata: null }] }],
    });
    expect(committed.topics[0]!.partitions[0]!.errorCode).toBe(0);
    for (const client of clients) client.close();
    await fixture.restart();
    await connectAll();
    const again = await findCoordinator(clients[0]!, 'solo');
    expect(again.nodeId).toBe(standalone.nodeId);
    const fetched = await clients[again.nodeId!]!.request<OffsetFetchResponse>(9, 8, { groups: [{ groupId: 'solo', topics: null }, { groupId: 'nobody', topics: [{ name: 'events', partitionIndexes: [0] }] }], requireStable: false });
    expect(fetched.groups![0]!.topics).toEqual([{ name: 'events', partitions: [{ partitionIndex: 3, committedOffset: 77n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }] }]);
    const route = await findCoordinator(clients[0]!, 'g-route');
    const old = await clients[route.nodeId!]!.request<OffsetFetchResponse>(9, 5, { groupId: 'g-route', topics: [{ name: 'events', partitionIndexes: [0, 1] }], requireStable: false });
    expect(old.topics!.map((topic) => topic.partitions.map((partition) => [partition.committedOffset, partition.metadata]))).toEqual([[[12n, 'meta'], [-1n, '']]]);
    const described = await clients[route.nodeId!]!.request<DescribeGroupsResponse>(15, 5, { groups: ['g-route'], includeAuthorizedOperations: false });
    expect(described.groups[0]).toMatchObject({ groupState: 'Stable', protocolType: 'consumer' });
  });
});
