/**
 * Consumer groups benchmark: `npm run bench:groups` (builds, then runs dist/bench/groups.js).
 *
 * The cluster runs in this process as `samsa start` runs it (Cluster.start: a broker actor per
 * worker thread, availableParallelism() brokers, the controller on this thread), with
 * group.initial.rebalance.delay.ms=0; the load comes from this thread over loopback, with
 * requests from the generated codecs (bench/group-clients/). Group coordinators are child
 * actors of the broker actor leading the group's __consumer_offsets partition, so each group's
 * work runs on one broker thread.
 *
 *   1. Offset commits per second: a group with one real member (JoinGroup + SyncGroup; it
 *      heartbeats every second) and `connections` connections to its coordinator keeping
 *      `window` requests each in flight (closed loop). Each OffsetCommit v8 carries the member's
 *      id and generation and one partition (each connection its own partition, the committed
 *      offset increasing by one per request); a second case carries 10 partitions per request.
 *      Baselines on the same connections, same window: ApiVersions v3 (answered by the handler
 *      alone) and Heartbeat v4 (a round trip through the coordinator actor's mailbox, no write).
 *      The kinds alternate, `rounds` times, so drift from other load on the machine hits each
 *      alike. Afterwards OffsetFetch must return, for every partition, the last offset committed.
 *   2. Rebalance time for groups of 2, 10 and 50 members (protocol-level members, one
 *      connection each, session and rebalance timeouts 10 s, heartbeats every
 *      `heartbeatIntervalMs`): N-1 members are stable; a new member sends JoinGroup (t0); the
 *      others learn of the rebalance from their next heartbeat (REBALANCE_IN_PROGRESS) and join
 *      again; the leader assigns (round robin over 100 partitions); the time ends when every
 *      member has its SyncGroup answer for the new generation. Median over `repetitions`. The
 *      members' discovery is bounded by the heartbeat interval, so the time from the last
 *      JoinGroup sent to the last SyncGroup answered (the broker's part) is shown too. Then the
 *      new member leaves (LeaveGroup) and the time until the others hold their new assignment
 *      is measured the same way.
 *
 * CPU columns: this process (brokers and load generator together, all threads) and the rest of
 * the machine (> 0.2 core means the figures are disturbed by other load). The last stdout line
 * is one JSON object with the headline figures.
 *
 * Environment:
 *   SAMSA_BENCH_SCALE         scales the time windows and repetitions (default 1; 0.3 for a smoke run)
 *   SAMSA_BENCH_CONNECTIONS   connections to the coordinator for case 1 (default 8)
 *   SAMSA_BENCH_WINDOW        requests in flight per connection for case 1 (default 8)
 *   SAMSA_BENCH_HEARTBEAT_MS  heartbeat interval of the members of case 2 (default 20)
 *   SAMSA_BENCH_KINDS         regex: the request kinds of case 1 to run (default all; e.g. 'Commit, 1 ' with
 *                             node --cpu-prof to profile one kind); a summary figure left out is null
 *   SAMSA_BENCH_REBALANCE     0: skip case 2
 *   SAMSA_BENCH_TIMEOUT_MS    global timeout (default 180 s)
 */
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { KafkaConnection } from '../src/client/kafka-connection.js';
import { ErrorCode } from '../src/protocol/generated/error-codes.js';
import type { ApiVersionsResponse, CreateTopicsResponse, FindCoordinatorResponse, HeartbeatResponse, OffsetCommitResponse, OffsetFetchResponse } from '../src/protocol/generated/messages/index.js';
import { brokerConfigFrom } from '../src/server/broker-config.js';
import { Cluster } from '../src/server/cluster.js';
import { clockTicksPerS, machineBusyTicks } from './broker-workers/wire.js';
import { closedLoop, type ClosedLoopResult } from './group-clients/closed-loop.js';
import { BenchMember, HEARTBEAT } from './group-clients/member.js';
import { runBench, scratchDirectory } from './scratch-directory.js';

const SCALE = Number(process.env.SAMSA_BENCH_SCALE ?? '1');
if (!(SCALE > 0 && SCALE <= 4)) throw new Error(`SAMSA_BENCH_SCALE must be in (0, 4], got ${process.env.SAMSA_BENCH_SCALE}`);
const CONNECTIONS = Number(process.env.SAMSA_BENCH_CONNECTIONS ?? 8);
const WINDOW = Number(process.env.SAMSA_BENCH_WINDOW ?? 8);
const HEARTBEAT_INTERVAL_MS = Number(process.env.SAMSA_BENCH_HEARTBEAT_MS ?? 20);
const GLOBAL_TIMEOUT_MS = Number(process.env.SAMSA_BENCH_TIMEOUT_MS ?? 180_000);
const KINDS = new RegExp(process.env.SAMSA_BENCH_KINDS ?? '.');
const REBALANCE = process.env.SAMSA_BENCH_REBALANCE !== '0';

const HOST = '127.0.0.1';
const BROKERS = os.availableParallelism();
const ROUNDS = 3;
const FIRST_WARMUP_MS = 500 * SCALE;
const WARMUP_MS = 200 * SCALE;
const MEASURE_MS = 1500 * SCALE;
const GROUP_SIZES = [2, 10, 50] as const;
const REPETITIONS = Math.max(3, Math.round(11 * SCALE) | 1);
const REBALANCE_PARTITIONS = 100;
const MEMBER_TIMEOUT_MS = 10_000;
const WAIT_TIMEOUT_MS = 30_000;
const SETTLE_MS = 50;
/** The committed offset in a frame template, patched per request. */
const OFFSET_SENTINEL = 0x5a5a5a5a5a5a5a5an;

const API_VERSIONS = { apiKey: 18, version: 3 } as const;
const OFFSET_COMMIT = { apiKey: 8, version: 8 } as const;
const OFFSET_FETCH = { apiKey: 9, version: 7 } as const;
const CLIENT_ID = 'samsa-bench';

process.env.SAMSA_LOG_LEVEL ??= 'warn';

// ---- temp directory, cleanup on every way out ----------------------------------------------------

const scratch = scratchDirectory('samsa-bench-groups-', GLOBAL_TIMEOUT_MS);
const dataDir = scratch.path;

// ---- helpers ---------------------------------------------------------------------------------------

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const fmtMs = (values: readonly number[]) => `${median(values).toFixed(1)} (${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)})`;

const TICKS = clockTicksPerS();

/** CPU cores used by this process and by the rest of the machine over a window. */
function cpuWindow(): () => { self: number; other: number } {
  const usage = process.cpuUsage();
  const machine = machineBusyTicks();
  const started = performance.now();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const spent = process.cpuUsage(usage);
    const self = (spent.user + spent.system) / 1e6 / seconds;
    return { self, other: Math.max(0, (machineBusyTicks() - machine) / TICKS / seconds - self) };
  };
}

async function createTopic(connection: KafkaConnection, name: string, partitions: number): Promise<void> {
  const response = await connection.request<CreateTopicsResponse>(19, 7, { topics: [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  const result = response.topics[0];
  if (!result || result.errorCode !== ErrorCode.NONE) throw new Error(`CreateTopics ${name}: error ${result?.errorCode} ${result?.errorMessage ?? ''}`);
}

/** The coordinator's port (FindCoordinator v3, retried while __consumer_offsets comes up). */
async function coordinatorPort(connection: KafkaConnection, groupId: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await connection.request<FindCoordinatorResponse>(10, 3, { key: groupId, keyType: 0 });
    if (response.errorCode === ErrorCode.NONE) return response.port!;
    await sleep(50);
  }
  throw new Error(`no coordinator for ${groupId}`);
}

const connect = (port: number) => KafkaConnection.connect({ host: HOST, port, clientId: CLIENT_ID, timeoutMs: 10_000 });

/** Promises that resolve once a condition over the members holds, re-checked at every change. */
class Conditions {
  private readonly waiting: { check: () => boolean; resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout }[] = [];

  until(check: () => boolean, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`${what}: not within ${WAIT_TIMEOUT_MS / 1000} s`)), WAIT_TIMEOUT_MS);
      this.waiting.push({ check, resolve, reject, timer });
    });
  }

  changed = (): void => {
    for (const waiter of [...this.waiting]) {
      if (!waiter.check()) continue;
      clearTimeout(waiter.timer);
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  fail = (error: Error): void => {
    for (const waiter of this.waiting.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  };
}

// ---- 1. offset commits ----------------------------------------------------------------------------------

interface CommitFigures {
  readonly byKind: Record<string, { requests: number; seconds: number; p50: number[]; p99: number[]; self: number[]; other: number[] }>;
}

async function commitRate(bootstrap: KafkaConnection): Promise<CommitFigures> {
  const groupId = 'bench-commits';
  await createTopic(bootstrap, 'bench-commits', CONNECTIONS);
  await createTopic(bootstrap, 'bench-commits-10', CONNECTIONS * 10);
  const port = await coordinatorPort(bootstrap, groupId);
  const conditions = new Conditions();
  const member = new BenchMember(await connect(port), { groupId, topic: 'bench-commits', partitionCount: CONNECTIONS, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: MEMBER_TIMEOUT_MS, heartbeatIntervalMs: 1000, changed: conditions.changed, failed: conditions.fail });
  await member.join();
  if (!member.stable) throw new Error('the commit bench member did not join');
  const connections = await Promise.all(Array.from({ length: CONNECTIONS }, () => connect(port)));

  const commitTemplate = (topic: string, partitions: number[]) => {
    const frame = KafkaConnection.encodeRequest(OFFSET_COMMIT.apiKey, OFFSET_COMMIT.version, {
      groupId, generationIdOrMemberEpoch: member.generation, memberId: member.memberId, groupInstanceId: null,
      topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, committedOffset: OFFSET_SENTINEL, committedLeaderEpoch: -1, committedMetadata: '' })) }],
    }, CLIENT_ID);
    const sentinel = Buffer.alloc(8);
    sentinel.writeBigInt64BE(OFFSET_SENTINEL);
    const positions: number[] = [];
    for (let at = frame.indexOf(sentinel); at >= 0; at = frame.indexOf(sentinel, at + 8)) positions.push(at);
    if (positions.length !== partitions.length) throw new Error('committed offsets not found in the OffsetCommit frame');
    return (sequence: number) => {
      const copy = Buffer.from(frame);
      for (const at of positions) copy.writeBigInt64BE(BigInt(sequence + 1), at);
      return copy;
    };
  };
  const commitCheck = (response: unknown) => {
    for (const topic of (response as OffsetCommitResponse).topics) for (const partition of topic.partitions) if (partition.errorCode !== ErrorCode.NONE) return `OffsetCommit ${topic.name}-${partition.partitionIndex}: error ${partition.errorCode}`;
    return undefined;
  };
  const single = connections.map((_, index) => commitTemplate('bench-commits', [index]));
  const tenPartitions = (index: number) => Array.from({ length: 10 }, (_, i) => index * 10 + i);
  const ten = connections.map((_, index) => commitTemplate('bench-commits-10', tenPartitions(index)));
  const apiVersions = KafkaConnection.encodeRequest(API_VERSIONS.apiKey, API_VERSIONS.version, { clientSoftwareName: CLIENT_ID, clientSoftwareVersion: '0' }, CLIENT_ID);
  const heartbeat = KafkaConnection.encodeRequest(HEARTBEAT.apiKey, HEARTBEAT.version, { groupId, generationId: member.generation, memberId: member.memberId, groupInstanceId: null }, CLIENT_ID);

  const allKinds: { name: string; frame: (connection: number, sequence: number) => Buffer; check: (response: unknown) => string | undefined }[] = [
    { name: 'ApiVersions', frame: () => Buffer.from(apiVersions), check: (response) => ((response as ApiVersionsResponse).errorCode === ErrorCode.NONE ? undefined : 'ApiVersions failed') },
    { name: 'Heartbeat', frame: () => Buffer.from(heartbeat), check: (response) => ((response as HeartbeatResponse).errorCode === ErrorCode.NONE ? undefined : `Heartbeat: error ${(response as HeartbeatResponse).errorCode}`) },
    { name: 'OffsetCommit, 1 partition', frame: (connection, sequence) => single[connection]!(sequence), check: commitCheck },
    { name: 'OffsetCommit, 10 partitions', frame: (connection, sequence) => ten[connection]!(sequence), check: commitCheck },
  ];
  const kinds = allKinds.filter((kind) => KINDS.test(kind.name));
  const byKind: CommitFigures['byKind'] = {};
  const last = new Map<string, ClosedLoopResult>();
  console.log(`\n[1] requests to the coordinator of '${groupId}' (broker port ${port}): ${CONNECTIONS} connections x ${WINDOW} in flight, closed loop; ${ROUNDS} rounds of ${(MEASURE_MS / 1000).toFixed(1)} s per kind, kinds alternating`);
  console.log('    round  request                        requests/s   p50 ms   p99 ms   CPU cores: this process / other');
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
    for (const kind of kinds) {
      const cpu = cpuWindow();
      const result = await closedLoop({ connections, window: WINDOW, warmupMs: roundIndex === 0 ? FIRST_WARMUP_MS : WARMUP_MS, measureMs: MEASURE_MS, frame: kind.frame, check: kind.check });
      const used = cpu();
      last.set(kind.name, result);
      const figures = (byKind[kind.name] ??= { requests: 0, seconds: 0, p50: [], p99: [], self: [], other: [] });
      figures.requests += result.requests;
      figures.seconds += result.seconds;
      figures.p50.push(result.p50Ms);
      figures.p99.push(result.p99Ms);
      figures.self.push(used.self);
      figures.other.push(used.other);
      console.log(`    ${String(roundIndex + 1).padStart(5)}  ${kind.name.padEnd(28)} ${Math.round(result.requests / result.seconds).toString().padStart(12)}   ${result.p50Ms.toFixed(2).padStart(6)}   ${result.p99Ms.toFixed(2).padStart(6)}   ${used.self.toFixed(2)} / ${used.other.toFixed(2)}`);
    }
  }

  // Every partition holds the last offset its connection committed.
  const fetched = await connections[0]!.request<OffsetFetchResponse>(OFFSET_FETCH.apiKey, OFFSET_FETCH.version, { groupId, topics: null, requireStable: false });
  const committed = new Map((fetched.topics ?? []).flatMap((topic) => topic.partitions.map((partition) => [`${topic.name}-${partition.partitionIndex}`, partition.committedOffset] as const)));
  const expectLast = (topic: string, partitions: (index: number) => number[], result: ClosedLoopResult) => {
    result.sent.forEach((count, index) => {
      for (const partition of partitions(index)) {
        if (committed.get(`${topic}-${partition}`) !== BigInt(count)) throw new Error(`${topic}-${partition}: committed ${committed.get(`${topic}-${partition}`)}, expected ${count}`);
      }
    });
  };
  const lastSingle = last.get('OffsetCommit, 1 partition');
  const lastTen = last.get('OffsetCommit, 10 partitions');
  if (lastSingle) expectLast('bench-commits', (index) => [index], lastSingle);
  if (lastTen) expectLast('bench-commits-10', tenPartitions, lastTen);
  console.log(`    checked: OffsetFetch returns, for each of the ${(lastSingle ? CONNECTIONS : 0) + (lastTen ? CONNECTIONS * 10 : 0)} partitions committed to, the last offset committed`);
  await member.leave();
  member.close();
  for (const connection of connections) connection.close();
  return { byKind };
}

// ---- 2. rebalances ----------------------------------------------------------------------------------------

interface RebalanceFigures {
  readonly size: number;
  readonly joinMs: number[];
  readonly afterLastJoinMs: number[];
  readonly leaveMs: number[];
}

async function rebalanceTimes(bootstrap: KafkaConnection, size: number): Promise<RebalanceFigures> {
  const groupId = `bench-rebalance-${size}`;
  const port = await coordinatorPort(bootstrap, groupId);
  const conditions = new Conditions();
  const newMember = async () => new BenchMember(await connect(port), {
    groupId, topic: 'bench-rebalance', partitionCount: REBALANCE_PARTITIONS, sessionTimeoutMs: MEMBER_TIMEOUT_MS, rebalanceTimeoutMs: MEMBER_TIMEOUT_MS,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, changed: conditions.changed, failed: conditions.fail,
  });
  /** Every member stable in one generation newer than `after`, holding between them every partition once. */
  const settled = (members: readonly BenchMember[], after: number) => () => {
    const generation = members[0]!.generation;
    if (generation <= after || !members.every((member) => member.stable && member.generation === generation)) return false;
    return members.reduce((sum, member) => sum + member.assignment.length, 0) === REBALANCE_PARTITIONS;
  };
  const existing = await Promise.all(Array.from({ length: size - 1 }, newMember));
  for (const member of existing) void member.join();
  await conditions.until(settled(existing, -1), `${size - 1} members of ${groupId} stable`);
  await sleep(SETTLE_MS);

  const figures: RebalanceFigures = { size, joinMs: [], afterLastJoinMs: [], leaveMs: [] };
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    const joining = await newMember();
    const everyone = [...existing, joining];
    const before = existing[0]!.generation;
    const started = performance.now();
    void joining.join();
    await conditions.until(settled(everyone, before), `${groupId}: rebalance after a join`);
    const ended = Math.max(...everyone.map((member) => member.syncedAt));
    figures.joinMs.push(ended - started);
    figures.afterLastJoinMs.push(ended - Math.max(...everyone.map((member) => member.joinSentAt)));
    await sleep(SETTLE_MS);

    const beforeLeave = existing[0]!.generation;
    const leaving = performance.now();
    await joining.leave();
    joining.close();
    await conditions.until(settled(existing, beforeLeave), `${groupId}: rebalance after a leave`);
    figures.leaveMs.push(Math.max(...existing.map((member) => member.syncedAt)) - leaving);
    await sleep(SETTLE_MS);
  }
  await Promise.all(existing.map((member) => member.leave().catch(() => undefined)));
  for (const member of existing) member.close();
  return figures;
}

// ---- main ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const cpus = os.cpus();
  console.log(`samsa groups bench — node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), ${os.platform()} ${os.arch()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, scale ${SCALE}`);
  const busyBefore = machineBusyTicks();
  await sleep(1000);
  const busyCoresBefore = (machineBusyTicks() - busyBefore) / TICKS;
  console.log(`machine busy before the start (other processes): ${busyCoresBefore.toFixed(2)} cores over 1 s${busyCoresBefore > 0.2 ? ' -- WARNING: figures will be low' : ''}`);

  const cluster = await Cluster.start({
    dataDirectory: path.join(dataDir, 'data'),
    brokerCount: BROKERS,
    port: 0,
    advertisedHost: HOST,
    bindHost: HOST,
    config: brokerConfigFrom([['group.initial.rebalance.delay.ms', '0']]),
    log: pino({ level: process.env.SAMSA_LOG_LEVEL ?? 'warn' }),
  });
  console.log(`cluster: ${BROKERS} brokers (worker threads of this process) on ports ${cluster.brokers.map((broker) => broker.port).join(', ')}, group.initial.rebalance.delay.ms=0, data in ${dataDir}; load from this thread`);
  const bootstrap = await connect(cluster.brokers[0]!.port);
  try {
    const commits = await commitRate(bootstrap);
    await createTopic(bootstrap, 'bench-rebalance', REBALANCE_PARTITIONS);
    console.log(`\n[2] rebalance of a stable group when one member joins, then leaves: members heartbeat every ${HEARTBEAT_INTERVAL_MS} ms, ${REBALANCE_PARTITIONS} partitions, ${REPETITIONS} repetitions; ms, median (min-max)`);
    console.log('    members   join: JoinGroup sent -> every member synced   of which after the last JoinGroup sent   leave: LeaveGroup sent -> every member synced   CPU cores: this process / other');
    const rebalances: RebalanceFigures[] = [];
    for (const size of REBALANCE ? GROUP_SIZES : []) {
      const cpu = cpuWindow();
      const figures = await rebalanceTimes(bootstrap, size);
      const used = cpu();
      rebalances.push(figures);
      console.log(`    ${String(size).padStart(7)}   ${fmtMs(figures.joinMs).padEnd(43)}   ${fmtMs(figures.afterLastJoinMs).padEnd(38)}   ${fmtMs(figures.leaveMs).padEnd(44)}   ${used.self.toFixed(2)} / ${used.other.toFixed(2)}`);
    }

    const rate = (name: string) => (commits.byKind[name] ? commits.byKind[name].requests / commits.byKind[name].seconds : NaN);
    const commitsPerS = rate('OffsetCommit, 1 partition');
    const heartbeatsPerS = rate('Heartbeat');
    const apiVersionsPerS = rate('ApiVersions');
    const tenPerS = rate('OffsetCommit, 10 partitions');
    console.log(`\n==== summary (node ${process.version}, ${cpus.length} CPUs, ${BROKERS} brokers, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${((performance.now() - started) / 1000).toFixed(0)} s) ====`);
    console.log(`offset commits (1 partition each): ${Math.round(commitsPerS)}/s = ${(commitsPerS / heartbeatsPerS).toFixed(2)}x Heartbeat (${Math.round(heartbeatsPerS)}/s), ${(commitsPerS / apiVersionsPerS).toFixed(2)}x ApiVersions (${Math.round(apiVersionsPerS)}/s)`);
    console.log(`offset commits of 10 partitions: ${Math.round(tenPerS)}/s = ${Math.round(tenPerS * 10)} offsets/s`);
    for (const figures of rebalances) console.log(`rebalance, ${figures.size} members: join ${median(figures.joinMs).toFixed(1)} ms, leave ${median(figures.leaveMs).toFixed(1)} ms (median)`);

    const p50 = (name: string) => round(median(commits.byKind[name]?.p50 ?? [NaN]), 2);
    const p99 = (name: string) => round(median(commits.byKind[name]?.p99 ?? [NaN]), 2);
    const summary: Record<string, unknown> = {
      node: process.version,
      cpus: cpus.length,
      brokers: BROKERS,
      scale: SCALE,
      connections: CONNECTIONS,
      window: WINDOW,
      commits_per_s: Math.round(commitsPerS),
      commit_p50_ms: p50('OffsetCommit, 1 partition'),
      commit_p99_ms: p99('OffsetCommit, 1 partition'),
      heartbeats_per_s: Math.round(heartbeatsPerS),
      api_versions_per_s: Math.round(apiVersionsPerS),
      commits_vs_heartbeats: round(commitsPerS / heartbeatsPerS, 3),
      commits_vs_api_versions: round(commitsPerS / apiVersionsPerS, 3),
      commits_10_partitions_per_s: Math.round(tenPerS),
      committed_offsets_per_s: Math.round(tenPerS * 10),
      heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
      repetitions: REPETITIONS,
    };
    for (const figures of rebalances) {
      summary[`rebalance_ms_${figures.size}`] = round(median(figures.joinMs), 1);
      summary[`rebalance_after_last_join_ms_${figures.size}`] = round(median(figures.afterLastJoinMs), 1);
      summary[`leave_rebalance_ms_${figures.size}`] = round(median(figures.leaveMs), 1);
    }
    summary.busy_cores_before_start = round(busyCoresBefore, 2);
    summary.total_s = round((performance.now() - started) / 1000, 1);
    bootstrap.close();
    await cluster.stop();
    console.log(JSON.stringify(summary));
  } catch (error) {
    bootstrap.close();
    await cluster.stop().catch(() => undefined);
    throw error;
  }
}

runBench(main, scratch);
