import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BROKER_INITIAL_OLD_SPACE_MB, BROKER_MIN_SEMI_SPACE_MB, brokerHeapFlags } from '../../src/runtime/heap-flags.js';

// The effect (collections of a broker thread under load) is measured by bench:broker with
// SAMSA_BENCH_BROKER_NODE_ARGS=--trace-gc: docs/server.md, "Heap".
describe('broker heap flags', () => {
  const all = [`--initial-old-space-size=${BROKER_INITIAL_OLD_SPACE_MB}`, `--min-semi-space-size=${BROKER_MIN_SEMI_SPACE_MB}`, '--no-parallel-scavenge', '--no-memory-reducer'];

  it('sets each flag unless the command line or NODE_OPTIONS sets it, in either form', () => {
    expect(brokerHeapFlags([], '')).toEqual(all);
    expect(brokerHeapFlags(['--initial-old-space-size=64'], '')).toEqual(all.slice(1));
    expect(brokerHeapFlags([], '--max-old-space-size=4096 --initial_old_space_size=32')).toEqual(all.slice(1));
    expect(brokerHeapFlags(['--max-old-space-size=4096'], '--enable-source-maps')).toEqual(all);
    expect(brokerHeapFlags(['--parallel-scavenge'], '--min_semi_space_size=8')).toEqual([all[0], all[3]]);
    expect(brokerHeapFlags(['--no_parallel_scavenge'], '')).toEqual([all[0], all[1], all[3]]);
    expect(brokerHeapFlags(['-noparallel-scavenge'], '"--initial-old-space-size=64"')).toEqual([all[1], all[3]]);
    expect(brokerHeapFlags(['--memory-reducer'], '')).toEqual(all.slice(0, 3));
  });

  it('names only flags V8 knows, and they size the young generation', () => {
    // node refuses a flag V8 does not know (exit code 9).
    const script = 'const s = require("node:v8").getHeapSpaceStatistics().find((space) => space.space_name === "new_space"); console.log(s.space_size)';
    const run = spawnSync(process.execPath, [...all, '-e', script], { encoding: 'utf8' });
    const plain = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // new_space reports one semi-space on Node 20 and 22, both on Node 24.
    expect(Number(run.stdout)).toBeGreaterThanOrEqual(BROKER_MIN_SEMI_SPACE_MB * 2 ** 20);
    expect(Number(run.stdout)).toBeGreaterThan(4 * Number(plain.stdout));
  });

  it('set at run time, as samsa start sets them, survive collections of the main thread and of a worker', () => {
    // --single-threaded-gc set this way crashed V8 in the main thread's first mark-compact
    // ("Check failed: concurrent_marking_handle_"): this load reproduced it within a second.
    const script = `
      const v8 = require('node:v8');
      console.log('flags set at run time: ' + process.argv.slice(1).join(' '));
      for (const flag of process.argv.slice(1)) v8.setFlagsFromString(flag);
      const { Worker } = require('node:worker_threads');
      const churn = 'let keep = []; for (let r = 0; r < 30; r++) { for (let i = 0; i < 2e5; i++) keep.push({ i, s: "x" + i }); keep = keep.slice(-1e5); }';
      const worker = new Worker(churn + ' require("node:worker_threads").parentPort.postMessage("worker done")', { eval: true });
      worker.on('message', (message) => console.log(message));
      let keep = [];
      const started = Date.now();
      const step = () => {
        for (let i = 0; i < 2e5; i++) keep.push({ i, s: 'y' + i });
        keep = keep.slice(-1e5);
        if (Date.now() - started < 1500) setImmediate(step);
        else console.log('main done');
      };
      step();`;
    // After '--' the flags reach the script as arguments, not node's own command line.
    const flags = brokerHeapFlags([], '');
    const run = spawnSync(process.execPath, ['-e', script, '--', ...flags], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n').filter(Boolean).sort()).toEqual([`flags set at run time: ${flags.join(' ')}`, 'main done', 'worker done']);
  });
});
