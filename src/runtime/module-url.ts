/**
 * Worker threads and dynamically loaded actor modules must be JavaScript. When code runs from
 * the TypeScript sources (vitest), `import.meta.url` ends in .ts; the compiled file sits at the
 * same path under dist/ (tsconfig: rootDir ".", outDir "dist"). `npm test` builds first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

export function runnableUrl(moduleUrl: string | URL): string {
  const href = typeof moduleUrl === 'string' ? moduleUrl : moduleUrl.href;
  if (!href.startsWith('file:') || !href.endsWith('.ts')) return href;
  const file = fileURLToPath(href);
  const root = projectRoot(path.dirname(file));
  const compiled = path.join(root, 'dist', path.relative(root, file)).replace(/\.ts$/, '.js');
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run npm run build`);
  return pathToFileURL(compiled).href;
}

function projectRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}
