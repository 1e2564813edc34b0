/**
 * kafka-python's codecs (python3-snappy and python3-lz4 underneath), run by Debian's
 * /usr/bin/python3 as the interop tests run it: an implementation independent of Samsa's, to
 * check what Samsa compresses and inflates against.
 */
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

export const PYTHON = '/usr/bin/python3';

/** kafka.codec.`op` ('snappy_encode', 'snappy_decode', 'lz4_encode', 'lz4_decode') on `input`; `extra` adds arguments (', xerial_compatible=False'). */
export function kafkaPythonCodec(op: string, input: Uint8Array, extra = ''): Buffer {
  const script = `import sys, base64\nfrom kafka import codec\ndata = base64.b64decode(sys.stdin.read())\nsys.stdout.write(base64.b64encode(codec.${op}(data${extra})).decode())`;
  const result = spawnSync(PYTHON, ['-c', script], { input: Buffer.from(input).toString('base64'), encoding: 'utf8', timeout: 30_000 });
  expect(result.status, `${PYTHON} kafka.codec.${op}: ${result.stderr}`).toBe(0);
  return Buffer.from(result.stdout, 'base64');
}
