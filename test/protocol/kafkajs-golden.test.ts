/**
 * Golden bytes from an independent implementation: kafkajs's own request encoders
 * (node_modules/kafkajs/src/protocol/requests/<api>/v<N>/request.js) build frames that Samsa's
 * codecs must read, field by field, and re-encode to the identical bytes; Samsa's response
 * encoders build answers that kafkajs's response decoders must read back.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as messages from '../../src/protocol/generated/messages/index.js';
import { RequestHeaderCodec } from '../../src/protocol/generated/messages/index.js';
import { readRequestHeader } from '../../src/protocol/headers.js';
import type { MessageCodec } from '../../src/protocol/message-codec.js';
import { ProtocolReader } from '../../src/protocol/reader.js';
import { ProtocolWriter } from '../../src/protocol/writer.js';

const require = createRequire(import.meta.url);

interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<unknown>;
}
type RequestFactory = (options?: unknown) => KafkajsRequest;
type ResponseDecoder = (payload: Buffer) => Promise<Record<string, unknown>>;

const frameRequest = require('kafkajs/src/protocol/request') as (options: { correlationId: number; clientId: string; request: KafkajsRequest }) => Promise<{ buffer: Buffer }>;
const kafkajsRequest = (api: string, version: number): RequestFactory => require(`kafkajs/src/protocol/requests/${api}/v${version}/request`) as RequestFactory;
const kafkajsResponse = (api: string, version: number): ResponseDecoder =>
  (require(`kafkajs/src/protocol/requests/${api}/v${version}/response`) as { decode: ResponseDecoder }).decode;

const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: Record<string, unknown>) => unknown;

/** One record batch (magic 2, uncompressed) encoded by kafkajs. */
async function kafkajsBatch(records: { key: Buffer | null; value: Buffer }[], timestampMs: number): Promise<Uint8Array> {
  const batch = await RecordBatch({
    firstTimestamp: timestampMs,
    maxTimestamp: timestampMs,
    lastOffsetDelta: records.length - 1,
    records: records.map((record, offsetDelta) => Record({ offsetDelta, timestampDelta: 0, key: record.key, value: record.value, headers: {} })),
  });
  return Uint8Array.from(batch.buffer);
}

/** Builds the frame with kafkajs, reads it with Samsa, and checks Samsa writes the same bytes. */
async function readKafkajsRequest(api: string, version: number, options: unknown): Promise<{ header: unknown; body: any }> {
  const request = kafkajsRequest(api, version)(options);
  const frame = new Uint8Array((await frameRequest({ correlationId: 77, clientId: 'golden-test', request })).buffer);
  const reader = new ProtocolReader(frame);
  expect(reader.readInt32()).toBe(frame.byteLength - 4);
  const header = readRequestHeader(reader);
  const codec = messages.codecsForApiKey(request.apiKey)!.request;
  const body = codec.decode(reader, version);
  reader.expectEnd('kafkajs frame');

  const writer = new ProtocolWriter();
  RequestHeaderCodec.encode(writer, header, 1);
  codec.encode(writer, body, version);
  expect(Buffer.from(writer.bytes()).toString('hex')).toBe(Buffer.from(frame.subarray(4)).toString('hex'));
  return { header, body };
}

describe('kafkajs requests decode field by field and re-encode to identical bytes', () => {
  it('header v1', async () => {
    const { header } = await readKafkajsRequest('apiVersions', 2, {});
    expect(header).toEqual({ requestApiKey: 18, requestApiVersion: 2, correlationId: 77, clientId: 'golden-test' });
  });

  it('ApiVersions v2 (empty body)', async () => {
    expect((await readKafkajsRequest('apiVersions', 2, {})).body).toEqual({ clientSoftwareName: '', clientSoftwareVersion: '' });
  });

  it('Metadata v0', async () => {
    const { body } = await readKafkajsRequest('metadata', 0, { topics: ['orders', 'payments'] });
    expect(body.topics).toEqual([{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'orders' }, { topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'payments' }]);
    expect(body.allowAutoTopicCreation).toBe(true); // v0 has no such field: the default
  });

  it('Metadata v4, with topics and with null (all topics)', async () => {
    const some = await readKafkajsRequest('metadata', 4, { topics: ['orders'], allowAutoTopicCreation: false });
    expect(some.body).toEqual({ topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'orders' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    // kafkajs writes an empty list as null: "all topics".
    const all = await readKafkajsRequest('metadata', 4, { topics: [] });
    expect(all.body.topics).toBeNull();
  });

  it('Produce v3, records kept as the raw batch bytes', async () => {
    const timestamp = 1_700_000_000_000;
    const { body } = await readKafkajsRequest('produce', 3, {
      acks: -1,
      timeout: 30000,
      topicData: [{ topic: 'orders', partitions: [{ partition: 2, messages: [{ key: 'k1', value: 'v1', timestamp }, { key: null, value: 'v2', timestamp }] }] }],
    });
    expect(body).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 });
    const partition = body.topicData[0].partitionData[0];
    expect(body.topicData[0].name).toBe('orders');
    expect(partition.index).toBe(2);
    const records = partition.records as Uint8Array;
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    expect(view.getInt32(8) + 12).toBe(records.byteLength); // one whole batch
    expect(records[16]).toBe(2); // magic
    expect(view.getInt32(57)).toBe(2); // records count
    expect(view.getBigInt64(27)).toBe(BigInt(timestamp)); // base timestamp
  });

  it('Fetch v4', async () => {
    const { body } = await readKafkajsRequest('fetch', 4, {
      replicaId: -1, maxWaitTime: 100, minBytes: 1, maxBytes: 1048576, isolationLevel: 1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '42', maxBytes: 65536 }] }],
    });
    expect(body).toMatchObject({ replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 1048576, isolationLevel: 1, sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '' });
    expect(body.topics).toEqual([{ topic: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 42n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 65536, replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA' }] }]);
  });

  it('Fetch v11, with a fetch session, forgotten topics and a rack', async () => {
    const { body } = await readKafkajsRequest('fetch', 11, {
      replicaId: -1, maxWaitTime: 500, minBytes: 1, maxBytes: 52428800, isolationLevel: 0, sessionId: 12, sessionEpoch: 3, rackId: 'rack-a',
      topics: [{ topic: 'orders', partitions: [{ partition: 1, currentLeaderEpoch: 5, fetchOffset: '9007199254740993', logStartOffset: 7, maxBytes: 1048576 }] }],
      forgottenTopics: [{ topic: 'old', partitions: [3, 4] }],
    });
    expect(body).toMatchObject({ maxWaitMs: 500, isolationLevel: 0, sessionId: 12, sessionEpoch: 3, rackId: 'rack-a' });
    expect(body.topics[0].partitions[0]).toMatchObject({ partition: 1, currentLeaderEpoch: 5, fetchOffset: 9007199254740993n, logStartOffset: 7n, partitionMaxBytes: 1048576 });
    expect(body.forgottenTopicsData).toEqual([{ topic: 'old', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [3, 4] }]);
  });

  it('CreateTopics v3', async () => {
    const { body } = await readKafkajsRequest('createTopics', 3, {
      topics: [{ topic: 'compacted', numPartitions: 3, replicationFactor: 1, replicaAssignment: [{ partition: 0, replicas: [1, 2] }], configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      validateOnly: true, timeout: 5000,
    });
    expect(body).toEqual({
      topics: [{ name: 'compacted', numPartitions: 3, replicationFactor: 1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [{ name: 'cleanup.policy', value: 'compact' }] }],
      timeoutMs: 5000, validateOnly: true,
    });
  });

  it('JoinGroup v5', async () => {
    const { body } = await readKafkajsRequest('joinGroup', 5, {
      groupId: 'billing', sessionTimeout: 30000, rebalanceTimeout: 60000, memberId: '', groupInstanceId: null, protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 0, 0, 0, 0]) }],
    });
    expect(body).toMatchObject({ groupId: 'billing', sessionTimeoutMs: 30000, rebalanceTimeoutMs: 60000, memberId: '', groupInstanceId: null, protocolType: 'consumer', reason: null });
    expect(body.protocols[0].name).toBe('RoundRobinAssigner');
    expect([...body.protocols[0].metadata]).toEqual([0, 1, 0, 0, 0, 0]);
  });

  it('OffsetFetch v3 and v4', async () => {
    for (const version of [3, 4]) {
      const { body } = await readKafkajsRequest('offsetFetch', version, { groupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 1 }] }] });
      expect(body).toMatchObject({ groupId: 'billing', topics: [{ name: 'orders', partitionIndexes: [0, 1] }], groups: [], requireStable: false });
    }
  });

  const others: [string, number, unknown][] = [
    ['findCoordinator', 2, { coordinatorKey: 'billing', coordinatorType: 0 }],
    ['listOffsets', 3, { replicaId: -1, isolationLevel: 1, topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -1 }] }] }],
    ['syncGroup', 3, { groupId: 'billing', generationId: 4, memberId: 'm-1', groupInstanceId: null, groupAssignment: [{ memberId: 'm-1', memberAssignment: Buffer.from('assignment') }] }],
    ['heartbeat', 3, { groupId: 'billing', groupGenerationId: 4, memberId: 'm-1', groupInstanceId: null }],
    ['leaveGroup', 3, { groupId: 'billing', members: [{ memberId: 'm-1', groupInstanceId: null }] }],
    ['offsetCommit', 5, { groupId: 'billing', groupGenerationId: 4, memberId: 'm-1', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '100', metadata: null }] }] }],
    ['describeGroups', 2, { groupIds: ['billing', 'audit'] }],
    ['listGroups', 2, undefined],
    ['deleteTopics', 1, { topics: ['orders'], timeout: 5000 }],
    ['saslHandshake', 1, { mechanism: 'PLAIN' }],
    // kafkajs's SASL mechanisms hand over authBytes already length-prefixed; it writes them raw.
    ['saslAuthenticate', 1, { authBytes: Buffer.concat([Buffer.from([0, 0, 0, 12]), Buffer.from('\0user\0secret')]) }],
    ['initProducerId', 1, { transactionalId: 'tx-1', transactionTimeout: 60000 }],
    ['deleteRecords', 1, { topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '50' }] }], timeout: 5000 }],
    ['createPartitions', 1, { topicPartitions: [{ topic: 'orders', count: 6, assignments: [[1], [2]] }], validateOnly: false, timeout: 5000 }],
    ['describeConfigs', 2, { resources: [{ type: 2, name: 'orders', configNames: ['retention.ms'] }], includeSynonyms: true }],
    ['alterConfigs', 1, { resources: [{ type: 2, name: 'orders', configEntries: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: false }],
    ['deleteGroups', 1, ['billing']],
  ];

  it.each(others)('%s v%i', async (api, version, options) => {
    await readKafkajsRequest(api, version, options);
  });

  it('spot checks of the others', async () => {
    const listOffsets = (await readKafkajsRequest('listOffsets', 3, others[1]![2])).body;
    expect(listOffsets).toMatchObject({ replicaId: -1, isolationLevel: 1, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, timestamp: -1n, currentLeaderEpoch: -1 }] }] });
    const commit = (await readKafkajsRequest('offsetCommit', 5, others[5]![2])).body;
    expect(commit.topics[0].partitions[0]).toMatchObject({ partitionIndex: 0, committedOffset: 100n, committedMetadata: null });
    const sasl = (await readKafkajsRequest('saslAuthenticate', 1, others[10]![2])).body;
    expect(Buffer.from(sasl.authBytes).toString()).toBe('\0user\0secret');
    const configs = (await readKafkajsRequest('describeConfigs', 2, others[14]![2])).body;
    expect(configs).toMatchObject({ resources: [{ resourceType: 2, resourceName: 'orders', configurationKeys: ['retention.ms'] }], includeSynonyms: true, includeDocumentation: false });
  });
});

describe('kafkajs decodes what Samsa encodes', () => {
  function encodeResponse<T>(codec: MessageCodec<T>, value: T, version: number): Buffer {
    const writer = new ProtocolWriter();
    codec.encode(writer, value, version);
    return Buffer.from(writer.toUint8Array());
  }

  it('ApiVersions v2', async () => {
    const payload = encodeResponse(messages.ApiVersionsResponseCodec, { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 9 }, { apiKey: 18, minVersion: 0, maxVersion: 3 }], throttleTimeMs: 5 }, 2);
    expect(await kafkajsResponse('apiVersions', 2)(payload)).toEqual({
      errorCode: 0, apiVersions: [{ apiKey: 0, minVersion: 3, maxVersion: 9 }, { apiKey: 18, minVersion: 0, maxVersion: 3 }], throttleTime: 0, clientSideThrottleTime: 5,
    });
  });

  it('Metadata v0 and v4', async () => {
    const response = {
      throttleTimeMs: 0, clusterId: 'samsa-cluster', controllerId: 1,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      topics: [{ errorCode: 0, name: 'orders', isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }] }],
    };
    expect(await kafkajsResponse('metadata', 0)(encodeResponse(messages.MetadataResponseCodec, response, 0))).toEqual({
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092 }],
      topicMetadata: [{ topicErrorCode: 0, topic: 'orders', partitionMetadata: [{ partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1], isr: [1] }] }],
    });
    expect(await kafkajsResponse('metadata', 4)(encodeResponse(messages.MetadataResponseCodec, response, 4))).toMatchObject({
      clusterId: 'samsa-cluster', controllerId: 1, brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      topicMetadata: [{ topic: 'orders', isInternal: false, partitionMetadata: [{ partitionId: 0, leader: 1, replicas: [1], isr: [1] }] }],
    });
  });

  it('Produce v3', async () => {
    const payload = encodeResponse(messages.ProduceResponseCodec, {
      responses: [{ name: 'orders', partitionResponses: [{ index: 2, errorCode: 0, baseOffset: 41n, logAppendTimeMs: -1n }] }], throttleTimeMs: 0,
    }, 3);
    expect(await kafkajsResponse('produce', 3)(payload)).toEqual({
      topics: [{ topicName: 'orders', partitions: [{ partition: 2, errorCode: 0, baseOffset: '41', logAppendTime: '-1' }] }], throttleTime: 0,
    });
  });

  it('Fetch v4 and v11, records from a kafkajs batch', async () => {
    const batch = await kafkajsBatch([{ key: Buffer.from('k'), value: Buffer.from('hello') }], 1_700_000_000_000);
    // The log assigns offsets by rewriting baseOffset in place; do the same.
    new DataView(batch.buffer, batch.byteOffset).setBigInt64(0, 5n);
    const response = {
      throttleTimeMs: 0, errorCode: 0, sessionId: 0,
      responses: [{ topic: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 6n, lastStableOffset: 6n, logStartOffset: 0n, abortedTransactions: [], records: batch }] }],
    };
    for (const version of [4, 11]) {
      const decoded = await kafkajsResponse('fetch', version)(encodeResponse(messages.FetchResponseCodec, response, version));
      const partition = (decoded.responses as any[])[0].partitions[0];
      expect(partition).toMatchObject({ partition: 0, errorCode: 0, highWatermark: '6', lastStableOffset: '6', abortedTransactions: [] });
      expect(partition.messages).toHaveLength(1);
      expect(partition.messages[0]).toMatchObject({ offset: '5', key: Buffer.from('k'), value: Buffer.from('hello') });
    }
  });

  it('CreateTopics v3, FindCoordinator v2, OffsetFetch v3, ListOffsets v3, JoinGroup v5', async () => {
    expect(await kafkajsResponse('createTopics', 3)(encodeResponse(messages.CreateTopicsResponseCodec, {
      throttleTimeMs: 0, topics: [{ name: 'orders', errorCode: 36, errorMessage: 'Topic already exists.' }],
    }, 3))).toMatchObject({ topicErrors: [{ topic: 'orders', errorCode: 36, errorMessage: 'Topic already exists.' }] });

    expect(await kafkajsResponse('findCoordinator', 2)(encodeResponse(messages.FindCoordinatorResponseCodec, {
      throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 1, host: 'localhost', port: 9092,
    }, 2))).toMatchObject({ errorCode: 0, errorMessage: null, coordinator: { nodeId: 1, host: 'localhost', port: 9092 } });

    expect(await kafkajsResponse('offsetFetch', 3)(encodeResponse(messages.OffsetFetchResponseCodec, {
      throttleTimeMs: 0, errorCode: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 100n, metadata: '', errorCode: 0 }] }],
    }, 3))).toEqual({ throttleTime: 0, errorCode: 0, responses: [{ topic: 'orders', partitions: [{ partition: 0, offset: '100', metadata: '', errorCode: 0 }] }] });

    expect(await kafkajsResponse('listOffsets', 3)(encodeResponse(messages.ListOffsetsResponseCodec, {
      throttleTimeMs: 0, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 42n }] }],
    }, 3))).toMatchObject({ responses: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0, timestamp: '-1', offset: '42' }] }] });

    expect(await kafkajsResponse('joinGroup', 5)(encodeResponse(messages.JoinGroupResponseCodec, {
      throttleTimeMs: 0, errorCode: 0, generationId: 1, protocolName: 'RoundRobinAssigner', leader: 'm-1', memberId: 'm-1',
      members: [{ memberId: 'm-1', groupInstanceId: null, metadata: Uint8Array.of(0, 1) }],
    }, 5))).toMatchObject({ generationId: 1, groupProtocol: 'RoundRobinAssigner', leaderId: 'm-1', memberId: 'm-1', members: [{ memberId: 'm-1', groupInstanceId: null, memberMetadata: Buffer.from([0, 1]) }] });
  });
});
