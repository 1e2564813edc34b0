/**
 * The disk, behind an interface: the log does all its file I/O through this, so tests can inject
 * faults (ENOSPC, EIO, EACCES after N bytes) and the deterministic runtime can later simulate it.
 *
 * Writes and reads go to the page cache and are synchronous (a few microseconds for a batch);
 * fsync, which can take milliseconds, is asynchronous so appenders keep going while it runs and
 * share it (group commit). Writes use the native addon's pwrite where it is built: the same
 * one system call per batch as fs.writeSync, without its ~0.4 µs of argument checks
 * (docs/log.md, "Append cost"). On Linux the addon also starts writeback early and evicts
 * written pages (write-behind.ts); without it those are absent and the kernel decides.
 */
import fs from 'node:fs';
import { nativeAddon, type PageCacheCall } from './native-addon.js';

function writeWithNode(fd: number, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.byteLength) {
    written += fs.writeSync(fd, bytes, written, bytes.byteLength - written, position + written);
  }
}

/**
 * Removals on the thread pool run one at a time: freeing a large file's blocks may wait seconds
 * for the device (discards behind other discards), and the pool's four threads also serve fsync,
 * writeback and reads ahead, which must not all wait behind removals.
 */
let removals: Promise<void> = Promise.resolve();
function queueRemoval(op: (done: () => void) => void): void {
  removals = removals.then(() => new Promise<void>((resolve) => op(resolve)));
}

export interface LogFileSystem {
  open(path: string, flags: 'r+' | 'w+' | 'a+' | 'r'): number;
  close(fd: number): void;
  /**
   * Creates (or empties) and opens a file on the thread pool: creating a file may read inode
   * bitmaps from disk, which the caller's thread should not wait for. Absent: `open`, at once.
   */
  createInBackground?(path: string, done: (error: Error | null, fd: number) => void): void;
  /**
   * Closes on the thread pool: the last close of a file already unlinked or renamed over frees
   * its blocks, which on a file system mounted with `discard` waits for the device. Removals
   * (this, unlinkInBackground, rmdirInBackground) run one at a time.
   */
  closeInBackground?(fd: number): void;
  /** Unlinks on the thread pool (the blocks of a closed file are freed by it), ignoring errors. */
  unlinkInBackground?(path: string): void;
  /** Removes a directory and everything in it on the thread pool, ignoring errors. */
  rmdirInBackground?(path: string): void;
  size(fd: number): number;
  /** Writes all of `bytes` at `position`. */
  write(fd: number, bytes: Uint8Array, position: number): void;
  /** Reads up to `length` bytes at `position` into `target`; returns the bytes read. */
  read(fd: number, target: Uint8Array, position: number, length: number): number;
  truncate(fd: number, length: number): void;
  fsync(fd: number): Promise<void>;
  /**
   * Starts writeback of a range (write-behind.ts), off this thread; `done` gets its error or
   * null. Absent where unsupported.
   */
  startWriteback?: PageCacheCall;
  /** Waits until a range is on disk, then drops it from the page cache (write-behind.ts), off this thread like startWriteback. */
  evictWritten?: PageCacheCall;
  /** Starts reading a range into the page cache (write-behind.ts), off this thread like startWriteback. */
  readAhead?: PageCacheCall;
  /** Allocates a range's disk blocks without changing the size (write-behind.ts), off this thread like startWriteback. */
  preallocate?: PageCacheCall;
  /**
   * Gives back the blocks allocated past `position`, the file's size (ftruncate to it), off this
   * thread like startWriteback; `length` is unused. Nothing may write to the file meanwhile.
   */
  releaseAllocation?: PageCacheCall;
  exists(path: string): boolean;
  readFile(path: string): Uint8Array;
  /**
   * writeFileAtomic on the thread pool (temp file `<path>.bg.tmp`), for periodic writes that the
   * caller's thread should not wait for: each fsync waits for the device. Absent: writeFileAtomic.
   */
  writeFileAtomicInBackground?(path: string, bytes: Uint8Array): Promise<void>;
  /** Writes a whole small file atomically: temp file, fsync, rename, fsync of the directory. */
  writeFileAtomic(path: string, bytes: Uint8Array): void;
  rename(from: string, to: string): void;
  unlink(path: string): void;
  readdir(path: string): string[];
  mkdir(path: string): void;
  rmdir(path: string): void;
  fsyncDirectory(path: string): void;
}

/** Closes a file that is going away: on the thread pool where the file system can (closeInBackground), else at once. */
export function closeGoingAway(fileSystem: LogFileSystem, fd: number): void {
  if (fileSystem.closeInBackground) fileSystem.closeInBackground(fd);
  else fileSystem.close(fd);
}

/** Unlinks a closed file on the thread pool where the file system can (unlinkInBackground), else at once. */
export function unlinkGoingAway(fileSystem: LogFileSystem, file: string): void {
  if (fileSystem.unlinkInBackground) fileSystem.unlinkInBackground(file);
  else fileSystem.unlink(file);
}

export const nodeFileSystem: LogFileSystem = {
  open: (path, flags) => fs.openSync(path, flags),
  close: (fd) => fs.closeSync(fd),
  createInBackground: (path, done) => fs.open(path, 'w+', (error, fd) => done(error, fd)),
  closeInBackground: (fd) => queueRemoval((done) => fs.close(fd, () => done())),
  unlinkInBackground: (path) => queueRemoval((done) => fs.rm(path, { force: true }, () => done())),
  rmdirInBackground: (path) => queueRemoval((done) => fs.rm(path, { recursive: true, force: true }, () => done())),
  size: (fd) => fs.fstatSync(fd).size,
  write: nativeAddon?.writeAt ?? writeWithNode,
  read: (fd, target, position, length) => fs.readSync(fd, target, 0, length, position),
  truncate: (fd, length) => fs.ftruncateSync(fd, length),
  fsync: (fd) =>
    new Promise((resolve, reject) => {
      fs.fsync(fd, (error) => (error ? reject(error) : resolve()));
    }),
  startWriteback: nativeAddon?.startWriteback,
  evictWritten: nativeAddon?.evictWritten,
  readAhead: nativeAddon?.readAhead,
  preallocate: nativeAddon?.preallocate,
  releaseAllocation: (fd, position, _length, done) => fs.ftruncate(fd, position, done),
  exists: (path) => fs.existsSync(path),
  readFile: (path) => fs.readFileSync(path),
  writeFileAtomic(path, bytes) {
    const temporary = `${path}.tmp`;
    const fd = fs.openSync(temporary, 'w');
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, path);
    nodeFileSystem.fsyncDirectory(path.slice(0, path.lastIndexOf('/')) || '/');
  },
  async writeFileAtomicInBackground(path, bytes) {
    const temporary = `${path}.bg.tmp`;
    const file = await fs.promises.open(temporary, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.promises.rename(temporary, path);
    const directory = await fs.promises.open(path.slice(0, path.lastIndexOf('/')) || '/', 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  },
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (path) => fs.rmSync(path, { force: true }),
  readdir: (path) => fs.readdirSync(path),
  mkdir: (path) => fs.mkdirSync(path, { recursive: true }),
  rmdir: (path) => fs.rmSync(path, { recursive: true, force: true }),
  fsyncDirectory(path) {
    const fd = fs.openSync(path, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
};
