/**
 * A bench's handle on one of its worker threads: post commands, await reports in order, fail
 * fast when the worker reports `failed` or dies, and leave cleanly (terminate only as a fallback).
 * Shared by bench/runtime.ts and bench/broker.ts.
 */
import { Worker, type Transferable } from 'node:worker_threads';

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type AnyReport = { op: string; error?: string };

export class BenchWorker<Command extends { op: string }, Report extends AnyReport> {
  readonly worker: Worker;
  private readonly inbox: Report[] = [];
  private waiter: ((report: Report) => void) | undefined;
  private failure: Error | undefined;
  private failWaiter: ((error: Error) => void) | undefined;
  private readonly exited: Promise<number>;

  constructor(readonly name: string, script: URL) {
    this.worker = new Worker(script);
    this.worker.on('message', (report: Report) => {
      if (report.op === 'failed') this.fail(new Error(`${name}: ${report.error}`));
      else if (this.waiter) {
        const waiter = this.waiter;
        this.waiter = undefined;
        waiter(report);
      } else this.inbox.push(report);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
  }

  post(command: Command, transfer: Transferable[] = []): void {
    this.worker.postMessage(command, transfer);
  }

  /** The next report, which must be `op`; bounded by `timeoutMs` when given. */
  expect<K extends Report['op']>(op: K, timeoutMs?: number): Promise<Extract<Report, { op: K }>> {
    if (this.failure) return Promise.reject(this.failure);
    const check = (report: Report): Extract<Report, { op: K }> => {
      if (report.op !== op) throw new Error(`${this.name}: expected ${op}, got ${report.op}`);
      return report as Extract<Report, { op: K }>;
    };
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(check(queued));
    const next = new Promise<Extract<Report, { op: K }>>((resolve, reject) => {
      this.failWaiter = reject;
      this.waiter = (report) => {
        try {
          resolve(check(report));
        } catch (error) {
          reject(error as Error);
        }
      };
    });
    return timeoutMs === undefined ? next : withTimeout(next, timeoutMs, `${this.name} ${op}`);
  }

  /** Asks the worker to leave on its own; terminates it if it does not within 5 s (returns -1). */
  async exit(): Promise<number> {
    this.post({ op: 'exit' } as Command);
    try {
      return await withTimeout(this.exited, 5000, `${this.name} exit`);
    } catch {
      console.error(`bench: ${this.name} did not exit cleanly; terminating it`);
      await this.worker.terminate();
      return -1;
    }
  }

  private fail(error: Error): void {
    this.failure = error;
    this.failWaiter?.(error);
  }
}
