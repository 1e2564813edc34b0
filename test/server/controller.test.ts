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
});
