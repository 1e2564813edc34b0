import { describe, expect, it } from 'vitest';
import {
  applyRecord, EMPTY_CONTROLLER_STATE, planCreateTopic, planReassignMissingLeaders, topicNameError,
  type ControllerState, type MetadataRecord,
} from '../../src/server/controller-state.js';

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
});
