/**
 * A LogFileSystem that wraps another (the real disk by default) and injects the faults a disk
 * shows in production: a write that stops after N bytes with ENOSPC, EIO or EACCES (the bytes
 * before the fault are on the file, as with a real short write); an fsync failing with EIO; an
 * open refused with EACCES; a truncate failing. It also counts fsyncs and tracks, per file, how
 * many bytes a completed fsync covers, so group commit can be checked; and it can hold fsyncs
 * until the test releases them.
 *
 * `crash()` stands in for a killed process: it closes every descriptor this instance opened
 * without writing anything more (no index persisted, no marker), and any later call through it
 * throws, so a test cannot keep using a "dead" log by mistake.
 */
import { nodeFileSystem, type LogFileSystem } from '../../src/log/log-file-system.js';

export type FaultCode = 'ENOSPC' | 'EIO' | 'EACCES';

export type PathFilter = (path: string) => boolean;

const anyPath: PathFilter = () => true;

export interface WriteFault {
  readonly code: FaultCode;
  /** Bytes the disk still takes, over all matching writes, before the fault. */
  bytesBeforeFault: number;
  readonly paths: PathFilter;
}

export interface SimpleFault {
  readonly code: FaultCode;
  readonly paths: PathFilter;
}

export function injectedError(code: FaultCode, syscall: string, path: string): NodeJS.ErrnoException {
  const errno = { ENOSPC: -28, EIO: -5, EACCES: -13 }[code];
  return Object.assign(new Error(`${code}: injected fault, ${syscall} '${path}'`), { code, errno, syscall, path });
}

interface HeldFsync {
  readonly path: string;
  release(): void;
}

export class FaultyFileSystem implements LogFileSystem {
  writeFault: WriteFault | undefined;
  fsyncFault: SimpleFault | undefined;
  openFault: SimpleFault | undefined;
  truncateFault: SimpleFault | undefined;
  /** fsync calls made through this file system (not the ones inside writeFileAtomic). */
  fsyncCalls = 0;
  /** fsyncDirectory calls made through this file system (not the ones inside writeFileAtomic). */
  directoryFsyncCalls = 0;
  /** When true, fsyncs wait in `heldFsyncs` until released. */
  holdFsyncs = false;
  readonly heldFsyncs: HeldFsync[] = [];
  private readonly paths = new Map<number, string>();
  /** Per file: the size it had when the latest completed fsync on it started. */
  private readonly durable = new Map<string, number>();
  private crashed = false;

  constructor(private readonly inner: LogFileSystem = nodeFileSystem) {}

  /** Clears every injected fault (the disk is healthy again). */
  heal(): void {
    this.writeFault = undefined;
    this.fsyncFault = undefined;
    this.openFault = undefined;
    this.truncateFault = undefined;
  }

  failWrites(code: FaultCode, bytesBeforeFault: number, paths: PathFilter = anyPath): void {
    this.writeFault = { code, bytesBeforeFault, paths };
  }

  failFsyncs(code: FaultCode, paths: PathFilter = anyPath): void {
    this.fsyncFault = { code, paths };
  }

  failOpens(code: FaultCode, paths: PathFilter = anyPath): void {
    this.openFault = { code, paths };
  }

  failTruncates(code: FaultCode, paths: PathFilter = anyPath): void {
    this.truncateFault = { code, paths };
  }

  /** Bytes of `path` that a completed fsync covers (0 if none). */
  durableBytes(path: string): number {
    return this.durable.get(path) ?? 0;
  }

  releaseHeldFsyncs(): number {
    const held = this.heldFsyncs.splice(0);
    for (const fsync of held) fsync.release();
    return held.length;
  }

  /** Simulates a killed process: closes this instance's descriptors, then refuses all calls. */
  crash(): void {
    for (const fd of this.paths.keys()) {
      try {
        this.inner.close(fd);
      } catch {
        // Already closed.
      }
    }
    this.paths.clear();
    this.crashed = true;
  }

  get openDescriptors(): number {
    return this.paths.size;
  }

  open(path: string, flags: 'r+' | 'w+' | 'a+' | 'r'): number {
    this.checkAlive();
    if (this.openFault?.paths(path)) throw injectedError(this.openFault.code, 'open', path);
    const fd = this.inner.open(path, flags);
    this.paths.set(fd, path);
    return fd;
  }

  close(fd: number): void {
    this.checkAlive();
    this.paths.delete(fd);
    this.inner.close(fd);
  }

  size(fd: number): number {
    this.checkAlive();
    return this.inner.size(fd);
  }

  write(fd: number, bytes: Uint8Array, position: number): void {
    this.checkAlive();
    const path = this.pathOf(fd);
    const fault = this.writeFault;
    if (fault && fault.paths(path)) {
      if (bytes.byteLength > fault.bytesBeforeFault) {
        const partial = fault.bytesBeforeFault;
        fault.bytesBeforeFault = 0;
        if (partial > 0) this.inner.write(fd, bytes.subarray(0, partial), position);
        throw injectedError(fault.code, 'write', path);
      }
      fault.bytesBeforeFault -= bytes.byteLength;
    }
    this.inner.write(fd, bytes, position);
  }

  read(fd: number, target: Uint8Array, position: number, length: number): number {
    this.checkAlive();
    return this.inner.read(fd, target, position, length);
  }

  truncate(fd: number, length: number): void {
    this.checkAlive();
    const path = this.pathOf(fd);
    if (this.truncateFault?.paths(path)) throw injectedError(this.truncateFault.code, 'ftruncate', path);
    this.inner.truncate(fd, length);
    const durable = this.durable.get(path);
    if (durable !== undefined && durable > length) this.durable.set(path, length);
  }

  async fsync(fd: number): Promise<void> {
    this.checkAlive();
    this.fsyncCalls++;
    const path = this.pathOf(fd);
    const sizeAtStart = this.inner.size(fd);
    if (this.holdFsyncs) {
      await new Promise<void>((release) => this.heldFsyncs.push({ path, release }));
    }
    if (this.fsyncFault?.paths(path)) throw injectedError(this.fsyncFault.code, 'fsync', path);
    await this.inner.fsync(fd);
    this.durable.set(path, Math.max(this.durable.get(path) ?? 0, sizeAtStart));
  }

  exists(path: string): boolean {
    this.checkAlive();
    return this.inner.exists(path);
  }

  readFile(path: string): Uint8Array {
    this.checkAlive();
    return this.inner.readFile(path);
  }

  writeFileAtomic(path: string, bytes: Uint8Array): void {
    this.checkAlive();
    const fault = this.writeFault;
    if (fault && fault.paths(path)) {
      // The temp file takes the fault; the rename never happens, so `path` is untouched.
      if (bytes.byteLength > fault.bytesBeforeFault) {
        fault.bytesBeforeFault = 0;
        throw injectedError(fault.code, 'write', `${path}.tmp`);
      }
      fault.bytesBeforeFault -= bytes.byteLength;
    }
    if (this.openFault?.paths(path)) throw injectedError(this.openFault.code, 'open', `${path}.tmp`);
    this.inner.writeFileAtomic(path, bytes);
  }

  rename(from: string, to: string): void {
    this.checkAlive();
    this.inner.rename(from, to);
  }

  unlink(path: string): void {
    this.checkAlive();
    this.inner.unlink(path);
  }

  readdir(path: string): string[] {
    this.checkAlive();
    return this.inner.readdir(path);
  }

  mkdir(path: string): void {
    this.checkAlive();
    this.inner.mkdir(path);
  }

  rmdir(path: string): void {
    this.checkAlive();
    this.inner.rmdir(path);
  }

  fsyncDirectory(path: string): void {
    this.checkAlive();
    this.directoryFsyncCalls++;
    this.inner.fsyncDirectory(path);
  }

  private pathOf(fd: number): string {
    return this.paths.get(fd) ?? `<fd ${fd}>`;
  }

  private checkAlive(): void {
    if (this.crashed) throw new Error('this file system belongs to a crashed process');
  }
}
