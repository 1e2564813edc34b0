/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time per function and per source file,
 * and total (inclusive) time of the functions that matter for the broker's hot paths. Used by
 * bench/broker.ts when the broker runs with --cpu-prof (SAMSA_BENCH_BROKER_NODE_ARGS), and
 * runnable on its own:
 *
 *   node dist/bench/broker-workers/cpu-profile.js <file.cpuprofile>... [top]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  bySelf: { name: string; where: string; selfMs: number }[];
  byFile: { file: string; selfMs: number }[];
  byTotal: { name: string; where: string; totalMs: number }[];
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const cleaned = url.replace(/^file:\/\//, '');
  const at = cleaned.indexOf('/dist/');
  if (at >= 0) return cleaned.slice(at + '/dist/'.length).replace(/\.js$/, '.ts');
  const modules = cleaned.indexOf('/node_modules/');
  if (modules >= 0) return cleaned.slice(modules + 1);
  return cleaned;
}

/**
 * `windows`: only samples taken inside these CLOCK_MONOTONIC intervals (µs), the clock of the
 * profile's timestamps (and of process.hrtime in any process on the machine).
 */
export function summarizeProfile(file: string, top = 30, windows?: readonly (readonly [number, number])[]): ProfileSummary {
  return summarizeProfiles([file], top, windows);
}

/** The same over several profiles (e.g. one per broker worker thread), their samples added up. */
export function summarizeProfiles(files: readonly string[], top = 30, windows?: readonly (readonly [number, number])[]): ProfileSummary {
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  const add = (map: Map<string, number>, key: string, us: number): void => {
    map.set(key, (map.get(key) ?? 0) + us);
  };
  const key = (frame: CallFrame): string => `${frame.functionName || '(anonymous)'}\u0000${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    // Self time from samples and time deltas (hitCount alone ignores the sampling interval).
    const selfUs = new Map<number, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    let at = profile.startTime;
    for (let i = 0; i < samples.length; i++) {
      at += deltas[i] ?? 0;
      if (windows && !windows.some(([from, to]) => at >= from && at <= to)) continue;
      selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
    }
    for (const [id, us] of selfUs) {
      const node = byId.get(id)!;
      const name = node.callFrame.functionName;
      totalUs += us;
      if (name === '(idle)') idleUs += us;
      add(self, key(node.callFrame), us);
      add(byFile, name.startsWith('(') ? name : shortUrl(node.callFrame.url), us);
      // Inclusive: every distinct function on the stack gets the sample once.
      const seen = new Set<string>();
      for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
        const k = key(byId.get(up)!.callFrame);
        if (seen.has(k)) continue;
        seen.add(k);
        add(inclusive, k, us);
      }
    }
  }
  const split = (k: string): { name: string; where: string } => {
    const [name, where] = k.split('\u0000');
    return { name: name!, where: where! };
  };
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    bySelf: [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => ({ ...split(k), selfMs: us / 1000 })),
    byFile: [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top).map(([file, us]) => ({ file, selfMs: us / 1000 })),
    byTotal: [...inclusive].sort((a, b) => b[1] - a[1]).filter(([k]) => !k.startsWith('(root)')).slice(0, top).map(([k, us]) => ({ ...split(k), totalMs: us / 1000 })),
  };
}

export function printProfile(file: string | readonly string[], top = 30, windows?: readonly (readonly [number, number])[], label = ''): void {
  const files = typeof file === 'string' ? [file] : file;
  const summary = summarizeProfiles(files, top, windows);
  const busy = summary.totalMs - summary.idleMs;
  const pct = (ms: number): string => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  console.log(`  ${files.map((f) => path.basename(f)).join(' + ')}${label ? ` (${label})` : ''}: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (percentages of busy time)`);
  console.log('  self time by function:');
  for (const row of summary.bySelf.filter((r) => r.name !== '(idle)')) console.log(`    ${pct(row.selfMs)}  ${row.selfMs.toFixed(0).padStart(7)} ms  ${row.name}  ${row.where}`);
  console.log('  self time by file:');
  for (const row of summary.byFile.filter((r) => r.file !== '(idle)')) console.log(`    ${pct(row.selfMs)}  ${row.selfMs.toFixed(0).padStart(7)} ms  ${row.file}`);
  console.log('  total (inclusive) time by function:');
  for (const row of summary.byTotal.filter((r) => r.name !== '(idle)')) console.log(`    ${pct(row.totalMs)}  ${row.totalMs.toFixed(0).padStart(7)} ms  ${row.name}  ${row.where}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/broker-workers/cpu-profile.js <file.cpuprofile>... [top]');
    process.exit(1);
  }
  printProfile(process.argv.slice(2).filter((arg) => arg.endsWith('.cpuprofile')), Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 30));
}
