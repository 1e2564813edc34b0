/**
 * A cluster started in the test process as `samsa start` runs it (a broker per worker thread,
 * the controller on this thread) on free ports (port 0), in a scratch data directory, with logs
 * silenced; `restart` stops and starts again on the same directory.
 */
import path from 'node:path';
import { pino } from 'pino';
import { Cluster } from '../../src/server/cluster.js';
import { brokerConfigFrom } from '../../src/server/broker-config.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';

export interface BrokerFixture {
  broker: Cluster;
  dataDirectory: string;
  /** Broker i's log directory, <data dir>/broker-<i>. */
  brokerDirectory(nodeId: number): string;
  port(nodeId: number): number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

// Worker threads read their log level from the environment when they start.
process.env.SAMSA_LOG_LEVEL = process.env.SAMSA_TEST_LOG_LEVEL ?? 'silent';
const directories = new TemporaryDirectories();

export async function startBrokers(options: { brokerCount?: number; settings?: Record<string, string>; dataDirectory?: string } = {}): Promise<BrokerFixture> {
  const dataDirectory = options.dataDirectory ?? directories.make('samsa-server-');
  const start = () => Cluster.start({
    dataDirectory,
    brokerCount: options.brokerCount ?? 2,
    port: 0,
    advertisedHost: '127.0.0.1',
    bindHost: '127.0.0.1',
    config: brokerConfigFrom(Object.entries(options.settings ?? {})),
    log: pino({ level: process.env.SAMSA_TEST_LOG_LEVEL ?? 'silent' }),
  });
  const fixture: BrokerFixture = {
    broker: await start(),
    dataDirectory,
    brokerDirectory: (nodeId) => path.join(dataDirectory, `broker-${nodeId}`),
    port: (nodeId) => fixture.broker.brokers[nodeId]!.port,
    async restart() {
      await fixture.broker.stop();
      fixture.broker = await start();
    },
    stop: () => fixture.broker.stop(),
  };
  return fixture;
}

export function removeScratchDirectories(): void {
  directories.removeAll();
}
