import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as messages from '../../src/protocol/generated/messages/index.js';
import {
  ApiVersionsRequestCodec,
  ApiVersionsResponseCodec,
  FetchResponseCodec,
  MetadataRequestCodec,
  MetadataResponseCodec,
  RequestHeaderCodec,
  type FetchResponse,
  type MetadataResponse,
} from '../../src/protocol/generated/messages/index.js';
import { readRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/headers.js';
import type { MessageCodec } from '../../src/protocol/message-codec.js';
import { ProtocolDecodeError, ProtocolReader } from '../../src/protocol/reader.js';
import { ProtocolEncodeError, ProtocolWriter } from '../../src/protocol/writer.js';
import { loadSpec, messageArbitrary, validVersions } from './spec-values.js';

const codecByName = new Map<string, MessageCodec<unknown>>(
  Object.entries(messages)
    .filter(([name]) => name.endsWith('Codec'))
    .map(([name, codec]) => [name.slice(0, -'Codec'.length), codec as MessageCodec<unknown>]),
);

function codec(name: string): MessageCodec<unknown> {
  const found = codecByName.get(name);
  if (!found) throw new Error(`no codec ${name}`);
  return found;
}

function encode<T>(messageCodec: MessageCodec<T>, value: T, version: number): Uint8Array {
  const writer = new ProtocolWriter(16);
  messageCodec.encode(writer, value, version);
  return writer.toUint8Array();
}

function decode<T>(messageCodec: MessageCodec<T>, bytes: Uint8Array, version: number): T {
  const reader = new ProtocolReader(bytes);
  const value = messageCodec.decode(reader, version);
  reader.expectEnd();
  return value;
}

/** Bytes from hex, ignoring whitespace and // comments. */
const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

const specFiles = readdirSync(fileURLToPath(new URL('../../protocol-specs/message/', import.meta.url)))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.slice(0, -'.json'.length));

describe('generated codecs', () => {
  it('exist for every spec, with its version facts', () => {
    for (const name of specFiles) {
      const spec = loadSpec(name);
      const versions = validVersions(spec);
      const messageCodec = codec(name);
      expect(messageCodec.validVersions).toEqual({ lowest: versions[0], highest: versions.at(-1) });
      const flexible = spec.flexibleVersions === 'none' ? null : Number(spec.flexibleVersions.replace('+', ''));
      expect(messageCodec.firstFlexibleVersion).toBe(flexible);
    }
    expect(MetadataRequestCodec.apiKey).toBe(3);
    expect(messages.ListOffsetsRequestCodec.latestVersionUnstable).toBe(false);
    expect(messages.codecsForApiKey(1)?.response).toBe(FetchResponseCodec);
    expect(messages.API_CODECS.map((api) => api.apiKey)).toEqual([0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 32, 33, 36, 37, 42, 44, 47, 60]);
  });

  it('refuse versions outside the spec', () => {
    expect(() => encode(MetadataRequestCodec, { topics: [] }, 13)).toThrow(ProtocolEncodeError);
    expect(() => decode(MetadataRequestCodec, new Uint8Array(8), -1)).toThrow(ProtocolDecodeError);
  });
});

// Every message, every version: random complete values survive encode then decode, and the
// bytes are stable (decoding then re-encoding gives the same bytes).
const RUNS_FOR_CORE_APIS = 60;
const CORE_APIS = ['Metadata', 'Produce', 'Fetch', 'ApiVersions', 'JoinGroup', 'OffsetFetch', 'CreateTopics'];

describe.each(specFiles)('%s round trips', (name) => {
  const spec = loadSpec(name);
  const messageCodec = codec(name);
  const runs = CORE_APIS.some((api) => name === `${api}Request` || name === `${api}Response`) ? RUNS_FOR_CORE_APIS : 15;
  it.each(validVersions(spec))('version %i', (version) => {
    fc.assert(
      fc.property(messageArbitrary(spec, version), (value) => {
        const bytes = encode(messageCodec, value, version);
        const decoded = decode(messageCodec, bytes, version);
        expect(decoded).toStrictEqual(value);
        expect(toHex(encode(messageCodec, decoded, version))).toBe(toHex(bytes));
      }),
      { numRuns: runs },
    );
  });
});

/** Records, for every array element read, the smallest size the codec declared and the real size. */
class MeasuringReader extends ProtocolReader {
  readonly violations: string[] = [];

  private measured<T>(minimumElementBytes: number, readElement: () => T): () => T {
    return () => {
      const start = this.offset;
      const element = readElement();
      if (this.offset - start < minimumElementBytes) this.violations.push(`element of ${this.offset - start} bytes, declared minimum ${minimumElementBytes}`);
      return element;
    };
  }

  override readArray<T>(compact: boolean, minimumElementBytes: number, readElement: () => T): T[] {
    return super.readArray(compact, minimumElementBytes, this.measured(minimumElementBytes, readElement));
  }

  override readNullableArray<T>(compact: boolean, minimumElementBytes: number, readElement: () => T): T[] | null {
    return super.readNullableArray(compact, minimumElementBytes, this.measured(minimumElementBytes, readElement));
  }
}

describe('array bounds', () => {
  // The count check multiplies by the smallest encoding of an element: if the generator ever
  // overstated it, valid requests would be refused. Small random values hit the minimum often.
  it.each(specFiles)('%s: no element is smaller than its declared minimum', (name) => {
    const spec = loadSpec(name);
    for (const version of validVersions(spec)) {
      for (const value of fc.sample(messageArbitrary(spec, version), { numRuns: 40, seed: version })) {
        const reader = new MeasuringReader(encode(codec(name), value, version));
        codec(name).decode(reader, version);
        expect(reader.violations, `${name} v${version}`).toEqual([]);
      }
    }
  });
});

describe('tagged fields', () => {
  it('ApiVersions response v3 carries non-default tagged fields, in tag order, with sizes', () => {
    const value = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: 5n,
      finalizedFeatures: [],
      zkMigrationReady: true,
    };
    const expected = hex(`
      0000                      // error code
      02 0012 0000 0004 00      // api keys: compact count 1+1, one entry, its empty tagged section
      00000000                  // throttle time
      02                        // two tagged fields (supportedFeatures and finalizedFeatures are empty: default)
      01 08 0000000000000005    // tag 1 finalizedFeaturesEpoch, 8 bytes
      03 01 01                  // tag 3 zkMigrationReady, 1 byte
    `);
    expect(toHex(encode(ApiVersionsResponseCodec, value, 3))).toBe(toHex(expected));
    expect(decode(ApiVersionsResponseCodec, expected, 3)).toEqual(value);
    // v2 has no tagged fields: the same value cannot be written (they are ignorable: dropped).
    expect(decode(ApiVersionsResponseCodec, encode(ApiVersionsResponseCodec, value, 2), 2)).toEqual({
      ...value, finalizedFeaturesEpoch: -1n, zkMigrationReady: false,
    });
  });

  it('decode to their defaults when absent, and unknown tags are skipped', () => {
    const bytes = hex(`
      0000 01 00000000   // error code, no api keys, throttle time
      02                 // two tagged fields
      01 08 0000000000000009
      63 03 aabbcc       // tag 99: unknown, skipped
    `);
    expect(decode(ApiVersionsResponseCodec, bytes, 3)).toEqual({
      errorCode: 0, apiKeys: [], throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: 9n, finalizedFeatures: [], zkMigrationReady: false,
    });
  });

  it('Fetch response v12 writes divergingEpoch and currentLeader as tagged structs; v11 refuses them', () => {
    const partition = {
      partitionIndex: 0, errorCode: 0, highWatermark: 10n, lastStableOffset: 10n, logStartOffset: 0n,
      divergingEpoch: { epoch: 3, endOffset: 7n }, currentLeader: { leaderId: 1, leaderEpoch: 4 },
      abortedTransactions: null, preferredReadReplica: -1, records: null,
    };
    const response: FetchResponse = { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: 'orders', partitions: [partition] }] };
    const decoded = decode(FetchResponseCodec, encode(FetchResponseCodec, response, 12), 12);
    const decodedPartition = decoded.responses[0]!.partitions[0]!;
    expect(decodedPartition.divergingEpoch).toEqual({ epoch: 3, endOffset: 7n });
    expect(decodedPartition.currentLeader).toEqual({ leaderId: 1, leaderEpoch: 4 });
    expect(decodedPartition.snapshotId).toEqual({ endOffset: -1n, epoch: -1 });
    expect(decodedPartition.abortedTransactions).toBeNull();
    // divergingEpoch is not ignorable: Kafka refuses to drop it silently, and so do we.
    expect(() => encode(FetchResponseCodec, response, 11)).toThrow(/divergingEpoch/);
    const plain = { ...partition, divergingEpoch: undefined, currentLeader: { leaderId: -1, leaderEpoch: -1 } };
    const v11 = decode(FetchResponseCodec, encode(FetchResponseCodec, { ...response, responses: [{ topic: 'orders', partitions: [plain] }] }, 11), 11);
    expect(v11.responses[0]!.partitions[0]!.divergingEpoch).toEqual({ epoch: -1, endOffset: -1n });
  });

  it('a known tag in a version where the field is not tagged is an error, as in Kafka', () => {
    // FetchResponse v12 top level: tag 0 (nodeEndpoints) only exists from v16.
    const bytes = hex('00000000 0000 00000000 01 01 00 01 01');
    expect(() => decode(FetchResponseCodec, bytes, 12)).toThrow(ProtocolDecodeError);
    expect(decode(FetchResponseCodec, bytes, 16).nodeEndpoints).toEqual([]);
  });
});

describe('nullable fields', () => {
  it('Metadata request: null topics means "all topics" from v1, and cannot be written at v0', () => {
    expect(toHex(encode(MetadataRequestCodec, { topics: null }, 1))).toBe('ffffffff');
    expect(toHex(encode(MetadataRequestCodec, { topics: null }, 9))).toBe('00' + '01' + '00' + '00' + '00');
    expect(decode(MetadataRequestCodec, hex('ffffffff'), 1).topics).toBeNull();
    expect(() => encode(MetadataRequestCodec, { topics: null }, 0)).toThrow(ProtocolEncodeError);
    expect(() => decode(MetadataRequestCodec, hex('ffffffff'), 0)).toThrow(ProtocolDecodeError);
  });

  it('Metadata response v12: a null topic name (topic queried by id)', () => {
    const response: MetadataResponse = {
      throttleTimeMs: 0, brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }], clusterId: null, controllerId: 1,
      topics: [{ errorCode: 3, name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648 }],
    };
    const decoded = decode(MetadataResponseCodec, encode(MetadataResponseCodec, response, 12), 12);
    expect(decoded.topics[0]!.name).toBeNull();
    expect(decoded.topics[0]!.topicId).toBe('AAAAAAAAAAAAAAAAAAAAAQ');
    expect(() => encode(MetadataResponseCodec, response, 11)).toThrow(/name is null/);
  });

  it('optional fields left out encode as their defaults', () => {
    const bytes = encode(MetadataRequestCodec, { topics: [{ name: 'orders' }] }, 10);
    expect(decode(MetadataRequestCodec, bytes, 10)).toEqual({
      topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'orders' }],
      allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    });
  });
});

describe('headers', () => {
  it('pick versions from the API: v2/v1 for flexible requests/responses, v0 always for ApiVersions responses', () => {
    expect(requestHeaderVersion(18, 3)).toBe(2);
    expect(requestHeaderVersion(18, 2)).toBe(1);
    expect(requestHeaderVersion(18, 9)).toBe(2); // above the highest known: still flexible
    expect(requestHeaderVersion(9999, 0)).toBe(1);
    expect(responseHeaderVersion(18, 3)).toBe(0);
    expect(responseHeaderVersion(3, 9)).toBe(1);
    expect(responseHeaderVersion(3, 8)).toBe(0);
    expect(responseHeaderVersion(60, 0)).toBe(1); // DescribeCluster is flexible from v0
  });

  it('read what librdkafka sends first: ApiVersions v3 with header v2, client id never compact', () => {
    const frame = hex(`
      0012 0003 00000001        // api key 18, version 3, correlation id 1
      0007 7264 6b61 666b 61    // client id "rdkafka", int16 length even in header v2
      00                        // header tagged fields
      0b 6c69 6272 646b 6166 6b61   // client software name "librdkafka", compact: length + 1
      06 322e 302e 32           // client software version "2.0.2"
      00                        // body tagged fields
    `);
    const reader = new ProtocolReader(frame);
    const header = readRequestHeader(reader);
    expect(header).toEqual({ requestApiKey: 18, requestApiVersion: 3, correlationId: 1, clientId: 'rdkafka' });
    expect(decode(ApiVersionsRequestCodec, frame.subarray(reader.offset), 3)).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
    const writer = new ProtocolWriter();
    RequestHeaderCodec.encode(writer, header, 2);
    ApiVersionsRequestCodec.encode(writer, { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' }, 3);
    expect(toHex(writer.bytes())).toBe(toHex(frame));
  });
});

describe('malformed input', () => {
  const samples = [
    ['MetadataRequest', [0, 4, 9, 12]],
    ['MetadataResponse', [0, 5, 9, 12]],
    ['ProduceRequest', [3, 7, 9, 11]],
    ['ProduceResponse', [3, 8, 10]],
    ['FetchRequest', [4, 11, 12, 15, 17]],
    ['FetchResponse', [4, 11, 12, 16]],
    ['JoinGroupRequest', [5, 6, 9]],
    ['CreateTopicsResponse', [3, 5, 7]],
    ['ApiVersionsResponse', [0, 3]],
  ] as const;

  function sampleBytes(name: string, version: number, seed: number): Uint8Array {
    const [value] = fc.sample(messageArbitrary(loadSpec(name), version), { numRuns: 1, seed });
    return encode(codec(name), value, version);
  }

  it.each(samples)('%s: every truncation throws ProtocolDecodeError', (name, versions) => {
    for (const version of versions) {
      for (let seed = 1; seed <= 3; seed++) {
        const bytes = sampleBytes(name, version, seed);
        for (let length = 0; length < bytes.byteLength; length++) {
          expect(() => decode(codec(name), bytes.subarray(0, length), version), `${name} v${version} cut at ${length}`).toThrow(ProtocolDecodeError);
        }
      }
    }
  });

  it.each(samples)('%s: corrupted bytes decode or throw ProtocolDecodeError, nothing else', (name, versions) => {
    for (const version of versions) {
      const bytes = sampleBytes(name, version, 7);
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
          const corrupted = Uint8Array.from(bytes);
          for (const [position, byte] of edits) if (corrupted.byteLength > 0) corrupted[position % corrupted.byteLength] = byte;
          try {
            codec(name).decode(new ProtocolReader(corrupted), version);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolDecodeError);
          }
        }),
        { numRuns: 150 },
      );
    }
  });

  it('random bytes decode or throw ProtocolDecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...specFiles), fc.nat(), (bytes, name, versionSeed) => {
        const { lowest, highest } = codec(name).validVersions;
        const version = lowest + (versionSeed % (highest - lowest + 1));
        try {
          codec(name).decode(new ProtocolReader(bytes), version);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  // Each of these claims far more than the frame holds; the count is refused where it is read,
  // before any element (or array slot) exists.
  const refusals: [string, string, number, Uint8Array, RegExp][] = [
    ['array count 2^31-1', 'MetadataResponse', 0, hex('7fffffff'), /array of 2147483647 elements cannot fit in 0 bytes/],
    ['partition count 1,000 with 40 bytes left', 'MetadataResponse', 0, hex('00000000 00000001 0000 0001 61 000003e8' + '00'.repeat(40)), /array of 1000 elements cannot fit in 40 bytes/],
    ['compact array count 2^32-2', 'MetadataResponse', 9, hex('00000000 ffffffff0f'), /array of 4294967294 elements/],
    ['string length past the end', 'MetadataRequest', 0, hex('00000001 7530 6162'), /needs 30000 bytes but 2 remain/],
    ['string length -2', 'MetadataRequest', 0, hex('00000001 fffe'), /negative string length -2/],
    ['null in a non-nullable string', 'MetadataRequest', 0, hex('00000001 ffff'), /null in a non-nullable string/],
    ['array count -2', 'MetadataRequest', 1, hex('fffffffe'), /negative array length -2/],
    ['bytes length -5', 'SaslAuthenticateRequest', 0, hex('fffffffb'), /negative bytes length -5/],
    ['bytes length past the end', 'SaslAuthenticateRequest', 0, hex('7fffffff 00'), /needs 2147483647 bytes but 1 remain/],
    ['compact string longer than Kafka allows', 'ApiVersionsRequest', 3, hex('818002' + '00'.repeat(8)), /longer than 32767/],
    ['tagged-field count 2^31', 'ApiVersionsRequest', 3, hex('01 01 8080808008'), /2147483648 tagged fields cannot fit/],
    ['tagged field size past the end', 'ApiVersionsRequest', 3, hex('01 01 01 05 7f 00'), /tagged field 5 of 127 bytes cannot fit/],
    ['known tagged field overrunning its size', 'ApiVersionsResponse', 3, hex('0000 01 00000000 01 01 02 0000000000000009'), /ran 6 bytes past its declared size 2/],
    ['varint longer than 5 bytes', 'ApiVersionsRequest', 3, hex('ffffffffff01'), /varint/],
  ];

  it.each(refusals)('%s', (_what, name, version, bytes, message) => {
    let thrown: unknown;
    try {
      codec(name).decode(new ProtocolReader(bytes), version);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProtocolDecodeError);
    expect((thrown as Error).message).toMatch(message);
  });
});
