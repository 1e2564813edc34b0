/**
 * kafka-python's codecs (python3-snappy, python3-lz4 and python3-zstandard underneath), run by Debian's
 * /usr/bin/python3 as the interop tests run it: an implementation independent of Samsa's, to
 * check what Samsa compresses and inflates against.
 */
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { CodecError } from '../../src/runtime/codecs.js';

export const PYTHON = '/usr/bin/python3';

/** kafka.codec.`op` ('snappy_encode', 'lz4_decode', 'zstd_encode', ...) on `input`; `extra` adds arguments (', xerial_compatible=False'). */
export function kafkaPythonCodec(op: string, input: Uint8Array, extra = ''): Buffer {
  const script = `import sys, base64\nfrom kafka import codec\ndata = base64.b64decode(sys.stdin.read())\nsys.stdout.write(base64.b64encode(codec.${op}(data${extra})).decode())`;
  const result = spawnSync(PYTHON, ['-c', script], { input: Buffer.from(input).toString('base64'), encoding: 'utf8', timeout: 30_000 });
  expect(result.status, `${PYTHON} kafka.codec.${op}: ${result.stderr}`).toBe(0);
  return Buffer.from(result.stdout, 'base64');
}

/** The CodecError `run` throws (failing the test if it throws anything else, or nothing). */
export function codecError(run: () => unknown): CodecError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return error as CodecError;
  }
  throw new Error('expected a CodecError');
}
