import { describe, expect, it } from 'vitest';
import { BROKER_INITIAL_OLD_SPACE_MB, brokerHeapFlag } from '../../src/runtime/heap-flags.js';

// The effect (mark-compacts of a broker thread under load) is measured by bench:broker with
// SAMSA_BENCH_BROKER_NODE_ARGS=--trace-gc: docs/server.md, "Heap".
describe('broker heap flags', () => {
  it('asks for a large initial old generation unless the command line or NODE_OPTIONS sets one', () => {
    expect(brokerHeapFlag([], '')).toBe(`--initial-old-space-size=${BROKER_INITIAL_OLD_SPACE_MB}`);
    expect(brokerHeapFlag(['--initial-old-space-size=64'], '')).toBeUndefined();
    expect(brokerHeapFlag([], '--max-old-space-size=4096 --initial_old_space_size=32')).toBeUndefined();
    expect(brokerHeapFlag(['--max-old-space-size=4096'], '--enable-source-maps')).toBe(`--initial-old-space-size=${BROKER_INITIAL_OLD_SPACE_MB}`);
  });
});
