/**
 * Loads an actor factory by module URL and export name, once per module per thread. A URL that
 * points at a TypeScript source (tests running under vitest) is mapped to its compiled twin
 * under dist/, since worker threads run plain JavaScript.
 */
import type { ActorFactory } from './actor.js';
import { runnableUrl } from './module-url.js';

const modules = new Map<string, Promise<Record<string, unknown>>>();

export async function loadFactory(moduleUrl: string, exportName: string): Promise<ActorFactory> {
  const url = runnableUrl(moduleUrl);
  let loading = modules.get(url);
  if (!loading) {
    loading = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, loading);
  }
  const module = await loading;
  const factory = module[exportName];
  if (typeof factory !== 'function') throw new Error(`${moduleUrl} has no actor factory export named ${exportName}`);
  return factory as ActorFactory;
}
