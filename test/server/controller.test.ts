import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Controller, METADATA_LOG_FILE, nodeMetadataFileIo, type MetadataFileIo } from '../../src/server/controller.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';

const directories = new TemporaryDirectories();
afterAll(() => directories.removeAll());

describe('Controller', () => {
  it('finds every topic and the cluster id again after a restart', async () => {
    const directory = directories.make('samsa-controller-');
    const first = await Controller.open(directory, 2);
    expect(await first.createTopic({ name: 'orders', partitionCount: 3, configs: { 'retention.ms': '1000' } })).toHaveProperty('topic');
    expect(await first.createTopic({ name: 'checked', partitionCount: 3, configs: {} }, true)).not.toHaveProperty('topic');
    await first.close();
    const second = await Controller.open(directory, 2);
    expect(second.clusterId).toBe(first.clusterId);
    expect(second.topic('orders')).toEqual(first.topic('orders'));
    expect(second.topic('checked')).toBeUndefined();
    expect(second.topicById(first.topic('orders')!.topicId)!.name).toBe('orders');
    await second.close();
  });

  it('drops a torn last record and cuts it off', async () => {
    const directory = directories.make('samsa-controller-');
    const first = await Controller.open(directory, 1);
    await first.createTopic({ name: 'kept', partitionCount: 1, configs: {} });
    await first.close();
    const file = path.join(directory, METADATA_LOG_FILE);
    const before = readFileSync(file);
    appendFileSync(file, '{"type":"topic-created","name":"torn"');
    const second = await Controller.open(directory, 1);
    expect(second.topic('kept')).toBeDefined();
    expect(second.topic('torn')).toBeUndefined();
    expect(readFileSync(file)).toEqual(before);
    await second.close();
  });

  it('moves leaders when restarted with fewer brokers, durably', async () => {
    const directory = directories.make('samsa-controller-');
    const first = await Controller.open(directory, 3);
    await first.createTopic({ name: 't', partitionCount: 3, configs: {} });
    await first.close();
    const second = await Controller.open(directory, 1);
    expect(second.topic('t')!.partitions.map((partition) => partition.leader)).toEqual([0, 0, 0]);
    await second.close();
    const third = await Controller.open(directory, 3);
    expect(third.topic('t')!.partitions.map((partition) => [partition.leader, partition.leaderEpoch])).toEqual([[0, 0], [0, 1], [0, 1]]);
    await third.close();
  });

  it('keeps deletions, added partitions and config changes across a restart', async () => {
    const directory = directories.make('samsa-controller-');
    const first = await Controller.open(directory, 2);
    await first.createTopic({ name: 'grown', partitionCount: 1, configs: { 'retention.ms': '1000' } });
    await first.createTopic({ name: 'deleted', partitionCount: 2, configs: {} });
    const deletedId = first.topic('deleted')!.topicId;
    expect(await first.createPartitions({ name: 'grown', partitionCount: 3 })).toHaveProperty('records');
    expect(await first.createPartitions({ name: 'grown', partitionCount: 9 }, true)).toHaveProperty('records');
    expect(await first.alterTopicConfigs('grown', { 'segment.bytes': '4096' })).toHaveProperty('records');
    expect(await first.alterTopicConfigs('grown', { 'segment.bytes': '1' }, true)).toHaveProperty('records');
    expect(await first.deleteTopic('deleted')).toHaveProperty('records');
    expect(await first.deleteTopic('deleted')).toMatchObject({ error: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(first.topicById(deletedId)).toBeUndefined();
    expect(first.topicById(first.topic('grown')!.topicId)).toBe(first.topic('grown'));
    await first.close();
    const second = await Controller.open(directory, 2);
    expect(second.topic('grown')!.partitions.length).toBe(3);
    expect(second.topic('grown')!.configs).toEqual({ 'segment.bytes': '4096' });
    expect(second.topic('deleted')).toBeUndefined();
    expect(second.topicById(deletedId)).toBeUndefined();
    expect(second.topicById(second.topic('grown')!.topicId)!.partitions.length).toBe(3);
    expect(second.state.deletedTopicNames).toEqual(new Set(['deleted']));
    const lines = readFileSync(path.join(directory, METADATA_LOG_FILE), 'utf8').trim().split('\n').map((line) => JSON.parse(line).type);
    expect(lines).toEqual(['cluster-created', 'topic-created', 'topic-created', 'partitions-created', 'topic-configs-changed', 'topic-deleted']);
    await second.close();
  });

  it('commits on the thread pool: the event loop turns during the fsync, and a topic exists only once it is durable', async () => {
    const directory = directories.make('samsa-controller-');
    let releaseFsync: (() => void) | undefined;
    const fsyncs: number[] = [];
    const io: MetadataFileIo = {
      append: nodeMetadataFileIo.append,
      fsync: (fd) => {
        fsyncs.push(fd);
        // The first fsync (cluster-created, at open) goes through; later ones wait for the test.
        return fsyncs.length === 1 ? nodeMetadataFileIo.fsync(fd) : new Promise<void>((resolve) => (releaseFsync = () => void nodeMetadataFileIo.fsync(fd).then(resolve)));
      },
    };
    const controller = await Controller.open(directory, 2, undefined, io);
    const creating = controller.createTopic({ name: 'slow', partitionCount: 2, configs: {} });
    const closing = controller.close();
    let settled = false;
    void creating.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Written but not fsynced: not applied, not answered, and the file stays open.
    expect(readFileSync(path.join(directory, METADATA_LOG_FILE), 'utf8')).toContain('"name":"slow"');
    expect(controller.topic('slow')).toBeUndefined();
    expect(settled).toBe(false);
    expect(fsyncs).toHaveLength(2);
    releaseFsync!();
    expect(await creating).toHaveProperty('topic');
    expect(controller.topic('slow')!.partitions).toHaveLength(2);
    await closing;
    const reopened = await Controller.open(directory, 2);
    expect(reopened.topic('slow')).toEqual(controller.topic('slow'));
    await reopened.close();
  });

  it('after a failed fsync refuses every change with KAFKA_STORAGE_ERROR, and applies none', async () => {
    const directory = directories.make('samsa-controller-');
    let failing = false;
    const io: MetadataFileIo = {
      append: nodeMetadataFileIo.append,
      fsync: (fd) => (failing ? Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })) : nodeMetadataFileIo.fsync(fd)),
    };
    const controller = await Controller.open(directory, 1, undefined, io);
    expect(await controller.createTopic({ name: 'before', partitionCount: 1, configs: {} })).toHaveProperty('topic');
    failing = true;
    expect(await controller.createTopic({ name: 'lost', partitionCount: 1, configs: {} })).toMatchObject({ error: 'KAFKA_STORAGE_ERROR', message: expect.stringContaining('EIO') });
    expect(controller.topic('lost')).toBeUndefined();
    failing = false;
    // The disk works again, but the file's state is unknown: nothing more is committed.
    expect(await controller.createTopic({ name: 'after', partitionCount: 1, configs: {} })).toMatchObject({ error: 'KAFKA_STORAGE_ERROR' });
    expect(await controller.deleteTopic('before')).toMatchObject({ error: 'KAFKA_STORAGE_ERROR' });
    expect(controller.topic('before')).toBeDefined();
    expect(controller.topic('after')).toBeUndefined();
    // Validation still answers (nothing to write).
    expect(await controller.createTopic({ name: 'checked', partitionCount: 1, configs: {} }, true)).toHaveProperty('records');
    expect(await controller.createTopic({ name: 'before', partitionCount: 1, configs: {} }, true)).toMatchObject({ error: 'TOPIC_ALREADY_EXISTS' });
    await controller.close();
  });
});
