/**
 * The broker-wide part of log maintenance, as Kafka's LogManager schedules it: every minute the
 * recovery-point and log-start-offset checkpoints of the broker's log directory, so that
 * recovery after a crash scans only what was written since. (Per-partition work, flush.ms,
 * retention and compaction, runs in each partition's leader actor: partition-leader.ts.)
 * The timer is unref'd: it never keeps the process alive. A failure is logged and retried.
 */
import type { Logger } from 'pino';
import type { LogDirectory } from '../log/log-directory.js';

const CHECKPOINT_INTERVAL_MS = 60_000;

export class LogMaintenance {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly logs: LogDirectory, private readonly log: Logger) {}

  start(): void {
    // On the thread pool: the fsyncs must not stop the broker's event loop.
    this.timer = setInterval(() => {
      const startedAt = Date.now();
      this.logs.checkpointInBackground().then(
        () => this.log.debug({ startedAt, ms: Date.now() - startedAt }, 'log checkpoint written'),
        (error: unknown) => this.log.error({ err: error }, 'log checkpoint failed'),
      );
    }, CHECKPOINT_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
