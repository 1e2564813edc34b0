import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BROKER_INITIAL_OLD_SPACE_MB, BROKER_MIN_SEMI_SPACE_MB, brokerHeapFlags } from '../../src/runtime/heap-flags.js';

// The effect (collections of a broker thread under load) is measured by bench:broker with
// SAMSA_BENCH_BROKER_NODE_ARGS=--trace-gc: docs/server.md, "Heap".
describe('broker heap flags', () => {
  const all = [`--initial-old-space-size=${BROKER_INITIAL_OLD_SPACE_MB}`, `--min-semi-space-size=${BROKER_MIN_SEMI_SPACE_MB}`, '--single-threaded-gc'];

  it('sets each flag unless the command line or NODE_OPTIONS sets it, in either form', () => {
    expect(brokerHeapFlags([], '')).toEqual(all);
    expect(brokerHeapFlags(['--initial-old-space-size=64'], '')).toEqual(all.slice(1));
    expect(brokerHeapFlags([], '--max-old-space-size=4096 --initial_old_space_size=32')).toEqual(all.slice(1));
    expect(brokerHeapFlags(['--max-old-space-size=4096'], '--enable-source-maps')).toEqual(all);
    expect(brokerHeapFlags(['--no-single-threaded-gc'], '--min_semi_space_size=8')).toEqual(all.slice(0, 1));
    expect(brokerHeapFlags(['--single_threaded_gc'], '')).toEqual(all.slice(0, 2));
  });

  it('names only flags V8 knows, and they size the young generation', () => {
    // node refuses a flag V8 does not know (exit code 9).
    const script = 'const s = require("node:v8").getHeapSpaceStatistics().find((space) => space.space_name === "new_space"); console.log(s.space_size)';
    const run = spawnSync(process.execPath, [...all, '-e', script], { encoding: 'utf8' });
    const plain = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // What new_space reports for a semi-space size differs between V8 versions (Node 20: half of it, 24: twice).
    expect(Number(run.stdout)).toBeGreaterThanOrEqual((BROKER_MIN_SEMI_SPACE_MB / 2) * 2 ** 20);
    expect(Number(run.stdout)).toBeGreaterThan(4 * Number(plain.stdout));
  });
});
