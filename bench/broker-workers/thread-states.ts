/**
 * How long a process's threads were blocked in the kernel during a window: every `intervalMs`
 * it reads each thread's state from /proc/<pid>/task/<tid>/stat, and a thread found in state D
 * (uninterruptible: waiting for the disk, or for a lock held by something that is) counts
 * `intervalMs` blocked. The threads that used the most CPU over the sampling are the broker's
 * event loops (one per broker); the rest are libuv's pool (writeback, fsync, page-cache calls)
 * and V8's helpers. A broker event loop in D stalls every request of that broker; a pool thread
 * in D is writeback doing its job unless a loop waits for it.
 *
 * A thread found in D also has its kernel stack read (/proc/<pid>/task/<tid>/stack, root only),
 * so that a case whose event loops were blocked says where: the innermost frames of the stacks
 * seen, with how long each was seen.
 *
 * Every sample of every thread's state is kept too (with, for a sleeping thread, the kernel
 * function it sleeps in: /proc/.../wchan), so that the worst moment of a case can be looked at
 * afterwards: were the event loops running (R), waiting for input (S in ep_poll) or blocked (D)?
 *
 * Linux only: where /proc is missing it samples nothing and reports zeros.
 */
import fs from 'node:fs';

export interface BlockedTime {
  /** Milliseconds the busiest `loopThreads` threads were seen in D within the window, summed. */
  loopsMs: number;
  /** The same for every other thread of the process. */
  othersMs: number;
  /** Where the event loops were blocked: kernel stacks (innermost frames) and ms seen, longest first; empty when unreadable. */
  loopStacks: { stack: string; ms: number }[];
}

/** Frames kept from the innermost end of a kernel stack. */
const STACK_FRAMES = 4;
/** Samples in D kept per thread (a sampler lives for one case: ~10 s, 50 samples a second). */
const SAMPLES_PER_THREAD_MAX = 10_000;

/** The kernel function a sleeping thread waits in ('ep_poll', 'futex_wait_queue'...), or undefined. */
function readWchan(pid: number, tid: string): string | undefined {
  try {
    const name = fs.readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'latin1').trim();
    return name === '' || name === '0' ? undefined : name.replace(/\.constprop\.\d+$/, '');
  } catch {
    return undefined;
  }
}

/** Kernel stacks are readable (root); false after the first refusal, so that nobody else pays for a failing read per sample. */
let stacksReadable = true;

/** The innermost frames of a thread's kernel stack, as 'a < b < c', or undefined when unreadable. */
function readKernelStack(pid: number, tid: string): string | undefined {
  if (!stacksReadable) return undefined;
  try {
    const frames = fs.readFileSync(`/proc/${pid}/task/${tid}/stack`, 'latin1').split('\n')
      .map((line) => /\]\s+([^+\s]+)/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    return frames.length > 0 ? frames.slice(0, STACK_FRAMES).join(' < ') : undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') stacksReadable = false;
    return undefined; // or the thread ended
  }
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
  /** Per thread: the epoch ms of each sample that found it in D, and its kernel stack then. */
  private readonly blockedAt = new Map<string, { at: number; stack: string | undefined }[]>();
  private readonly cpuAtStart = new Map<string, number>();
  private readonly cpuAtEnd = new Map<string, number>();
  /** Per thread: every sample (epoch ms, state, and where it slept when in S). */
  private readonly states = new Map<string, { at: number; state: string; wchan: string | undefined }[]>();
  /** The event loops, known once stop() has run. */
  private loops = new Set<string>();

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
    this.loops = loops;
    const result: BlockedTime = { loopsMs: 0, othersMs: 0, loopStacks: [] };
    const loopStacks = new Map<string, number>();
    for (const [tid, samples] of this.blockedAt) {
      const inWindow = samples.filter((sample) => sample.at >= fromMs && sample.at <= toMs);
      const ms = inWindow.length * this.intervalMs;
      if (!loops.has(tid)) {
        result.othersMs += ms;
        continue;
      }
      result.loopsMs += ms;
      for (const { stack } of inWindow) if (stack) loopStacks.set(stack, (loopStacks.get(stack) ?? 0) + this.intervalMs);
    }
    result.loopStacks = [...loopStacks].map(([stack, ms]) => ({ stack, ms })).sort((a, b) => b.ms - a.ms);
    return result;
  }

  /**
   * After stop(): what the event loops were seen doing within [fromMs, toMs], one entry per loop,
   * busiest first, as 'R 3, S 5 (ep_poll 5)': samples in each state, where the sleeping ones slept.
   */
  loopStatesBetween(fromMs: number, toMs: number): string[] {
    return [...this.loops].map((tid) => {
      const seen = (this.states.get(tid) ?? []).filter((sample) => sample.at >= fromMs && sample.at <= toMs);
      const byState = new Map<string, number>();
      const byWchan = new Map<string, number>();
      for (const sample of seen) {
        byState.set(sample.state, (byState.get(sample.state) ?? 0) + 1);
        if (sample.state === 'S' && sample.wchan) byWchan.set(sample.wchan, (byWchan.get(sample.wchan) ?? 0) + 1);
      }
      const slept = [...byWchan].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([name, count]) => `${name} ${count}`).join(', ');
      return [...byState].sort((a, b) => a[0].localeCompare(b[0])).map(([state, count]) => `${state} ${count}${state === 'S' && slept ? ` (${slept})` : ''}`).join(', ') || 'no samples';
    });
  }

  private sample(): void {
    const now = performance.timeOrigin + performance.now();
    for (const tid of threadIds(this.pid)) {
      const state = readStat(this.pid, tid)?.state;
      if (state === undefined) continue;
      let kept = this.states.get(tid);
      if (!kept) this.states.set(tid, (kept = []));
      if (kept.length < SAMPLES_PER_THREAD_MAX) kept.push({ at: now, state, wchan: state === 'S' ? readWchan(this.pid, tid) : undefined });
      if (state !== 'D') continue;
      let samples = this.blockedAt.get(tid);
      if (!samples) this.blockedAt.set(tid, (samples = []));
      if (samples.length >= SAMPLES_PER_THREAD_MAX) continue;
      // The stack counts only if the thread was still in D after it was read.
      const stack = readKernelStack(this.pid, tid);
      samples.push({ at: now, stack: stack !== undefined && readStat(this.pid, tid)?.state === 'D' ? stack : undefined });
    }
  }
}
