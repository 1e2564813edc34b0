import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../src/log/log-file-system.js';
import { nativeAddon } from '../../src/log/native-addon.js';
import { TemporaryDirectories } from './temporary-directory.js';

const writeAt = nativeAddon?.writeAt;
const directories = new TemporaryDirectories();
afterEach(() => directories.removeAll());

describe('native addon: writeAt (the log file system write where the addon is built)', () => {
  it('is what nodeFileSystem.write uses when the addon is there', () => {
    if (writeAt) expect(nodeFileSystem.write).toBe(writeAt);
    else expect(nodeFileSystem.write.name).toBe('writeWithNode');
  });

  it('writes all bytes at the position, past the end and over existing bytes', () => {
    {
      const directory = directories.make();
      const file = `${directory}/segment.log`;
      const fd = nodeFileSystem.open(file, 'w+');
      try {
        const bytes = new Uint8Array(70_000).map((_, i) => i * 7);
        nodeFileSystem.write(fd, bytes, 0);
        nodeFileSystem.write(fd, bytes.subarray(5, 9), 100_000); // leaves a hole, as a pwrite does
        nodeFileSystem.write(fd, new Uint8Array([1, 2, 3]), 10);
        nodeFileSystem.write(fd, new Uint8Array(0), 5);
        const onDisk = fs.readFileSync(file);
        expect(onDisk.byteLength).toBe(100_004);
        expect([...onDisk.subarray(8, 15)]).toEqual([bytes[8], bytes[9], 1, 2, 3, bytes[13], bytes[14]]);
        expect([...onDisk.subarray(100_000)]).toEqual([...bytes.subarray(5, 9)]);
        expect(Buffer.compare(onDisk.subarray(20, 70_000), Buffer.from(bytes.subarray(20)))).toBe(0);
      } finally {
        nodeFileSystem.close(fd);
      }
    }
  });

  it('throws errors shaped like Node fs errors (code, errno, syscall)', () => {
    if (!writeAt) return;
    {
      const directory = directories.make();
      const fd = fs.openSync(`${directory}/read-only`, 'w+');
      fs.closeSync(fd);
      const readOnly = fs.openSync(`${directory}/read-only`, 'r');
      try {
        expect(() => writeAt(readOnly, new Uint8Array(4), 0)).toThrow(expect.objectContaining({ code: 'EBADF', errno: -9, syscall: 'write' }));
      } finally {
        fs.closeSync(readOnly);
      }
      expect(() => writeAt(fd, new Uint8Array(4), 0)).toThrow(expect.objectContaining({ code: 'EBADF' })); // closed
    }
  });

  it('refuses bad arguments', () => {
    if (!writeAt) return;
    const bad = writeAt as unknown as (...args: unknown[]) => void;
    expect(() => bad(1, new Uint16Array(2), 0)).toThrow(TypeError);
    expect(() => bad(1, new Uint8Array(2), -1)).toThrow(RangeError);
    expect(() => bad(1, new Uint8Array(2), 0.5)).toThrow(RangeError);
    expect(() => bad('x', new Uint8Array(2), 0)).toThrow(TypeError);
  });
});
