/**
 * V8 heap settings for a process that runs brokers on worker threads.
 *
 * A broker's JavaScript heap is small and steady (~8-10 MB live): the data path moves bytes in
 * pooled buffers and the page cache, not in objects. Its garbage is per request (decoded
 * requests, promises, responses: ~10-35 MB/s per broker thread at a few thousand requests/s).
 * docs/server.md, "Heap", has the measurements behind each flag:
 *
 * - `--initial-old-space-size=128`: V8 sizes the old generation's allocation limit from the live
 *   size, so such a heap started incremental marking every few dozen milliseconds under load
 *   (~15 mark-compacts per second per broker thread at 3.75M records/s, 4-14 ms each). Starting
 *   the old generation at 128 MB makes those rare, at the price of up to that much garbage per
 *   thread between collections.
 * - `--min-semi-space-size=16`: the young generation otherwise starts at 1 MB and grows and
 *   shrinks with the load; a broker thread scavenged ~2.7 times a second at half of the
 *   end-to-end peak. Held at 16 MB from the start, about half as often (they copy only what is
 *   live: the requests in flight, so each costs about the same). 16 MB is also the most V8
 *   gives a semi-space on Node 20 and 22 (a larger minimum is cut to it), so the size is the same
 *   on every supported Node. Two semi-spaces: ~32 MB per broker thread, which a loaded thread
 *   grew to anyway.
 * - `--no-parallel-scavenge`: a scavenge otherwise splits its work over V8's helper threads and
 *   waits for all of them; a broker runs one event loop per core (the default broker count), so
 *   those helpers wait for a core held by another broker or a client, and the scavenge with them.
 *   On the event loop alone the longest collections fell from 10-15 ms to 5-8 ms.
 *   (`--single-threaded-gc` did as well from the command line, but set here, after the main
 *   isolate started, it crashed V8 at the main thread's next mark-compact.)
 * - `--no-memory-reducer`: when a heap's allocation rate drops, V8's memory reducer runs
 *   compacting mark-compacts to hand memory back ("Mark-Compact (reduce)"). Two broker threads
 *   with similar histories ran theirs within 17 ms of each other, 16 and 25 ms of pause and 42-60
 *   ms of marking on two cores: a 64-93 ms stall of both brokers in 2 of 3 whole Node 22 runs
 *   (session 18). A server holds its heap, as a JVM does; the old generation is still collected
 *   when it reaches its limit. The flag is read when an isolate's heap is set up, so it holds
 *   for the broker threads started after it is set (the main isolate keeps its reducer).
 *
 * V8 flags are process-wide and apply to isolates created after they are set: call this before
 * the broker workers start. `samsa start` does; a program embedding the cluster may do the same
 * or pass the flags itself. A flag given on the command line or in NODE_OPTIONS (either form,
 * `--x` or `--no-x`, with dashes or underscores) is left as given.
 */
import v8 from 'node:v8';

export const BROKER_INITIAL_OLD_SPACE_MB = 128;
export const BROKER_MIN_SEMI_SPACE_MB = 16;

/** Each flag this process should set: name (as V8 spells it) and the flag itself. */
const BROKER_HEAP_FLAGS: readonly (readonly [name: string, flag: string])[] = [
  ['initial-old-space-size', `--initial-old-space-size=${BROKER_INITIAL_OLD_SPACE_MB}`],
  ['min-semi-space-size', `--min-semi-space-size=${BROKER_MIN_SEMI_SPACE_MB}`],
  ['parallel-scavenge', '--no-parallel-scavenge'],
  ['memory-reducer', '--no-memory-reducer'],
];

/**
 * The name of a command-line V8 flag as V8 reads it (`--no-x=1`, `-nox`, `"--x=1"` -> `x`,
 * underscores as dashes), or undefined if it is none.
 */
function flagName(argument: string): string | undefined {
  const match = /^-{1,2}(?:no[-_]?)?([a-z0-9_-]+)/i.exec(argument.replace(/^["']|["']$/g, ''));
  return match ? match[1]!.replace(/_/g, '-').toLowerCase() : undefined;
}

/** The V8 flags to set: those of BROKER_HEAP_FLAGS that the command line and NODE_OPTIONS do not set. */
export function brokerHeapFlags(execArgv: readonly string[], nodeOptions: string): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map(flagName).filter((name) => name !== undefined));
  return BROKER_HEAP_FLAGS.filter(([name]) => !given.has(name)).map(([, flag]) => flag);
}

export function applyBrokerHeapFlags(): void {
  for (const flag of brokerHeapFlags(process.execArgv, process.env.NODE_OPTIONS ?? '')) v8.setFlagsFromString(flag);
}
