/**
 * `samsa start`: runs the brokers until SIGINT or SIGTERM, then stops cleanly (stop accepting,
 * answer in-flight requests, flush, write the clean-shutdown marker) and exits 0.
 *
 * Settings use Kafka's names, from a server.properties file (--config) and --override key=value
 * (later wins); an unknown name or bad value stops the start with a message naming it.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { applyBrokerHeapFlags } from '../runtime/heap-flags.js';
import { createLogger } from '../runtime/logger.js';
import { Cluster } from '../server/cluster.js';
import { brokerConfigFrom, parseOverride, parseProperties } from '../server/broker-config.js';

export const START_USAGE = `usage: samsa start [--data-dir DIR] [--port PORT] [--brokers N] [--host HOST]
                   [--config server.properties] [--override key=value ...]

  --data-dir   where logs and metadata live (default ./data)
  --port       port of broker 0; broker i listens on PORT+i (default 9092)
  --brokers    brokers in this process (default: available parallelism)
  --host       host name advertised to clients (default localhost)
  --config     a server.properties file (Kafka setting names)
  --override   one Kafka setting, e.g. num.partitions=3 (repeatable; wins over --config)`;

export interface StartOptions {
  dataDirectory: string;
  port: number;
  brokerCount: number;
  advertisedHost: string;
  configFile: string | undefined;
  overrides: [string, string][];
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} needs an integer of at least 1, got ${text}`);
  return value;
}

export function parseStartArgs(argv: string[]): StartOptions {
  const options: StartOptions = {
    dataDirectory: './data',
    port: 9092,
    brokerCount: availableParallelism(),
    advertisedHost: 'localhost',
    configFile: undefined,
    overrides: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const needValue = (): string => {
      if (value === undefined) throw new Error(`${flag} needs a value\n${START_USAGE}`);
      i++;
      return value;
    };
    switch (flag) {
      case '--data-dir': options.dataDirectory = needValue(); break;
      case '--port': options.port = positiveInteger(flag, needValue()); break;
      case '--brokers': options.brokerCount = positiveInteger(flag, needValue()); break;
      case '--host': options.advertisedHost = needValue(); break;
      case '--config': options.configFile = needValue(); break;
      case '--override': options.overrides.push(parseOverride(needValue())); break;
      default: throw new Error(`unknown option: ${flag}\n${START_USAGE}`);
    }
  }
  if (options.port + options.brokerCount - 1 > 65535) throw new Error(`ports ${options.port}..${options.port + options.brokerCount - 1} go past 65535`);
  return options;
}

export async function runStart(argv: string[]): Promise<void> {
  const options = parseStartArgs(argv);
  const settings: [string, string][] = [];
  if (options.configFile) settings.push(...parseProperties(readFileSync(options.configFile, 'utf8'), options.configFile));
  settings.push(...options.overrides);
  const config = brokerConfigFrom(settings);
  const log = createLogger('samsa');
  applyBrokerHeapFlags();
  const broker = await Cluster.start({
    dataDirectory: path.resolve(options.dataDirectory),
    brokerCount: options.brokerCount,
    port: options.port,
    advertisedHost: options.advertisedHost,
    config,
    log,
  });
  for (const endpoint of broker.brokers) console.log(`samsa: broker ${endpoint.nodeId} listening on ${endpoint.host}:${endpoint.port}`);
  console.log(`samsa: data in ${path.resolve(options.dataDirectory)}; Ctrl-C to stop`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({ signal }, 'stopping');
  // A second signal while stopping means "now": leave without the clean-shutdown marker.
  const force = (): void => process.exit(1);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await broker.stop();
  console.log('samsa: stopped');
  process.exit(0);
}
