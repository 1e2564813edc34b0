/**
 * The connection layer over real sockets: ApiVersions in old and flexible versions, what an
 * unsupported version gets, and that bad input (garbage, oversize frames, unknown API keys)
 * closes only the connection that sent it. Responses leave in request order even when a later
 * request finishes first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { ApiVersionsResponseCodec, type ApiVersionsResponse, type FetchResponse, type MetadataResponse } from '../../src/protocol/generated/messages/index.js';
import { ResponseHeaderCodec } from '../../src/protocol/generated/messages/index.js';
import { ProtocolReader } from '../../src/protocol/reader.js';
import { HANDLERS } from '../../src/server/handlers/index.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';

let fixture: BrokerFixture;

beforeAll(async () => {
  fixture = await startBrokers({ brokerCount: 2, settings: { 'socket.request.max.bytes': '1048576' } });
});

afterAll(async () => {
  await fixture.stop();
  removeScratchDirectories();
});

// Produce is advertised from v0 though served from v3 (handler-registry.ts: librdkafka compresses only then).
const expectedApis = HANDLERS.map((handler) => ({ apiKey: handler.apiKey, minVersion: handler.apiKey === 0 ? 0 : handler.minVersion, maxVersion: handler.maxVersion })).sort((a, b) => a.apiKey - b.apiKey);

async function expectStillServing(port: number): Promise<void> {
  const client = await RawKafkaClient.connect(port);
  const response = await client.request<ApiVersionsResponse>(18, 0, {});
  expect(response.errorCode).toBe(0);
  client.close();
}

describe('ApiVersions', () => {
  it('answers v0 (kafka-python) with the ranges of the registered handlers', async () => {
    const client = await RawKafkaClient.connect(fixture.port(0));
    const response = await client.request<ApiVersionsResponse>(18, 0, {});
    expect(response.errorCode).toBe(ErrorCode.NONE);
    expect(response.apiKeys).toEqual(expectedApis);
    client.close();
  });

  it('answers v3 (librdkafka, flexible request header v2, response header v0)', async () => {
    const client = await RawKafkaClient.connect(fixture.port(1));
    const response = await client.request<ApiVersionsResponse>(18, 3, { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' });
    expect(response.errorCode).toBe(ErrorCode.NONE);
    expect(response.apiKeys).toEqual(expectedApis);
    expect(response.throttleTimeMs).toBe(0);
    client.close();
  });

  it('answers a version it does not serve in v0 with UNSUPPORTED_VERSION and its ranges', async () => {
    const client = await RawKafkaClient.connect(fixture.port(0));
    // v99 body is unknown, so only the header is sent (flexible: header v2).
    client.writeRaw(RawKafkaClient.frame(18, 99, 4242, new Uint8Array([0])));
    const frame = await client.nextRawFrame();
    const reader = new ProtocolReader(frame);
    expect(ResponseHeaderCodec.decode(reader, 0).correlationId).toBe(4242);
    const response = ApiVersionsResponseCodec.decode(reader, 0);
    expect(response.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(response.apiKeys).toEqual(expectedApis);
    // The connection stays usable: the client retries with a version both sides know.
    expect((await client.request<ApiVersionsResponse>(18, 3, {})).errorCode).toBe(0);
    client.close();
  });
});

describe('bad input closes only its own connection', () => {
  it('closes on an unsupported version of another API', async () => {
    const bystander = await RawKafkaClient.connect(fixture.port(0));
    const client = await RawKafkaClient.connect(fixture.port(0));
    client.writeRaw(RawKafkaClient.frame(3, 99, 7, new Uint8Array(8)));
    await client.closed;
    expect(bystander.isOpen).toBe(true);
    expect((await bystander.request<ApiVersionsResponse>(18, 0, {})).errorCode).toBe(0);
    bystander.close();
  });

  it('closes on an unknown API key', async () => {
    const client = await RawKafkaClient.connect(fixture.port(0));
    client.writeRaw(RawKafkaClient.frame(999, 0, 7, new Uint8Array(8)));
    await client.closed;
    await expectStillServing(fixture.port(0));
  });

  it('closes on garbage (an HTTP request) without crashing the broker', async () => {
    const bystander = await RawKafkaClient.connect(fixture.port(1));
    const client = await RawKafkaClient.connect(fixture.port(1));
    client.writeRaw(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    await client.closed;
    expect((await bystander.request<ApiVersionsResponse>(18, 1, {})).errorCode).toBe(0);
    bystander.close();
  });

  it('closes on a frame over socket.request.max.bytes before reading it', async () => {
    const client = await RawKafkaClient.connect(fixture.port(0));
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(1048577);
    client.writeRaw(prefix);
    await client.closed;
    await expectStillServing(fixture.port(0));
  });

  it('closes on a negative or too small frame size', async () => {
    for (const size of [-1, 0, 3]) {
      const client = await RawKafkaClient.connect(fixture.port(0));
      const prefix = Buffer.alloc(4 + Math.max(0, size));
      prefix.writeInt32BE(size);
      client.writeRaw(prefix);
      await client.closed;
    }
    await expectStillServing(fixture.port(0));
  });

  it('closes on a request body that does not decode (an array count past the end)', async () => {
    const client = await RawKafkaClient.connect(fixture.port(0));
    // Metadata v1: topics array claiming 2^31-1 entries in a few bytes.
    client.writeRaw(RawKafkaClient.frame(3, 1, 9, new Uint8Array([0x7f, 0xff, 0xff, 0xff])));
    await client.closed;
    await expectStillServing(fixture.port(0));
  });

  it('accepts a frame sent one byte at a time', async () => {
    const client = await RawKafkaClient.connect(fixture.port(0));
    const frame = RawKafkaClient.frame(18, 0, 77);
    for (const byte of frame) {
      client.writeRaw(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const reader = new ProtocolReader(await client.nextRawFrame());
    expect(ResponseHeaderCodec.decode(reader, 0).correlationId).toBe(77);
    client.close();
  });
});

describe('pipelining', () => {
  it('answers in request order while a long-poll fetch before them is still waiting', async () => {
    const client = await RawKafkaClient.connect(fixture.port(0));
    const metadata = await client.request<MetadataResponse>(3, 12, { topics: [{ name: 'pipelined', topicId: undefined }], allowAutoTopicCreation: true });
    expect(metadata.topics[0]!.errorCode).toBe(0);
    const leader = metadata.topics[0]!.partitions[0]!.leaderId;
    const leaderClient = leader === 0 ? client : await RawKafkaClient.connect(fixture.port(leader));
    const order: string[] = [];
    const started = Date.now();
    const fetch = leaderClient.request<FetchResponse>(1, 11, {
      replicaId: -1, maxWaitMs: 300, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'pipelined', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    }).then((response) => { order.push('fetch'); return response; });
    const versions = leaderClient.request<ApiVersionsResponse>(18, 3, {}).then(() => order.push('apiVersions'));
    await Promise.all([fetch, versions]);
    expect(order).toEqual(['fetch', 'apiVersions']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    client.close();
    if (leaderClient !== client) leaderClient.close();
  });
});
