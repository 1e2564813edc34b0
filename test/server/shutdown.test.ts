/** Stopping a broker answers what is in flight, including long polls, and leaves a clean log. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLEAN_SHUTDOWN_FILE } from '../../src/log/log-directory.js';
import { kafkajsBatch } from '../log/kafkajs-batches.js';
import { removeScratchDirectories, startBrokers } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, fetch, produce } from './requests.js';

afterAll(() => removeScratchDirectories());

describe('Broker.stop', () => {
  it('answers a waiting fetch at once, closes connections and writes the clean-shutdown marker', async () => {
    const fixture = await startBrokers({ brokerCount: 1 });
    const client = await RawKafkaClient.connect(fixture.port(0));
    await createTopics(client, [{ name: 'stopping' }]);
    await produce(client, 'stopping', 0, await kafkajsBatch([{ key: null, value: Buffer.from('kept') }]));
    const waiting = fetch(client, [{ topic: 'stopping', partition: 0, offset: 1 }], { maxWaitMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await fixture.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    const response = await waiting;
    expect(response.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 1n });
    await client.closed;
    expect(existsSync(path.join(fixture.dataDirectory, CLEAN_SHUTDOWN_FILE))).toBe(true);
    await expect(RawKafkaClient.connect(fixture.port(0))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a request that arrives while connections drain does not hold the stop up', async () => {
    const fixture = await startBrokers({ brokerCount: 1 });
    const client = await RawKafkaClient.connect(fixture.port(0));
    await createTopics(client, [{ name: 'busy' }]);
    const waiting = fetch(client, [{ topic: 'busy', partition: 0, offset: 0 }], { maxWaitMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const stopping = fixture.stop();
    // The fetch is answered once the broker drains; a client's next request (a heartbeat, its
    // next fetch) may then be on its way. It is not answered, and the client's close is still
    // seen at once rather than after the drain's time limit.
    await waiting;
    client.writeRaw(RawKafkaClient.frame(18, 0, 99));
    await stopping;
    expect(Date.now() - started).toBeLessThan(2_000);
    await client.closed;
  });

  it('pipelined produces to one partition get offsets in request order', async () => {
    const fixture = await startBrokers({ brokerCount: 1, settings: { 'log.flush.interval.messages': '1' } });
    const client = await RawKafkaClient.connect(fixture.port(0));
    await createTopics(client, [{ name: 'ordered' }]);
    const batches = await Promise.all(Array.from({ length: 20 }, (_, i) => kafkajsBatch([{ key: null, value: Buffer.from(`record ${i}`) }, { key: null, value: null }])));
    const answers = await Promise.all(batches.map((batch) => produce(client, 'ordered', 0, batch, -1)));
    expect(answers.map((answer) => answer.responses[0]!.partitionResponses[0]!.baseOffset)).toEqual(batches.map((_, i) => BigInt(i * 2)));
    client.close();
    await fixture.stop();
  });
});
