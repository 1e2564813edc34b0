/**
 * `samsa group list` and `samsa group describe <group>`: consumer groups of a running cluster,
 * over the Kafka protocol (src/client/admin-client.ts), printed as kafka-consumer-groups prints
 * them (`--list --state`, `--describe`): columns padded to the longest value (at least 15),
 * "-" for what is unknown, and the notes Kafka prints on stderr:
 *
 *   GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID ...
 *   orders          payments        0          7               10              3               client-1-4f2a... /127.0.0.1 client-1
 *
 * Exit codes: 0 done; 1 the cluster said no or could not be reached (unknown group, broker
 * down, timeout); 2 bad usage.
 */
import { AdminClient, type ConsumerGroupDescription, type ListedGroup } from '../client/admin-client.js';
import type { PartitionLag } from '../client/consumer-lag.js';

export const GROUP_USAGE = `usage: samsa group list [--bootstrap-server HOST:PORT] [--timeout MS]
       samsa group describe <group> [--bootstrap-server HOST:PORT] [--timeout MS]

  list       every consumer group of the cluster, with its state and protocol type
  describe   a group's partitions: committed offset, log end offset, lag, and the member holding each
  --bootstrap-server   any broker of the cluster (default localhost:9092)
  --timeout            give up after MS milliseconds (default 10000)`;

/** Where the command writes: stdout lines and stderr lines (the console, or a test's capture). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export interface GroupOptions {
  readonly action: 'list' | 'describe';
  readonly group: string | undefined;
  readonly bootstrapServer: string;
  readonly timeoutMs: number;
}

class UsageError extends Error {}

export function parseGroupArgs(argv: readonly string[]): GroupOptions {
  const [action, ...rest] = argv;
  if (action !== 'list' && action !== 'describe') throw new UsageError(action === undefined ? 'group needs list or describe' : `unknown group command: ${action}`);
  let bootstrapServer = 'localhost:9092';
  let timeoutMs = 10_000;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = (): string => {
      const next = rest[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--bootstrap-server') bootstrapServer = value();
    else if (arg === '--timeout') {
      timeoutMs = Number(value());
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError(`--timeout needs a positive number of milliseconds, got ${rest[i]}`);
    } else if (arg.startsWith('--')) throw new UsageError(`unknown option: ${arg}`);
    else positional.push(arg);
  }
  if (action === 'list' && positional.length > 0) throw new UsageError(`group list takes no group name (got ${positional.join(' ')})`);
  if (action === 'describe' && positional.length !== 1) throw new UsageError('group describe needs exactly one group name');
  return { action, group: positional[0], bootstrapServer, timeoutMs };
}

/** Runs the command; resolves with the exit code. */
export async function runGroup(argv: readonly string[], output: Output = { out: (line) => console.log(line), err: (line) => console.error(line) }): Promise<number> {
  let options: GroupOptions;
  try {
    options = parseGroupArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(`samsa group: ${error.message}\n${GROUP_USAGE}`);
    return 2;
  }
  let admin: AdminClient | undefined;
  try {
    admin = await AdminClient.connect({ bootstrapServer: options.bootstrapServer, timeoutMs: options.timeoutMs, clientId: 'samsa-group-cli' });
    if (options.action === 'list') {
      for (const line of formatGroupList(await admin.listGroups())) output.out(line);
      return 0;
    }
    const description = await admin.describeConsumerGroup(options.group!);
    const printed = formatGroupDescription(description);
    for (const line of printed.err) output.err(line);
    for (const line of printed.out) output.out(line);
    return printed.exists ? 0 : 1;
  } catch (error) {
    output.err(`Error: ${(error as Error).message}`);
    return 1;
  } finally {
    admin?.close();
  }
}

/** `kafka-consumer-groups --list --state`, with the protocol type as a third column. */
export function formatGroupList(groups: readonly ListedGroup[]): string[] {
  const width = Math.max(15, ...groups.map((group) => group.groupId.length));
  const stateWidth = Math.max(15, ...groups.map((group) => group.state.length));
  const line = (group: string, state: string, protocolType: string) => `${group.padEnd(width)} ${state.padEnd(stateWidth)} ${protocolType}`.trimEnd();
  return [line('GROUP', 'STATE', 'PROTOCOL-TYPE'), ...groups.map((group) => line(group.groupId, group.state || '-', group.protocolType || '-'))];
}

const MISSING = '-';
const show = (value: bigint | number | string | undefined): string => (value === undefined ? MISSING : String(value));

/**
 * `kafka-consumer-groups --describe`: notes for stderr (no members, rebalancing, no such group)
 * and the table for stdout (empty when there is no row, as Kafka prints none then).
 */
export function formatGroupDescription(group: ConsumerGroupDescription): { out: string[]; err: string[]; exists: boolean } {
  const name = group.groupId;
  if (group.state === 'Dead') return { out: [], err: [`Error: Consumer group '${name}' does not exist.`], exists: false };
  const err: string[] = [];
  if (group.state === 'Empty') err.push(`Consumer group '${name}' has no active members.`);
  else if (group.state === 'PreparingRebalance' || group.state === 'CompletingRebalance') err.push(`Warning: Consumer group '${name}' is rebalancing.`);
  const rows = group.partitions;
  if (rows.length === 0) return { out: [], err, exists: true };
  const widthOf = (values: (string | undefined)[]) => Math.max(15, ...values.map((value) => (value ?? MISSING).length));
  const groupWidth = widthOf([name]);
  const topicWidth = widthOf(rows.map((row) => row.topic));
  const memberWidth = widthOf(rows.map((row) => row.memberId));
  const hostWidth = widthOf(rows.map((row) => row.clientHost));
  const line = (cells: readonly string[]) => {
    const widths = [groupWidth, topicWidth, 10, 15, 15, 15, memberWidth, hostWidth];
    return cells.map((cell, index) => (index < widths.length ? cell.padEnd(widths[index]!) : cell)).join(' ').trimEnd();
  };
  const out = [
    '',
    line(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']),
    ...rows.map((row: PartitionLag) => line([name, row.topic, show(row.partition), show(row.currentOffset), show(row.logEndOffset), show(row.lag), show(row.memberId), show(row.clientHost), show(row.clientId)])),
  ];
  return { out, err, exists: true };
}
