import { describe, expect, it } from 'vitest';
import {
  applyRecord, EMPTY_CONTROLLER_STATE, PARTITIONS_PER_TOPIC_MAX, planAlterTopicConfigs, planCreatePartitions, planCreateTopic, planDeleteTopic,
  planReassignMissingLeaders, topicNameError, type ControllerState, type MetadataRecord, type PlanResult,
} from '../../src/server/controller-state.js';

function carryOut(state: ControllerState, plan: PlanResult): ControllerState {
  if ('error' in plan) throw new Error(plan.message);
  return plan.records.reduce(applyRecord, state);
}

function create(state: ControllerState, name: string, partitionCount: number, brokerCount: number): ControllerState {
  const plan = planCreateTopic(state, { name, topicId: `id-${name}`, partitionCount, configs: {} }, brokerCount);
  if ('error' in plan) throw new Error(plan.message);
  return plan.records.reduce(applyRecord, state);
}

describe('controller state', () => {
  it('spreads partitions round robin over brokers, continuing across topics', () => {
    let state = create(EMPTY_CONTROLLER_STATE, 'a', 3, 2);
    state = create(state, 'b', 3, 2);
    expect(state.topics.get('a')!.partitions.map((partition) => partition.leader)).toEqual([0, 1, 0]);
    expect(state.topics.get('b')!.partitions.map((partition) => partition.leader)).toEqual([1, 0, 1]);
    expect(state.topics.get('a')!.partitions[1]).toEqual({ leader: 1, leaderEpoch: 0, replicas: [1], isr: [1] });
  });

  it('refuses existing, colliding and invalid names, and bad partition counts', () => {
    const state = create(EMPTY_CONTROLLER_STATE, 'my.topic', 1, 1);
    const plan = (name: string, partitionCount = 1) => planCreateTopic(state, { name, topicId: 'x', partitionCount, configs: {} }, 1);
    expect(plan('my.topic')).toMatchObject({ error: 'TOPIC_ALREADY_EXISTS' });
    expect(plan('my_topic')).toMatchObject({ error: 'INVALID_TOPIC_EXCEPTION' });
    expect(plan('bad name')).toMatchObject({ error: 'INVALID_TOPIC_EXCEPTION' });
    expect(plan('..')).toMatchObject({ error: 'INVALID_TOPIC_EXCEPTION' });
    expect(plan('x'.repeat(250))).toMatchObject({ error: 'INVALID_TOPIC_EXCEPTION' });
    expect(plan('fine', 0)).toMatchObject({ error: 'INVALID_PARTITIONS' });
    expect(topicNameError('ok-Name_1.2')).toBeUndefined();
  });

  it('takes explicit leaders and refuses brokers that do not exist', () => {
    const plan = planCreateTopic(EMPTY_CONTROLLER_STATE, { name: 't', topicId: 'x', partitionCount: -1, leaders: [1, 1, 0], configs: {} }, 2);
    expect(plan).toMatchObject({ records: [{ leaders: [1, 1, 0] }] });
    expect(planCreateTopic(EMPTY_CONTROLLER_STATE, { name: 't', topicId: 'x', partitionCount: -1, leaders: [2], configs: {} }, 2)).toMatchObject({ error: 'INVALID_REPLICA_ASSIGNMENT' });
  });

  it('moves leaders off brokers that no longer exist, bumping the leader epoch', () => {
    const state = create(EMPTY_CONTROLLER_STATE, 't', 4, 4);
    const moves = planReassignMissingLeaders(state, 2);
    expect(moves).toEqual([{ type: 'leaders-changed', name: 't', leaders: { 2: 0, 3: 1 } }]);
    const after = moves.reduce(applyRecord, state);
    expect(after.topics.get('t')!.partitions.map((partition) => [partition.leader, partition.leaderEpoch])).toEqual([[0, 0], [1, 0], [0, 1], [1, 1]]);
    expect(planReassignMissingLeaders(after, 2)).toEqual([]);
  });

  it('replaying the records gives the same state', () => {
    const records: MetadataRecord[] = [{ type: 'cluster-created', clusterId: 'c' }];
    let state: ControllerState = applyRecord(EMPTY_CONTROLLER_STATE, records[0]!);
    for (const [name, count] of [['a', 2], ['b', 5], ['c', 1]] as const) {
      const plan = planCreateTopic(state, { name, topicId: name, partitionCount: count, configs: { 'retention.ms': '10' } }, 3);
      if ('error' in plan) throw new Error(plan.message);
      records.push(...plan.records);
      state = plan.records.reduce(applyRecord, state);
    }
    const replayed = JSON.parse(JSON.stringify(records)).reduce(applyRecord, EMPTY_CONTROLLER_STATE);
    expect(replayed).toEqual(state);
  });

  it('deletes a topic; its name is remembered as deleted until it is created again', () => {
    let state = create(EMPTY_CONTROLLER_STATE, 'gone', 2, 2);
    state = create(state, 'kept', 1, 2);
    expect(planDeleteTopic(state, 'nope')).toMatchObject({ error: 'UNKNOWN_TOPIC_OR_PARTITION' });
    const plan = planDeleteTopic(state, 'gone');
    expect(plan).toEqual({ records: [{ type: 'topic-deleted', name: 'gone', topicId: 'id-gone' }] });
    state = carryOut(state, plan);
    expect([...state.topics.keys()]).toEqual(['kept']);
    expect(state.deletedTopicNames).toEqual(new Set(['gone']));
    // Only the deletion of that very topic (same id) removes it: a stale record does nothing.
    expect(applyRecord(state, { type: 'topic-deleted', name: 'kept', topicId: 'other' })).toBe(state);
    state = create(state, 'gone', 1, 2);
    expect(state.topics.get('gone')!.partitions.length).toBe(1);
    expect(state.deletedTopicNames.size).toBe(0);
  });

  it('adds partitions round robin, continuing the cursor, and grows only', () => {
    let state = create(EMPTY_CONTROLLER_STATE, 't', 2, 3);
    const plan = (partitionCount: number, leaders?: number[]) => planCreatePartitions(state, { name: 't', partitionCount, leaders }, 3);
    expect(plan(1)).toMatchObject({ error: 'INVALID_PARTITIONS', message: 'topic currently has 2 partitions, which is higher than the requested 1' });
    expect(plan(2)).toMatchObject({ error: 'INVALID_PARTITIONS', message: 'topic already has 2 partitions' });
    expect(plan(PARTITIONS_PER_TOPIC_MAX + 1)).toMatchObject({ error: 'INVALID_PARTITIONS' });
    expect(plan(4, [0])).toMatchObject({ error: 'INVALID_REPLICA_ASSIGNMENT', message: 'increasing the number of partitions by 2 but 1 assignments provided' });
    expect(plan(4, [0, 3])).toMatchObject({ error: 'INVALID_REPLICA_ASSIGNMENT', message: 'broker 3 does not exist' });
    expect(planCreatePartitions(state, { name: 'u', partitionCount: 4 }, 3)).toMatchObject({ error: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(plan(5)).toEqual({ records: [{ type: 'partitions-created', name: 't', leaders: [2, 0, 1] }] });
    state = carryOut(state, plan(5));
    expect(state.topics.get('t')!.partitions.map((partition) => partition.leader)).toEqual([0, 1, 2, 0, 1]);
    expect(state.topics.get('t')!.partitions[4]).toEqual({ leader: 1, leaderEpoch: 0, replicas: [1], isr: [1] });
    expect(state.nextLeader).toBe(2);
    state = carryOut(state, plan(6, [0]));
    expect(state.topics.get('t')!.partitions.map((partition) => partition.leader)).toEqual([0, 1, 2, 0, 1, 0]);
  });

  it('replaces a topic\'s configs as a whole', () => {
    let state = carryOut(EMPTY_CONTROLLER_STATE, planCreateTopic(EMPTY_CONTROLLER_STATE, { name: 't', topicId: 'x', partitionCount: 1, configs: { 'retention.ms': '10', 'cleanup.policy': 'compact' } }, 1));
    expect(planAlterTopicConfigs(state, 'u', {})).toMatchObject({ error: 'UNKNOWN_TOPIC_OR_PARTITION' });
    state = carryOut(state, planAlterTopicConfigs(state, 't', { 'segment.bytes': '1024' }));
    expect(state.topics.get('t')!.configs).toEqual({ 'segment.bytes': '1024' });
    expect(state.topics.get('t')!.topicId).toBe('x');
  });

  it('replaying every kind of record gives the same state', () => {
    let state: ControllerState = EMPTY_CONTROLLER_STATE;
    const records: MetadataRecord[] = [];
    const run = (plan: PlanResult) => {
      if ('error' in plan) throw new Error(plan.message);
      records.push(...plan.records);
      state = plan.records.reduce(applyRecord, state);
    };
    run({ records: [{ type: 'cluster-created', clusterId: 'c' }] });
    run(planCreateTopic(state, { name: 'a', topicId: 'ia', partitionCount: 2, configs: {} }, 2));
    run(planCreateTopic(state, { name: 'b', topicId: 'ib', partitionCount: 1, configs: {} }, 2));
    run(planCreatePartitions(state, { name: 'a', partitionCount: 5 }, 2));
    run(planAlterTopicConfigs(state, 'a', { 'retention.ms': '1000' }));
    run(planDeleteTopic(state, 'b'));
    run({ records: planReassignMissingLeaders(state, 1) });
    const replayed = (JSON.parse(JSON.stringify(records)) as MetadataRecord[]).reduce(applyRecord, EMPTY_CONTROLLER_STATE);
    expect(replayed).toEqual(state);
    expect(state.topics.get('a')!.partitions.map((partition) => partition.leader)).toEqual([0, 0, 0, 0, 0]);
    expect(state.topics.get('a')!.configs).toEqual({ 'retention.ms': '1000' });
    expect(state.deletedTopicNames).toEqual(new Set(['b']));
  });
});
