import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Controller, METADATA_LOG_FILE } from '../../src/server/controller.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';

const directories = new TemporaryDirectories();
afterAll(() => directories.removeAll());

describe('Controller', () => {
  it('finds every topic and the cluster id again after a restart', () => {
    const directory = directories.make('samsa-controller-');
    const first = Controller.open(directory, 2);
    expect(first.createTopic({ name: 'orders', partitionCount: 3, configs: { 'retention.ms': '1000' } })).toHaveProperty('topic');
    expect(first.createTopic({ name: 'checked', partitionCount: 3, configs: {} }, true)).not.toHaveProperty('topic');
    first.close();
    const second = Controller.open(directory, 2);
    expect(second.clusterId).toBe(first.clusterId);
    expect(second.topic('orders')).toEqual(first.topic('orders'));
    expect(second.topic('checked')).toBeUndefined();
    expect(second.topicById(first.topic('orders')!.topicId)!.name).toBe('orders');
    second.close();
  });

  it('drops a torn last record and cuts it off', () => {
    const directory = directories.make('samsa-controller-');
    const first = Controller.open(directory, 1);
    first.createTopic({ name: 'kept', partitionCount: 1, configs: {} });
    first.close();
    const file = path.join(directory, METADATA_LOG_FILE);
    const before = readFileSync(file);
    appendFileSync(file, '{"type":"topic-created","name":"torn"');
    const second = Controller.open(directory, 1);
    expect(second.topic('kept')).toBeDefined();
    expect(second.topic('torn')).toBeUndefined();
    expect(readFileSync(file)).toEqual(before);
    second.close();
  });

  it('moves leaders when restarted with fewer brokers, durably', () => {
    const directory = directories.make('samsa-controller-');
    const first = Controller.open(directory, 3);
    first.createTopic({ name: 't', partitionCount: 3, configs: {} });
    first.close();
    const second = Controller.open(directory, 1);
    expect(second.topic('t')!.partitions.map((partition) => partition.leader)).toEqual([0, 0, 0]);
    second.close();
    const third = Controller.open(directory, 3);
    expect(third.topic('t')!.partitions.map((partition) => [partition.leader, partition.leaderEpoch])).toEqual([[0, 0], [0, 1], [0, 1]]);
    third.close();
  });

  it('keeps deletions, added partitions and config changes across a restart', () => {
    const directory = directories.make('samsa-controller-');
    const first = Controller.open(directory, 2);
    first.createTopic({ name: 'grown', partitionCount: 1, configs: { 'retention.ms': '1000' } });
    first.createTopic({ name: 'deleted', partitionCount: 2, configs: {} });
    const deletedId = first.topic('deleted')!.topicId;
    expect(first.createPartitions({ name: 'grown', partitionCount: 3 })).toHaveProperty('records');
    expect(first.createPartitions({ name: 'grown', partitionCount: 9 }, true)).toHaveProperty('records');
    expect(first.alterTopicConfigs('grown', { 'segment.bytes': '4096' })).toHaveProperty('records');
    expect(first.alterTopicConfigs('grown', { 'segment.bytes': '1' }, true)).toHaveProperty('records');
    expect(first.deleteTopic('deleted')).toHaveProperty('records');
    expect(first.deleteTopic('deleted')).toMatchObject({ error: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(first.topicById(deletedId)).toBeUndefined();
    expect(first.topicById(first.topic('grown')!.topicId)).toBe(first.topic('grown'));
    first.close();
    const second = Controller.open(directory, 2);
    expect(second.topic('grown')!.partitions.length).toBe(3);
    expect(second.topic('grown')!.configs).toEqual({ 'segment.bytes': '4096' });
    expect(second.topic('deleted')).toBeUndefined();
    expect(second.topicById(deletedId)).toBeUndefined();
    expect(second.topicById(second.topic('grown')!.topicId)!.partitions.length).toBe(3);
    expect(second.state.deletedTopicNames).toEqual(new Set(['deleted']));
    const lines = readFileSync(path.join(directory, METADATA_LOG_FILE), 'utf8').trim().split('\n').map((line) => JSON.parse(line).type);
    expect(lines).toEqual(['cluster-created', 'topic-created', 'topic-created', 'partitions-created', 'topic-configs-changed', 'topic-deleted']);
    second.close();
  });
});
