import { pino, type Logger } from 'pino';

/**
 * One pino logger per thread. The level comes from SAMSA_LOG_LEVEL (default info); tests set it
 * to silent or warn. Logs go to stderr so that stdout stays free for a command's own output.
 */
export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  const level = process.env.SAMSA_LOG_LEVEL ?? 'info';
  return pino({ name, level, base: { pid: process.pid, ...bindings } }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
