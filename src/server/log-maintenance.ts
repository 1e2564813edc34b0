/**
 * Background work on the logs, as Kafka's LogManager schedules it:
 * - every second: flush.ms (a log flushes when its last flush is older than its setting);
 * - every log.retention.check.interval.ms: retention (retention.ms, retention.bytes);
 * - every minute: the recovery-point and log-start-offset checkpoints, so that recovery after
 *   a crash scans only what was written since.
 * Timers are unref'd: they never keep the process alive. A failing log is logged and skipped.
 */
import type { Logger } from 'pino';
import type { LogDirectory } from '../log/log-directory.js';
import type { BrokerConfig } from './broker-config.js';

export const FLUSH_CHECK_INTERVAL_MS = 1_000;
export const CHECKPOINT_INTERVAL_MS = 60_000;

export class LogMaintenance {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly logs: LogDirectory, private readonly config: BrokerConfig, private readonly log: Logger) {}

  start(): void {
    this.every(FLUSH_CHECK_INTERVAL_MS, () => this.flushDue());
    this.every(this.config.logRetentionCheckIntervalMs, () => this.applyRetention());
    this.every(CHECKPOINT_INTERVAL_MS, () => this.logs.checkpoint());
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  private every(intervalMs: number, task: () => void | Promise<void>): void {
    const timer = setInterval(() => {
      Promise.resolve()
        .then(task)
        .catch((error: unknown) => this.log.error({ err: error }, 'log maintenance failed'));
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  private async flushDue(): Promise<void> {
    await Promise.all(this.logs.entries().map(([name, log]) =>
      log.maybeFlushOnTime().catch((error: unknown) => this.log.error({ err: error, partition: name }, 'scheduled flush failed'))));
  }

  private applyRetention(): void {
    for (const [name, log] of this.logs.entries()) {
      try {
        const deleted = log.applyRetention();
        if (deleted > 0) this.log.info({ partition: name, segments: deleted, logStartOffset: log.logStartOffset }, 'retention deleted segments');
      } catch (error) {
        this.log.error({ err: error, partition: name }, 'retention failed');
      }
    }
  }
}
