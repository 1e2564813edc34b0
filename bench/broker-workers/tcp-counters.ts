/**
 * The host's TCP counters (/proc/net/snmp and /proc/net/netstat) over a window, to tell a stall
 * of the loopback TCP (a retransmission timeout waits at least RtoMin, 200 ms) from one of the
 * broker. They count every TCP socket of the host; during a case the bench's are the only busy
 * ones. Read every SAMPLE_MS, so each change is placed in a second of the window to within that.
 */
import { readFileSync } from 'node:fs';

const SAMPLE_MS = 200;
/** Samples kept; a sampler lives for one case (~10 s, 50 samples). */
const KEPT_MAX = 1024;

/** The counters reported, by the name /proc gives them ("Tcp" or "TcpExt" prefix). */
export const TCP_COUNTERS = {
  retransmits: 'Tcp.RetransSegs',
  timeouts: 'TcpExt.TCPTimeouts',
  lossProbes: 'TcpExt.TCPLossProbes',
  reordered: 'TcpExt.TCPSACKReorder',
  zeroWindows: 'TcpExt.TCPToZeroWindowAdv',
  pruned: 'TcpExt.PruneCalled',
} as const;
export type TcpCounterName = keyof typeof TCP_COUNTERS;
export type TcpCounts = Record<TcpCounterName, number>;

/** The named counters now; undefined where /proc does not have them (not Linux). */
export function readTcpCounters(): TcpCounts | undefined {
  const values = new Map<string, number>();
  try {
    for (const file of ['/proc/net/snmp', '/proc/net/netstat']) {
      const lines = readFileSync(file, 'utf8').split('\n');
      // Pairs of lines: "Prefix: name name ..." then "Prefix: value value ...".
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const names = lines[i]!.split(' ');
        const numbers = lines[i + 1]!.split(' ');
        const prefix = names[0]!.replace(':', '');
        for (let j = 1; j < names.length && j < numbers.length; j++) values.set(`${prefix}.${names[j]}`, Number(numbers[j]));
      }
    }
  } catch {
    return undefined;
  }
  const counts = {} as TcpCounts;
  for (const [name, key] of Object.entries(TCP_COUNTERS) as [TcpCounterName, string][]) counts[name] = values.get(key) ?? 0;
  return counts;
}

export interface TcpWindow {
  /** Each counter's increase over the window. */
  readonly totals: TcpCounts;
  /** Retransmission timeouts in each second of the window (index 0 = its first second). */
  readonly timeoutsBySecond: number[];
}

export class TcpCounterSampler {
  private readonly samples: { at: number; counts: TcpCounts }[] = [];
  private readonly timer: NodeJS.Timeout | undefined;

  constructor() {
    if (!this.sample()) return;
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  /** Stops; what changed between `startMs` and `endMs` (epoch ms), or undefined without /proc. */
  stop(startMs: number, endMs: number): TcpWindow | undefined {
    clearInterval(this.timer);
    this.sample();
    const inWindow = this.samples.filter((s) => s.at >= startMs - SAMPLE_MS && s.at <= endMs + SAMPLE_MS);
    if (inWindow.length < 2) return undefined;
    const first = inWindow[0]!.counts;
    const last = inWindow[inWindow.length - 1]!.counts;
    const totals = {} as TcpCounts;
    for (const name of Object.keys(TCP_COUNTERS) as TcpCounterName[]) totals[name] = last[name] - first[name];
    const timeoutsBySecond = Array.from({ length: Math.max(1, Math.round((endMs - startMs) / 1000)) }, () => 0);
    for (let i = 1; i < inWindow.length; i++) {
      const added = inWindow[i]!.counts.timeouts - inWindow[i - 1]!.counts.timeouts;
      const second = Math.min(timeoutsBySecond.length - 1, Math.max(0, Math.floor((inWindow[i]!.at - startMs) / 1000)));
      timeoutsBySecond[second]! += added;
    }
    return { totals, timeoutsBySecond };
  }

  private sample(): boolean {
    const counts = readTcpCounters();
    if (!counts) return false;
    if (this.samples.length >= KEPT_MAX) this.samples.shift();
    this.samples.push({ at: performance.timeOrigin + performance.now(), counts });
    return true;
  }
}

/** One line's worth: "retransmits 12, RTO timeouts 1 (per second 0 0 1 0), loss probes 3, ...". */
export function describeTcpWindow(window: TcpWindow | undefined): string {
  if (!window) return 'TCP counters: not available';
  const t = window.totals;
  return `host TCP in the window: retransmits ${t.retransmits}, RTO timeouts ${t.timeouts} (per second ${window.timeoutsBySecond.join(' ')}), loss probes ${t.lossProbes}, ` +
    `reorderings ${t.reordered}, zero-window adverts ${t.zeroWindows}, receive-queue prunes ${t.pruned}`;
}
