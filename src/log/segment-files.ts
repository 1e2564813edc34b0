/**
 * Naming and housekeeping of the files in a partition directory.
 *
 *   <base>.log / .index / .timeindex   a segment
 *   <base>.log.cleaned                 compaction output being written: incomplete, deleted
 *   <base>.log.swap                    complete, fsynced compaction output: a crash left the
 *                                      swap unfinished, so it replaces <base>.log on open
 *   *.tmp                              an atomic small-file write cut short: deleted
 *   *.deleted                          a segment file whose deletion a crash cut short: deleted
 */
import path from 'node:path';
import type { LogFileSystem } from './log-file-system.js';

const SEGMENT_LOG = /^(\d{20})\.log$/;
const SEGMENT_INDEX = /^(\d{20})\.(index|timeindex)$/;

export function listSegmentBaseOffsets(fs: LogFileSystem, directory: string): number[] {
  return fs
    .readdir(directory)
    .map((name) => SEGMENT_LOG.exec(name)?.[1])
    .filter((base): base is string => base !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Finishes or discards what a crash interrupted, before the segments are opened. */
export function completeInterruptedSwaps(fs: LogFileSystem, directory: string): void {
  const names = fs.readdir(directory);
  const logs = new Set(names.filter((name) => SEGMENT_LOG.test(name)));
  for (const name of names) {
    const file = path.join(directory, name);
    if (name.endsWith('.log.cleaned') || name.endsWith('.tmp') || name.endsWith('.deleted')) {
      fs.unlink(file);
    } else if (name.endsWith('.log.swap')) {
      const logName = name.slice(0, -'.swap'.length);
      const base = logName.slice(0, -'.log'.length);
      fs.unlink(path.join(directory, `${base}.index`));
      fs.unlink(path.join(directory, `${base}.timeindex`));
      fs.rename(file, path.join(directory, logName));
      logs.add(logName);
    }
  }
  // Index files whose segment is gone (a deletion cut short).
  for (const name of fs.readdir(directory)) {
    const match = SEGMENT_INDEX.exec(name);
    if (match && !logs.has(`${match[1]}.log`)) fs.unlink(path.join(directory, name));
  }
}
