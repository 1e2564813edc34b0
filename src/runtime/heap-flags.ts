/**
 * V8 heap settings for a process that runs brokers on worker threads.
 *
 * A broker's JavaScript heap is small and steady (~8-10 MB live): the data path moves bytes in
 * pooled buffers and the page cache, not in objects. V8 sizes the old generation's allocation
 * limit from the live size, so such a heap starts incremental marking every few dozen
 * milliseconds under load (measured at 3.75M records/s: ~15 mark-compacts per second per broker
 * thread, 4-14 ms each, with V8's helper threads busy besides). Starting the old generation at
 * BROKER_INITIAL_OLD_SPACE_MB makes those rare (2 in a 35 s run) at the price of up to that much
 * garbage per thread between collections. docs/server.md, "Heap".
 *
 * V8 flags are process-wide and apply to isolates created after they are set: call this before
 * the broker workers start. `samsa start` does; a program embedding the cluster may do the same
 * or pass --initial-old-space-size itself (a value given on the command line is kept).
 */
import v8 from 'node:v8';

export const BROKER_INITIAL_OLD_SPACE_MB = 128;

/** The V8 flag to set, or undefined when the command line or NODE_OPTIONS already sets one. */
export function brokerHeapFlag(execArgv: readonly string[], nodeOptions: string): string | undefined {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  if (given.some((flag) => /^--initial[-_]old[-_]space[-_]size/.test(flag))) return undefined;
  return `--initial-old-space-size=${BROKER_INITIAL_OLD_SPACE_MB}`;
}

export function applyBrokerHeapFlags(): void {
  const flag = brokerHeapFlag(process.execArgv, process.env.NODE_OPTIONS ?? '');
  if (flag) v8.setFlagsFromString(flag);
}
