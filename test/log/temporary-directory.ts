/**
 * Scratch directories for log tests. They go to /dev/shm when it exists (tmpfs: fsync costs
 * microseconds, so tests that roll thousands of segments stay fast), else the OS temp directory;
 * SAMSA_TEST_TMPDIR overrides both.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function scratchRoot(): string {
  const override = process.env.SAMSA_TEST_TMPDIR;
  if (override) return override;
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export class TemporaryDirectories {
  private readonly created: string[] = [];

  make(prefix = 'samsa-log-'): string {
    const directory = mkdtempSync(path.join(scratchRoot(), prefix));
    this.created.push(directory);
    return directory;
  }

  removeAll(): void {
    for (const directory of this.created.splice(0)) rmSync(directory, { recursive: true, force: true });
  }
}
