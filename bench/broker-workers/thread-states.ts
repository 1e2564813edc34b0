/**
 * How long a process's threads were blocked in the kernel during a window: every `intervalMs`
 * it reads each thread's state from /proc/<pid>/task/<tid>/stat, and a thread found in state D
 * (uninterruptible: waiting for the disk, or for a lock held by something that is) counts
 * `intervalMs` blocked. The threads that used the most CPU over the sampling are the broker's
 * event loops (one per broker); the rest are libuv's pool (writeback, fsync, page-cache calls)
 * and V8's helpers. A broker event loop in D stalls every request of that broker; a pool thread
 * in D is writeback doing its job unless a loop waits for it.
 *
 * Linux only: where /proc is missing it samples nothing and reports zeros.
 */
import fs from 'node:fs';

export interface BlockedTime {
  /** Milliseconds the busiest `loopThreads` threads were seen in D within the window, summed. */
  loopsMs: number;
  /** The same for every other thread of the process. */
  othersMs: number;
}

interface ThreadStat {
  state: string;
  cpuTicks: number;
}

function readStat(pid: number, tid: string): ThreadStat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // the thread ended, or no /proc
  }
}

function threadIds(pid: number): string[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

export class ThreadStateSampler {
  private readonly timer: NodeJS.Timeout;
  /** Per thread: the epoch ms of each sample that found it in D. */
  private readonly blockedAt = new Map<string, number[]>();
  private readonly cpuAtStart = new Map<string, number>();
  private readonly cpuAtEnd = new Map<string, number>();

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 20,
  ) {
    for (const tid of threadIds(pid)) {
      const stat = readStat(pid, tid);
      if (stat) this.cpuAtStart.set(tid, stat.cpuTicks);
    }
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling; the blocked time within [fromMs, toMs] (epoch ms), loops and others apart. */
  stop(fromMs: number, toMs: number, loopThreads: number): BlockedTime {
    clearInterval(this.timer);
    for (const tid of threadIds(this.pid)) {
      const stat = readStat(this.pid, tid);
      if (stat) this.cpuAtEnd.set(tid, stat.cpuTicks);
    }
    const cpu = (tid: string): number => (this.cpuAtEnd.get(tid) ?? 0) - (this.cpuAtStart.get(tid) ?? 0);
    const loops = new Set([...this.cpuAtEnd.keys()].sort((a, b) => cpu(b) - cpu(a)).slice(0, loopThreads));
    const result: BlockedTime = { loopsMs: 0, othersMs: 0 };
    for (const [tid, times] of this.blockedAt) {
      const ms = times.filter((at) => at >= fromMs && at <= toMs).length * this.intervalMs;
      if (loops.has(tid)) result.loopsMs += ms;
      else result.othersMs += ms;
    }
    return result;
  }

  private sample(): void {
    const now = performance.timeOrigin + performance.now();
    for (const tid of threadIds(this.pid)) {
      if (readStat(this.pid, tid)?.state !== 'D') continue;
      let times = this.blockedAt.get(tid);
      if (!times) this.blockedAt.set(tid, (times = []));
      times.push(now);
    }
  }
}
