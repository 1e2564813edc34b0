/**
 * Produce, Fetch and ListOffsets over real sockets, with record batches built and decoded by
 * kafkajs's own protocol code (an implementation independent of Samsa's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import type { ApiVersionsResponse, ProduceResponse } from '../../src/protocol/generated/messages/index.js';
import { kafkajsBatch, kafkajsDecode } from '../log/kafkajs-batches.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, fetch, listOffsets, produce } from './requests.js';

let fixture: BrokerFixture;
/** clients[i] talks to broker i. */
let clients: RawKafkaClient[];

beforeAll(async () => {
  fixture = await startBrokers({ brokerCount: 2 });
  clients = [await RawKafkaClient.connect(fixture.port(0)), await RawKafkaClient.connect(fixture.port(1))];
  // Partition 0 on broker 0, partition 1 on broker 1.
  const created = await createTopics(clients[0]!, [
    { name: 'pf', assignments: [[0], [1]] },
    { name: 'small', assignments: [[0]], configs: { 'max.message.bytes': '200' } },
    { name: 'times', assignments: [[1]] },
    { name: 'polls', assignments: [[0], [0]] },
    { name: 'large', assignments: [[0], [0]] },
  ]);
  expect(created.topics.every((topic) => topic.errorCode === 0)).toBe(true);
});

afterAll(async () => {
  for (const client of clients) client.close();
  await fixture.stop();
  removeScratchDirectories();
});

const text = (value: string) => Buffer.from(value);

describe('Produce', () => {
  it('appends batches and returns them byte for byte from Fetch, at the offsets it answered', async () => {
    const first = await kafkajsBatch([
      { key: text('k1'), value: text('v1'), headers: { trace: text('abc') } },
      { key: null, value: text('no key') },
      { key: text('tombstone'), value: null },
    ]);
    const second = await kafkajsBatch([{ key: text('k2'), value: text('x'.repeat(500)) }], { compression: 'gzip' });
    const answered1 = await produce(clients[0]!, 'pf', 0, first, 1);
    const answered2 = await produce(clients[0]!, 'pf', 0, second, -1, 3);
    expect(answered1.responses[0]!.partitionResponses[0]).toMatchObject({ index: 0, errorCode: 0, baseOffset: 0n, logStartOffset: 0n });
    expect(answered2.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 3n });
    const fetched = await fetch(clients[0]!, [{ topic: 'pf', partition: 0, offset: 0 }]);
    const data = fetched.responses[0]!.partitions[0]!;
    expect(data).toMatchObject({ errorCode: 0, highWatermark: 4n, lastStableOffset: 4n, logStartOffset: 0n, abortedTransactions: [] });
    const expected = Buffer.concat([first, second]);
    expected.writeBigInt64BE(3n, first.byteLength); // the second batch's base offset, assigned by the log
    expect(Buffer.from(data.records!)).toEqual(expected);
    const records = await kafkajsDecode(data.records!);
    expect(records.map((record) => [record.offset, record.key?.toString() ?? null, record.value?.toString() ?? null])).toEqual([
      ['0', 'k1', 'v1'], ['1', null, 'no key'], ['2', 'tombstone', null], ['3', 'k2', 'x'.repeat(500)],
    ]);
    expect(records[0]!.headers.trace!.toString()).toBe('abc');
  });

  it('acks=0 gets no response, and the append happens', async () => {
    const client = await RawKafkaClient.connect(fixture.port(1));
    client.send(0, 7, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'pf', partitionData: [{ index: 1, records: await kafkajsBatch([{ key: null, value: text('fire and forget') }]) }] }] });
    // The next request's answer is the first frame back: acks=0 produced none.
    expect((await client.request<ApiVersionsResponse>(18, 3, {})).errorCode).toBe(0);
    const fetched = await fetch(client, [{ topic: 'pf', partition: 1, offset: 0 }]);
    expect((await kafkajsDecode(fetched.responses[0]!.partitions[0]!.records!)).map((record) => record.value!.toString())).toEqual(['fire and forget']);
    client.close();
  });

  it('acks=0 that fails closes the connection, as Kafka does', async () => {
    const client = await RawKafkaClient.connect(fixture.port(0));
    client.send(0, 7, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'no-such-topic', partitionData: [{ index: 0, records: await kafkajsBatch([{ key: null, value: text('lost') }]) }] }] });
    await client.closed;
  });

  it('answers each partition with the error Kafka gives', async () => {
    const batch = await kafkajsBatch([{ key: null, value: text('v') }]);
    const code = async (client: RawKafkaClient, topic: string, partition: number, records: Uint8Array | null, acks = 1) =>
      (await produce(client, topic, partition, records, acks)).responses[0]!.partitionResponses[0]!.errorCode;
    expect(await code(clients[1]!, 'pf', 0, batch)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(await code(clients[0]!, 'unknown', 0, batch)).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(await code(clients[0]!, 'pf', 9, batch)).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(await code(clients[0]!, 'pf', 0, batch, 2)).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
    const corrupt = Buffer.from(await kafkajsBatch([{ key: null, value: text('v') }]));
    corrupt[corrupt.byteLength - 1]! ^= 0xff;
    expect(await code(clients[0]!, 'pf', 0, corrupt)).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(await code(clients[0]!, 'pf', 0, Buffer.from('not a batch at all, just text that is long enough to look at'))).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(await code(clients[0]!, 'pf', 0, null)).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(await code(clients[0]!, 'small', 0, await kafkajsBatch([{ key: null, value: Buffer.alloc(300, 1) }]))).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    // None of the failures appended anything.
    expect((await fixture.broker.partitionInfo('pf', 0))!.logEndOffset).toBe(4);
    expect((await fixture.broker.partitionInfo('small', 0))!.logEndOffset).toBe(0);
  });
});

describe('Fetch', () => {
  it('answers errors per partition: wrong broker, unknown, out of range, unknown session', async () => {
    const response = await fetch(clients[1]!, [{ topic: 'pf', partition: 0, offset: 0 }, { topic: 'pf', partition: 1, offset: 99 }, { topic: 'nope', partition: 0, offset: 0 }]);
    expect(response.responses.flatMap((topic) => topic.partitions.map((partition) => [topic.topic, partition.partitionIndex, partition.errorCode]))).toEqual([
      ['pf', 0, ErrorCode.NOT_LEADER_OR_FOLLOWER], ['pf', 1, ErrorCode.OFFSET_OUT_OF_RANGE], ['nope', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(response.responses[0]!.partitions[1]!.highWatermark).toBe(1n);
    expect((await fetch(clients[1]!, [{ topic: 'pf', partition: 1, offset: 0 }], { sessionId: 12 })).errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('bounds bytes per partition and per response, but always returns the first batch', async () => {
    for (let i = 0; i < 3; i++) await produce(clients[0]!, 'polls', 0, await kafkajsBatch([{ key: null, value: Buffer.alloc(1000, i) }]));
    await produce(clients[0]!, 'polls', 1, await kafkajsBatch([{ key: null, value: Buffer.alloc(1000, 9) }]));
    const perPartition = await fetch(clients[0]!, [{ topic: 'polls', partition: 0, offset: 0 }], { partitionMaxBytes: 2500 });
    expect((await kafkajsDecode(perPartition.responses[0]!.partitions[0]!.records!)).length).toBe(2);
    const tiny = await fetch(clients[0]!, [{ topic: 'polls', partition: 0, offset: 0 }, { topic: 'polls', partition: 1, offset: 0 }], { maxBytes: 10 });
    const [first, second] = tiny.responses[0]!.partitions;
    expect((await kafkajsDecode(first!.records!)).length).toBe(1);
    expect(second!.records!.byteLength).toBe(0);
    expect(second!.highWatermark).toBe(1n);
  });

  it('returns large record sets byte for byte, across partitions and pipelined requests, in request order', async () => {
    // Produce frames this large span socket reads and are joined in pooled buffers, reused once
    // answered; record sets this large leave as their own chunks of the Fetch response (not
    // copied into it), read into pooled buffers reused once the socket has written them.
    const recordsPerBatch = 10;
    const batches: Uint8Array[][] = [[], []];
    const produced: Promise<ProduceResponse>[] = [];
    for (let i = 0; i < 6; i++) {
      const batch = await kafkajsBatch(Array.from({ length: recordsPerBatch }, (_, j) => ({ key: null, value: Buffer.alloc(10_000 + j, i) })));
      produced.push(produce(clients[0]!, 'large', i % 2, batch)); // pipelined on one connection
      batches[i % 2]!.push(batch);
    }
    for (const response of await Promise.all(produced)) expect(response.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    /** The partition's batches from the `from`th on, with the base offsets the log assigned. */
    const stored = (partition: number, from: number): Buffer => {
      const copies = batches[partition]!.slice(from).map((batch) => Buffer.from(batch));
      copies.forEach((copy, i) => copy.writeBigInt64BE(BigInt((from + i) * recordsPerBatch), 0));
      return Buffer.concat(copies);
    };
    const order: string[] = [];
    const both = fetch(clients[0]!, [{ topic: 'large', partition: 0, offset: 0 }, { topic: 'large', partition: 1, offset: 0 }]).then((response) => (order.push('both'), response));
    const versions = clients[0]!.request<ApiVersionsResponse>(18, 3, {}).then(() => order.push('apiVersions'));
    const tail = fetch(clients[0]!, [{ topic: 'large', partition: 1, offset: recordsPerBatch + 3 }], { version: 11 }).then((response) => (order.push('tail'), response));
    const [bothResponse, , tailResponse] = await Promise.all([both, versions, tail]);
    expect(order).toEqual(['both', 'apiVersions', 'tail']);
    const [partition0, partition1] = bothResponse.responses[0]!.partitions;
    // equals(): toEqual on hundreds of KB takes seconds
    expect(Buffer.from(partition0!.records!).equals(stored(0, 0))).toBe(true);
    expect(Buffer.from(partition1!.records!).equals(stored(1, 0))).toBe(true);
    expect(partition1!.highWatermark).toBe(BigInt(3 * recordsPerBatch));
    expect(Buffer.from(tailResponse.responses[0]!.partitions[0]!.records!).equals(stored(1, 1))).toBe(true);
    for (let round = 0; round < 4; round++) {
      const from = round % 3;
      const again = await Promise.all([0, 1].map((partition) => fetch(clients[0]!, [{ topic: 'large', partition, offset: from * recordsPerBatch }])));
      for (const [partition, response] of again.entries()) expect(Buffer.from(response.responses[0]!.partitions[0]!.records!).equals(stored(partition, from))).toBe(true);
    }
  });

  it('serves every version from 4 (read_uncommitted) to 12 (flexible)', async () => {
    for (const version of [4, 5, 7, 10, 12]) {
      const response = await fetch(clients[1]!, [{ topic: 'pf', partition: 1, offset: 0 }], { version, isolationLevel: 0 });
      const data = response.responses[0]!.partitions[0]!;
      expect(data.errorCode).toBe(0);
      expect((await kafkajsDecode(data.records!)).length).toBe(1);
    }
  });

  it('long polling: waits for minBytes and wakes on the append, not at the deadline', async () => {
    const client = await RawKafkaClient.connect(fixture.port(1));
    const started = Date.now();
    const waiting = fetch(client, [{ topic: 'times', partition: 0, offset: 0 }], { maxWaitMs: 10_000, minBytes: 1 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await produce(clients[1]!, 'times', 0, await kafkajsBatch([{ key: null, value: text('wake up') }], { timestampMs: 1_000 }));
    const response = await waiting;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await kafkajsDecode(response.responses[0]!.partitions[0]!.records!))[0]!.value!.toString()).toBe('wake up');
    client.close();
  });

  it('long polling: an append smaller than minBytes keeps waiting; the deadline answers what there is', async () => {
    const started = Date.now();
    const waiting = fetch(clients[1]!, [{ topic: 'times', partition: 0, offset: 1 }], { maxWaitMs: 400, minBytes: 1 << 20 });
    await produce(clients[1]!, 'times', 0, await kafkajsBatch([{ key: null, value: text('small') }], { timestampMs: 2_000 }));
    const response = await waiting;
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect((await kafkajsDecode(response.responses[0]!.partitions[0]!.records!)).map((record) => record.value!.toString())).toEqual(['small']);
  });
});

describe('ListOffsets', () => {
  it('answers earliest, latest, by timestamp and max timestamp', async () => {
    await produce(clients[1]!, 'times', 0, await kafkajsBatch([{ key: null, value: text('a') }, { key: null, value: text('b') }], { timestampMs: 3_000 }));
    const at = async (timestamp: bigint, version = 7) => (await listOffsets(clients[1]!, 'times', 0, timestamp, version)).topics[0]!.partitions[0]!;
    expect(await at(-2n)).toMatchObject({ errorCode: 0, offset: 0n, timestamp: -1n, leaderEpoch: 0 });
    expect(await at(-1n)).toMatchObject({ errorCode: 0, offset: 4n });
    expect(await at(1_500n)).toMatchObject({ offset: 1n, timestamp: 2_000n });
    expect(await at(2_500n, 1)).toMatchObject({ offset: 2n, timestamp: 3_000n });
    expect(await at(0n, 4)).toMatchObject({ offset: 0n, timestamp: 1_000n });
    expect(await at(9_999n)).toMatchObject({ errorCode: 0, offset: -1n, timestamp: -1n });
    // Max timestamp (-3): the first record holding the largest timestamp, then one with a later record in the middle of a batch.
    expect(await at(-3n)).toMatchObject({ errorCode: 0, offset: 2n, timestamp: 3_000n, leaderEpoch: 0 });
    await produce(clients[1]!, 'times', 0, await kafkajsBatch([0, 700, 200, 700].map((timestampDelta, i) => ({ key: null, value: text(`late ${i}`), timestampDelta })), { timestampMs: 2_500, compression: 'gzip' }));
    await produce(clients[1]!, 'times', 0, await kafkajsBatch([{ key: null, value: text('early') }], { timestampMs: 500 }));
    expect(await at(-3n)).toMatchObject({ errorCode: 0, offset: 5n, timestamp: 3_200n });
    expect((await listOffsets(clients[0]!, 'times', 0, -1n)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });
});
