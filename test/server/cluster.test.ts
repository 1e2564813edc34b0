/**
 * The threaded cluster (what `samsa start` runs): one broker per worker thread, the controller
 * on the main thread. Admin changes go through the controller and reach every broker's metadata
 * cache before the answer; a broker whose thread dies is restarted and recovers its logs; a
 * restart with fewer brokers moves partition directories to their new leader.
 */
import { existsSync, renameSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { CLEAN_SHUTDOWN_FILE } from '../../src/log/log-directory.js';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { brokerConfigFrom } from '../../src/server/broker-config.js';
import { Cluster } from '../../src/server/cluster.js';
import { kafkajsBatch, kafkajsDecode } from '../log/kafkajs-batches.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, fetch, metadata, produce } from './requests.js';

// Worker threads read their log level from the environment at start.
process.env.SAMSA_LOG_LEVEL = process.env.SAMSA_TEST_LOG_LEVEL ?? 'silent';
const directories = new TemporaryDirectories();
const clients: RawKafkaClient[] = [];

afterAll(() => {
  for (const client of clients) client.close();
  directories.removeAll();
});

function start(dataDirectory: string, brokerCount: number, port = 0): Promise<Cluster> {
  return Cluster.start({
    dataDirectory,
    brokerCount,
    port,
    advertisedHost: '127.0.0.1',
    bindHost: '127.0.0.1',
    config: brokerConfigFrom([['auto.create.topics.enable', 'false']]),
    log: pino({ level: process.env.SAMSA_TEST_LOG_LEVEL ?? 'silent' }),
  });
}

async function connect(cluster: Cluster, nodeId: number): Promise<RawKafkaClient> {
  const client = await RawKafkaClient.connect(cluster.brokers[nodeId]!.port);
  clients.push(client);
  return client;
}

/** Retries until the broker (whose thread was restarted, on a new port) answers. */
async function reconnect(cluster: Cluster, nodeId: number, oldPort: number): Promise<RawKafkaClient> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const port = cluster.brokers[nodeId]!.port;
    if (port !== oldPort) {
      try {
        const client = await RawKafkaClient.connect(port);
        clients.push(client);
        await metadata(client, [], false);
        return client;
      } catch {
        // not accepting yet
      }
    }
    if (Date.now() > deadline) throw new Error(`broker ${nodeId} did not come back`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const text = (value: string) => Buffer.from(value);

describe('Cluster (a broker per worker thread)', () => {
  const dataDirectory = directories.make('samsa-cluster-');

  it('routes admin changes through the controller, restarts a dead broker thread, and moves logs to new leaders', async () => {
    let cluster = await start(dataDirectory, 2);
    try {
      expect(cluster.brokers.map((broker) => broker.nodeId)).toEqual([0, 1]);
      const [zero, one] = [await connect(cluster, 0), await connect(cluster, 1)];
      // Created through broker 1; broker 0's cache has it as soon as the answer arrives.
      const created = await createTopics(one, [{ name: 'ha', assignments: [[0], [1]] }]);
      expect(created.topics[0]!.errorCode).toBe(0);
      const seen = await metadata(zero, ['ha'], false);
      expect(seen.topics[0]!.partitions.map((partition) => partition.leaderId)).toEqual([0, 1]);
      expect(seen.brokers.map((broker) => broker.port)).toEqual(cluster.brokers.map((broker) => broker.port));

      const batch = await kafkajsBatch([{ key: text('k'), value: text('before the crash') }]);
      expect((await produce(one, 'ha', 1, batch, -1)).responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0n });
      expect((await produce(one, 'ha', 0, batch, -1)).responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect((await produce(zero, 'ha', 0, batch, -1)).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);

      // Broker 1's thread dies: the supervisor restarts it, it recovers its log and registers again.
      const oldPort = cluster.brokers[1]!.port;
      const restarted = new Promise((resolve) => cluster.runtime.once('workerRestarted', resolve));
      await cluster.runtime.workerThread(2).terminate();
      await restarted;
      const again = await reconnect(cluster, 1, oldPort);
      const fetched = await fetch(again, [{ topic: 'ha', partition: 1, offset: 0 }]);
      expect(fetched.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 1n });
      expect((await kafkajsDecode(fetched.responses[0]!.partitions[0]!.records!)).map((record) => record.value?.toString())).toEqual(['before the crash']);
      const after = await kafkajsBatch([{ key: text('k'), value: text('after the crash') }]);
      expect((await produce(again, 'ha', 1, after, -1)).responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 1n });
      // Broker 0 was told the new endpoint.
      expect((await metadata(zero, [], false)).brokers.find((broker) => broker.nodeId === 1)!.port).toBe(cluster.brokers[1]!.port);
    } finally {
      await cluster.stop();
    }
    expect(existsSync(path.join(dataDirectory, CLEAN_SHUTDOWN_FILE))).toBe(true);
    expect(existsSync(path.join(dataDirectory, 'broker-1', 'ha-1'))).toBe(true);

    // One broker now: it leads both partitions, and ha-1's directory follows it.
    cluster = await start(dataDirectory, 1);
    try {
      expect(existsSync(path.join(dataDirectory, 'broker-0', 'ha-1'))).toBe(true);
      expect(existsSync(path.join(dataDirectory, CLEAN_SHUTDOWN_FILE))).toBe(false);
      const zero = await connect(cluster, 0);
      const fetched = await fetch(zero, [{ topic: 'ha', partition: 1, offset: 0 }]);
      expect(fetched.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 2n });
      expect((await kafkajsDecode(fetched.responses[0]!.partitions[0]!.records!)).map((record) => record.value?.toString())).toEqual(['before the crash', 'after the crash']);
    } finally {
      await cluster.stop();
    }
  }, 60_000);

  it('moves partition directories of the single-thread layout (at the root) under their leaders', async () => {
    const directory = directories.make('samsa-cluster-layout-');
    let cluster = await start(directory, 2);
    try {
      const client = await connect(cluster, 0);
      expect((await createTopics(client, [{ name: 'old', assignments: [[1]] }])).topics[0]!.errorCode).toBe(0);
      const one = await connect(cluster, 1);
      expect((await produce(one, 'old', 0, await kafkajsBatch([{ key: null, value: text('kept') }]), -1)).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    } finally {
      await cluster.stop();
    }
    renameSync(path.join(directory, 'broker-1', 'old-0'), path.join(directory, 'old-0'));
    cluster = await start(directory, 2);
    try {
      expect(existsSync(path.join(directory, 'broker-1', 'old-0'))).toBe(true);
      const one = await connect(cluster, 1);
      const fetched = await fetch(one, [{ topic: 'old', partition: 0, offset: 0 }]);
      expect((await kafkajsDecode(fetched.responses[0]!.partitions[0]!.records!)).map((record) => record.value?.toString())).toEqual(['kept']);
    } finally {
      await cluster.stop();
    }
  }, 60_000);

  it('fails a start at once when a broker cannot listen, naming why', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      await expect(start(directories.make('samsa-cluster-taken-'), 1, taken)).rejects.toThrow(/EADDRINUSE/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      blocker.close();
    }
  });
});
