/**
 * Mutated requests against a running cluster (fast-check): valid requests of the APIs clients
 * send, with bytes flipped, fields overwritten with edge values, cut short, extended or spliced,
 * each on its own connection and followed by a valid ApiVersions request. The size prefix is
 * kept consistent, so the broker always gets a whole frame to judge.
 *
 * Per request: the broker answers (one response with the request's correlation id, then the
 * ApiVersions answer; only a Produce with acks=0 gets none) or closes that connection, within
 * CASE_WAIT_MS (only a Fetch may wait longer: its wait time may have been raised).
 * Across all of them: connections opened before keep being served; a producer running alongside
 * on them gets every batch acknowledged; the records written before, the producer's, and every
 * batch a mutated Produce had acknowledged read back at their offsets, byte for byte from the
 * magic byte on, before and after a restart. Destructive APIs (DeleteTopics, DeleteRecords, AlterConfigs...) are
 * left out: a mutation could only make them less so, and they would delete what is checked.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { codecsForApiKey, RequestHeaderCodec, ResponseHeaderCodec, type ApiVersionsResponse, type ProduceRequest, type ProduceResponse } from '../../src/protocol/generated/messages/index.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/headers.js';
import { ProtocolReader } from '../../src/protocol/reader.js';
import { batchSizeAt, lastOffsetOf, MAGIC_AT, readBatchHeader } from '../../src/log/record-batch.js';
import { buildBatch } from '../log/batch-builder.js';
import { describeCluster } from './admin-requests.js';
import { removeScratchDirectories, startBrokers, type BrokerFixture } from './broker-fixture.js';
import { RawKafkaClient } from './raw-kafka-client.js';
import { createTopics, fetch, metadata, produce } from './requests.js';

const REFERENCE = 'fuzz-reference';
const SCRATCH = 'fuzz-scratch';
const LIVE = 'fuzz-live';
const PARTITIONS = 2;
const PROBE_CORRELATION_ID = 0x7eadbeef;
/** How long one mutated request may take before its connection is dropped (a long poll, say). */
const CASE_WAIT_MS = 1_500;
const RUNS = 400;

let fixture: BrokerFixture;

beforeAll(async () => {
  fixture = await startBrokers({ brokerCount: 2 });
});

afterAll(async () => {
  await fixture.stop();
  removeScratchDirectories();
});

/** Batches of 3 records whose bytes say which partition and batch they are. */
function batchFor(tag: string, partition: number, index: number): Uint8Array {
  const records = [0, 1, 2].map((i) => ({
    key: i === 1 ? null : Buffer.from(`${tag}-${partition}-${index}-key-${i}`),
    value: i === 2 ? null : Buffer.from(`${tag}-${partition}-${index}-value-${i}`.repeat(1 + (index % 5))),
  }));
  return buildBatch(records, { baseTimestamp: 1_700_000_000_000 + index });
}

/** A request as a client sends it: its API, version and body. */
interface Seed {
  name: string;
  apiKey: number;
  apiVersion: number;
  body: unknown;
}

function seeds(): Seed[] {
  const produceBody = (acks: number, partition: number) => ({
    transactionalId: null, acks, timeoutMs: 5000,
    topicData: [{ name: SCRATCH, partitionData: [{ index: partition, records: batchFor('scratch', partition, 7) }] }],
  });
  const fetchPartitions = [0, 1].map((partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }));
  const fetchBody = {
    replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 50 << 20, isolationLevel: 1, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: REFERENCE, partitions: fetchPartitions }], forgottenTopicsData: [], rackId: '',
  };
  return [
    { name: 'ApiVersions v3', apiKey: 18, apiVersion: 3, body: { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1.0' } },
    { name: 'Metadata v12', apiKey: 3, apiVersion: 12, body: { topics: [{ name: REFERENCE }, { name: SCRATCH }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false } },
    { name: 'Metadata v1', apiKey: 3, apiVersion: 1, body: { topics: [{ name: REFERENCE }] } },
    { name: 'Produce v9 acks=-1', apiKey: 0, apiVersion: 9, body: produceBody(-1, 0) },
    { name: 'Produce v7 acks=1', apiKey: 0, apiVersion: 7, body: produceBody(1, 1) },
    { name: 'Produce v3 acks=1', apiKey: 0, apiVersion: 3, body: produceBody(1, 0) },
    { name: 'Fetch v12', apiKey: 1, apiVersion: 12, body: fetchBody },
    { name: 'Fetch v4', apiKey: 1, apiVersion: 4, body: fetchBody },
    { name: 'ListOffsets v7', apiKey: 2, apiVersion: 7, body: { replicaId: -1, isolationLevel: 0, topics: [{ name: REFERENCE, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }, { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: 1_700_000_000_002n }] }] } },
    { name: 'CreateTopics v7 validate-only', apiKey: 19, apiVersion: 7, body: { topics: [{ name: 'fuzz-created', numPartitions: 3, replicationFactor: -1, assignments: [], configs: [{ name: 'retention.ms', value: '60000' }] }], timeoutMs: 5000, validateOnly: true } },
    { name: 'CreatePartitions v3 validate-only', apiKey: 37, apiVersion: 3, body: { topics: [{ name: SCRATCH, count: 4, assignments: null }], timeoutMs: 5000, validateOnly: true } },
    { name: 'DescribeConfigs v4', apiKey: 32, apiVersion: 4, body: { resources: [{ resourceType: 2, resourceName: REFERENCE, configurationKeys: null }], includeSynonyms: true, includeDocumentation: false } },
    { name: 'DescribeCluster v1', apiKey: 60, apiVersion: 1, body: { includeClusterAuthorizedOperations: false, endpointType: 1 } },
    { name: 'FindCoordinator v3', apiKey: 10, apiVersion: 3, body: { key: 'fuzz-group', keyType: 0 } },
    { name: 'OffsetCommit v8', apiKey: 8, apiVersion: 8, body: { groupId: 'fuzz-group', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: REFERENCE, partitions: [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: 'fuzz' }] }] } },
  ];
}

type Mutation =
  | { kind: 'flip'; at: number[]; masks: number[] } // positions as fractions of the body's length
  | { kind: 'int32'; at: number; value: number }
  | { kind: 'int16'; at: number; value: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'splice'; at: number; bytes: Uint8Array };

const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant<'flip'>('flip'), at: fc.array(fraction, { minLength: 1, maxLength: 8 }), masks: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 8, maxLength: 8 }) }),
  fc.record({ kind: fc.constant<'int32'>('int32'), at: fraction, value: fc.constantFrom(0, -1, 1, 0x7fffffff, -0x80000000, 0x10000, 1 << 24) }),
  fc.record({ kind: fc.constant<'int16'>('int16'), at: fraction, value: fc.constantFrom(0, -1, 1, 0x7fff, -0x8000) }),
  fc.record({ kind: fc.constant<'truncate'>('truncate'), keep: fraction }),
  fc.record({ kind: fc.constant<'extend'>('extend'), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant<'splice'>('splice'), at: fraction, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

/** The frame (size prefix first) with the mutation applied after the prefix, the prefix then fixed up. */
function mutate(frame: Buffer, mutation: Mutation): Buffer {
  const body = Buffer.from(frame.subarray(4));
  const position = (x: number, width: number) => Math.min(Math.floor(x * body.length), Math.max(0, body.length - width));
  let out = body;
  switch (mutation.kind) {
    case 'flip':
      mutation.at.forEach((x, i) => {
        const at = position(x, 1);
        out[at] = out[at]! ^ mutation.masks[i % mutation.masks.length]!;
      });
      break;
    case 'int32':
      if (body.length >= 4) out.writeInt32BE(mutation.value, position(mutation.at, 4));
      break;
    case 'int16':
      if (body.length >= 2) out.writeInt16BE(mutation.value, position(mutation.at, 2));
      break;
    case 'truncate':
      out = body.subarray(0, Math.floor(mutation.keep * body.length));
      break;
    case 'extend':
      out = Buffer.concat([body, mutation.bytes]);
      break;
    case 'splice': {
      const at = position(mutation.at, 0);
      out = Buffer.concat([body.subarray(0, at), mutation.bytes, body.subarray(Math.min(body.length, at + mutation.bytes.length))]);
      break;
    }
  }
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(out.length);
  return Buffer.concat([prefix, out]);
}

interface Outcome {
  closed: boolean;
  answered: boolean;
  frames: Buffer[];
}

/** Sends the mutated frame and an ApiVersions probe on a new connection; waits for the probe's answer, a close, or CASE_WAIT_MS. */
async function send(port: number, frame: Buffer): Promise<Outcome> {
  const client = await RawKafkaClient.connect(port);
  client.writeRaw(frame);
  client.writeRaw(RawKafkaClient.frame(18, 0, PROBE_CORRELATION_ID));
  const frames: Buffer[] = [];
  const deadline = Date.now() + CASE_WAIT_MS;
  let answered = false;
  while (!answered && client.isOpen && Date.now() < deadline) {
    try {
      const next = await client.nextRawFrame(Math.max(1, deadline - Date.now()));
      frames.push(next);
      answered = next.length >= 4 && next.readInt32BE(0) === PROBE_CORRELATION_ID;
    } catch {
      break;
    }
  }
  const closed = !client.isOpen;
  client.close();
  return { closed, answered, frames };
}

interface Ack {
  topic: string;
  partition: number;
  baseOffset: bigint;
  /** The batch as the mutated request carried it. */
  batch: Buffer;
}

/** The mutated frame decoded as the broker would (header, then body), or undefined where it does not decode. */
function decodeRequest(frame: Buffer): { apiKey: number; apiVersion: number; body: unknown } | undefined {
  try {
    const apiKey = frame.readInt16BE(4);
    const apiVersion = frame.readInt16BE(6);
    const reader = new ProtocolReader(frame.subarray(4));
    RequestHeaderCodec.decode(reader, requestHeaderVersion(apiKey, apiVersion));
    return { apiKey, apiVersion, body: codecsForApiKey(apiKey)!.request.decode(reader, apiVersion) };
  } catch {
    return undefined;
  }
}

/** Acknowledged partitions of the Produce answer to a mutated Produce request, with the batch each acknowledged. */
function producedAcks(frame: Buffer, answer: Buffer): Ack[] {
  const request = decodeRequest(frame);
  if (request?.apiKey !== 0) return [];
  const reader = new ProtocolReader(answer);
  ResponseHeaderCodec.decode(reader, responseHeaderVersion(0, request.apiVersion));
  const response = codecsForApiKey(0)!.response.decode(reader, request.apiVersion) as ProduceResponse;
  const sent = request.body as ProduceRequest;
  return response.responses.flatMap((topic) => topic.partitionResponses
    .filter((partition) => partition.errorCode === 0)
    .map((partition) => {
      const records = sent.topicData.find((entry) => entry.name === topic.name)!.partitionData.find((entry) => entry.index === partition.index)!.records!;
      const bytes = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
      return { topic: topic.name, partition: partition.index, baseOffset: partition.baseOffset, batch: bytes.subarray(0, batchSizeAt(bytes, 0)) };
    }));
}

/** The record batches in a fetched record set: base offset, the offset after the last record, and the bytes from the magic byte on. */
function batchesOf(records: Uint8Array | null): [baseOffset: bigint, bytes: Buffer, nextOffset: number][] {
  const out: [bigint, Buffer, number][] = [];
  if (!records) return out;
  const bytes = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
  for (let header = readBatchHeader(bytes, 0); header; header = readBatchHeader(bytes, header.position + header.sizeBytes)) {
    out.push([BigInt(header.baseOffset), bytes.subarray(header.position + MAGIC_AT, header.position + header.sizeBytes), lastOffsetOf(header) + 1]);
  }
  return out;
}

async function readAll(client: RawKafkaClient, topic: string, partition: number): Promise<[bigint, Buffer][]> {
  const out: [bigint, Buffer][] = [];
  for (let offset = 0; ;) {
    const response = await fetch(client, [{ topic, partition, offset }], { maxBytes: 8 << 20 });
    const data = response.responses[0]!.partitions[0]!;
    expect(data.errorCode).toBe(0);
    const batches = batchesOf(data.records);
    if (batches.length === 0) return out;
    for (const [baseOffset, bytes] of batches) out.push([baseOffset, bytes]);
    offset = batches[batches.length - 1]![2];
  }
}

/** What a partition must hold: batches by base offset, compared from the magic byte on. */
type Expected = Map<string, Map<bigint, Buffer>>;

function expectHolds(stored: [bigint, Buffer][], expected: Map<bigint, Buffer> | undefined): void {
  const byOffset = new Map(stored.map(([offset, bytes]) => [offset, bytes]));
  for (const [offset, bytes] of expected ?? []) {
    expect(byOffset.get(offset), `batch at ${offset}`).toEqual(Buffer.from(bytes.subarray(MAGIC_AT)));
  }
}

async function leaderClient(topic: string, partition: number, clients: Map<number, RawKafkaClient>): Promise<RawKafkaClient> {
  const bootstrap = clients.get(0)!;
  const response = await metadata(bootstrap, [topic], false);
  const leader = response.topics[0]!.partitions.find((entry) => entry.partitionIndex === partition)!.leaderId;
  return clients.get(leader)!;
}

describe('mutated requests', () => {
  it('answer or close only their own connection; others are served and every acknowledged record reads back, also after a restart', async () => {
    const bootstrap = await RawKafkaClient.connect(fixture.port(0));
    for (const name of [REFERENCE, SCRATCH, LIVE]) {
      expect((await createTopics(bootstrap, [{ name, numPartitions: PARTITIONS }])).topics[0]!.errorCode).toBe(0);
    }
    const clients = new Map<number, RawKafkaClient>();
    for (const nodeId of [0, 1]) clients.set(nodeId, await RawKafkaClient.connect(fixture.port(nodeId)));

    // Records written before any bad input.
    const expected: Expected = new Map();
    const expectedFor = (topic: string, partition: number) => {
      const key = `${topic}/${partition}`;
      if (!expected.has(key)) expected.set(key, new Map());
      return expected.get(key)!;
    };
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const leader = await leaderClient(REFERENCE, partition, clients);
      for (let index = 0; index < 5; index++) {
        const batch = batchFor('reference', partition, index);
        const answer = (await produce(leader, REFERENCE, partition, batch, -1)).responses[0]!.partitionResponses[0]!;
        expect(answer.errorCode).toBe(0);
        expectedFor(REFERENCE, partition).set(answer.baseOffset, Buffer.from(batch));
      }
    }

    // A producer alongside, on the connections opened before (not the mutated requests' ones), for as long as the bad input lasts.
    let fuzzing = true;
    const liveLeaders = await Promise.all([0, 1].map((partition) => leaderClient(LIVE, partition, clients)));
    const liveProducer = (async () => {
      let produced = 0;
      for (let index = 0; fuzzing; index++) {
        const partition = index % PARTITIONS;
        const batch = batchFor('live', partition, index);
        const answer = (await produce(liveLeaders[partition]!, LIVE, partition, batch, -1)).responses[0]!.partitionResponses[0]!;
        expect(answer.errorCode).toBe(0);
        expectedFor(LIVE, partition).set(answer.baseOffset, Buffer.from(batch));
        produced++;
      }
      return produced;
    })().catch((error: Error) => error); // reported below, after the property's own failure if any

    const corpus = seeds().map((seed) => ({ seed, frame: KafkaConnection.encodeRequest(seed.apiKey, seed.apiVersion, seed.body, 'fuzz') }));
    const tally = { answered: 0, closed: 0, waiting: 0 };
    const acks: Ack[] = [];
    try {
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: corpus.length - 1 }), mutationArbitrary, fc.nat({ max: 1 }), fc.integer().filter((id) => id !== PROBE_CORRELATION_ID), async (which, mutation, nodeId, correlationId) => {
          const original = Buffer.from(corpus[which]!.frame);
          original.writeInt32BE(correlationId | 0, 8);
          const frame = mutate(original, mutation);
          const outcome = await send(fixture.port(nodeId), frame);
          const request = decodeRequest(frame);
          if (outcome.answered) {
            tally.answered++;
            // One answer to the mutated request, then the probe's: in order. None only for acks=0.
            expect(outcome.frames.length).toBeLessThanOrEqual(2);
            if (outcome.frames.length === 2) {
              expect(outcome.frames[0]!.readInt32BE(0)).toBe(frame.readInt32BE(8));
              acks.push(...producedAcks(frame, outcome.frames[0]!));
            } else {
              expect(request?.apiKey, 'a request answered with nothing must be a Produce with acks=0').toBe(0);
              expect((request!.body as ProduceRequest).acks).toBe(0);
            }
          } else if (outcome.closed) {
            tally.closed++;
          } else {
            // Neither answered nor closed: only a long poll may still be waiting.
            expect(request?.apiKey, 'only a Fetch may be left waiting').toBe(1);
            tally.waiting++;
          }
        }),
        { numRuns: RUNS },
      );
    } finally {
      fuzzing = false;
    }
    const liveProduced = await liveProducer;
    if (liveProduced instanceof Error) throw liveProduced;

    // Both kinds of outcome happened, and nearly every request was judged at once.
    expect(tally.answered).toBeGreaterThan(RUNS / 10);
    expect(tally.closed).toBeGreaterThan(RUNS / 10);
    expect(tally.waiting).toBeLessThan(RUNS / 20);
    expect(acks.length, 'some mutated Produce requests were acknowledged, and are checked below').toBeGreaterThan(0);
    expect(liveProduced).toBeGreaterThan(0);

    // Connections opened before the bad input are still served.
    for (const client of clients.values()) {
      expect(client.isOpen).toBe(true);
      expect((await client.request<ApiVersionsResponse>(18, 3, {})).errorCode).toBe(0);
    }
    expect((await describeCluster(bootstrap)).brokers).toHaveLength(2);

    const check = async (connections: Map<number, RawKafkaClient>) => {
      for (const topic of [REFERENCE, LIVE]) {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const stored = await readAll(await leaderClient(topic, partition, connections), topic, partition);
          const wanted = expected.get(`${topic}/${partition}`)!;
          expectHolds(stored, wanted);
          if (topic === REFERENCE) expect(stored).toHaveLength(wanted.size); // nothing else was written there
        }
      }
      for (const ack of acks) {
        const leader = await leaderClient(ack.topic, ack.partition, connections);
        const data = (await fetch(leader, [{ topic: ack.topic, partition: ack.partition, offset: Number(ack.baseOffset) }])).responses[0]!.partitions[0]!;
        expect(data.errorCode).toBe(0);
        const [storedOffset, storedBytes] = batchesOf(data.records)[0] ?? [];
        expect(storedOffset, `acknowledged batch at ${ack.topic}/${ack.partition}@${ack.baseOffset}`).toBe(ack.baseOffset);
        expect(storedBytes, `acknowledged batch at ${ack.topic}/${ack.partition}@${ack.baseOffset}`).toEqual(Buffer.from(ack.batch.subarray(MAGIC_AT)));
      }
    };
    await check(clients);

    for (const client of [bootstrap, ...clients.values()]) client.close();
    await fixture.restart();
    const after = new Map<number, RawKafkaClient>();
    for (const nodeId of [0, 1]) after.set(nodeId, await RawKafkaClient.connect(fixture.port(nodeId)));
    await check(after);
    for (const client of after.values()) client.close();
  }, 240_000);
});
