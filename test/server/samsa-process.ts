/**
 * Samsa started the way a user starts it: `node bin/samsa.js start ...` as a child process (the
 * compiled CLI in dist/, built by `npm test`'s tsc step). Ports are drawn from a high random
 * range, and another is drawn if the first is taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/samsa.js');
const START_TIMEOUT_MS = 15_000;

export interface SamsaProcess {
  readonly child: ChildProcess;
  readonly port: number;
  stdout: string;
  stderr: string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function randomBasePort(): number {
  return 20_000 + Math.floor(Math.random() * 30_000);
}

function startOnce(args: string[], port: number, brokerCount: number): Promise<SamsaProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port), '--brokers', String(brokerCount), '--host', '127.0.0.1', ...args], {
    env: { ...process.env, SAMSA_LOG_LEVEL: process.env.SAMSA_TEST_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started: SamsaProcess = {
    child,
    port,
    stdout: '',
    stderr: '',
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  child.stdout!.on('data', (chunk: Buffer) => (started.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (started.stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`samsa did not start in time:\n${started.stdout}\n${started.stderr}`));
    }, START_TIMEOUT_MS);
    const check = (): void => {
      if ((started.stdout.match(/listening on/g) ?? []).length === brokerCount) {
        clearTimeout(timer);
        resolve(started);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`samsa exited with ${code}:\n${started.stdout}\n${started.stderr}`));
    });
  });
}

export async function startSamsa(options: { dataDirectory: string; brokerCount: number; port?: number; args?: string[] }): Promise<SamsaProcess> {
  const args = ['--data-dir', options.dataDirectory, ...(options.args ?? [])];
  if (options.port !== undefined) return startOnce(args, options.port, options.brokerCount);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(args, randomBasePort(), options.brokerCount);
    } catch (error) {
      if (attempt >= 5 || !/EADDRINUSE/.test((error as Error).message)) throw error;
    }
  }
}
