/**
 * Builds the log's native addon (binding.gyp here: CRC-32C and positional writes) with node-gyp;
 * run by `npm install` (the package's "install" script) and by hand with `node native/build.mjs`.
 *
 * It never fails the install: without a compiler, headers or node-gyp, src/log/native-addon.ts
 * finds no addon and the log uses @node-rs/crc32 and fs.writeSync (slower: docs/log.md), so this
 * prints why and exits 0.
 * Headers come from npm's `nodedir` setting when set, else from the running Node's own prefix
 * (<prefix>/include/node), so nothing is downloaded. SAMSA_SKIP_NATIVE=1 skips the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const addon = path.join(here, 'build', 'Release', 'samsa_native.node');

function warn(message) {
  console.warn(`samsa: native addon not built (${message}); the log uses @node-rs/crc32 and fs.writeSync instead`);
  process.exit(0);
}

if (process.env.SAMSA_SKIP_NATIVE) warn('SAMSA_SKIP_NATIVE is set');

/** node-gyp as npm passes it to install scripts, else the copy bundled with npm. */
function nodeGypCommand() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return [process.execPath, bundled];
  return ['node-gyp'];
}

const [command, ...prefix] = nodeGypCommand();
const args = [...prefix, 'rebuild'];
if (!process.env.npm_config_nodedir) {
  const nodeDir = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodeDir}`);
}
const result = spawnSync(command, args, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
if (result.error) warn(`node-gyp did not run: ${result.error.message}`);
if (result.status !== 0) {
  process.stderr.write(result.stderr.split('\n').slice(-15).join('\n'));
  warn(`node-gyp exited with ${result.status}`);
}

// Check the build against the standard check value before anything relies on it.
try {
  const { crc32c, crc32cImplementation } = createRequire(import.meta.url)(addon);
  const check = crc32c(new TextEncoder().encode('123456789'), 0, 9);
  if (check !== 0xe3069283) warn(`CRC-32C self-check gave ${check.toString(16)}`);
  console.log(`samsa: native addon built (CRC-32C: ${crc32cImplementation})`);
} catch (error) {
  warn(`the built addon does not load: ${error.message}`);
}
