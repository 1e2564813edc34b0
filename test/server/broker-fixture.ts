/**
 * Brokers started in the test process on free ports (port 0), in a scratch data directory, with
 * logs silenced; `restart` stops and starts again on the same directory.
 */
import { pino } from 'pino';
import { Broker } from '../../src/server/broker.js';
import { brokerConfigFrom } from '../../src/server/broker-config.js';
import { TemporaryDirectories } from '../log/temporary-directory.js';

export interface BrokerFixture {
  broker: Broker;
  dataDirectory: string;
  port(nodeId: number): number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const directories = new TemporaryDirectories();

export async function startBrokers(options: { brokerCount?: number; settings?: Record<string, string>; dataDirectory?: string } = {}): Promise<BrokerFixture> {
  const dataDirectory = options.dataDirectory ?? directories.make('samsa-server-');
  const start = () => Broker.start({
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
