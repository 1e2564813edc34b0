/**
 * A bench's temporary data directory, removed on every way out: normal exit, SIGINT/SIGTERM
 * (exit 130) and the bench's global timeout (exit 2). `beforeRemove` runs first (e.g. killing a
 * broker child that still writes there).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ScratchDirectory {
  readonly path: string;
  /** Removes the directory (once); safe to call again. */
  cleanup(): void;
  /** Stops the global timer (call when the bench ends). */
  disarm(): void;
}

export function scratchDirectory(prefix: string, globalTimeoutMs: number, beforeRemove: () => void = () => undefined): ScratchDirectory {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    beforeRemove();
    try {
      fs.rmSync(directory, { recursive: true, force: true });
    } catch (error) {
      console.error(`bench: could not remove ${directory}: ${(error as Error).message}`);
    }
  };
  process.on('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      console.error(`bench: ${signal}; removing ${directory}`);
      cleanup();
      process.exit(130);
    });
  }
  const timer = setTimeout(() => {
    console.error(`bench: global timeout of ${globalTimeoutMs / 1000} s exceeded`);
    cleanup();
    process.exit(2);
  }, globalTimeoutMs);
  return { path: directory, cleanup, disarm: () => clearTimeout(timer) };
}

/**
 * Runs a bench's `main`, then removes its scratch directory; on failure prints the error and
 * exits with 1 at once (worker threads left running by a failure would keep the process alive).
 */
export function runBench(main: () => Promise<void>, scratch: ScratchDirectory): void {
  main()
    .catch((error: unknown) => {
      console.error('bench failed:', error);
      process.exitCode = 1;
    })
    .finally(() => {
      scratch.disarm();
      scratch.cleanup();
      if (process.exitCode) process.exit();
    });
}
