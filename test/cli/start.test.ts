import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseStartArgs } from '../../src/cli/start.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/samsa.js');

describe('samsa start arguments', () => {
  it('reads every option, with Kafka-style defaults', () => {
    const defaults = parseStartArgs([]);
    expect(defaults).toMatchObject({ dataDirectory: './data', port: 9092, advertisedHost: 'localhost', configFile: undefined, overrides: [] });
    expect(defaults.brokerCount).toBeGreaterThanOrEqual(1);
    expect(parseStartArgs(['--data-dir', 'd', '--port', '19092', '--brokers', '3', '--host', 'h', '--config', 'server.properties', '--override', 'num.partitions=3', '--override', 'message.max.bytes=10'])).toEqual({
      dataDirectory: 'd', port: 19092, brokerCount: 3, advertisedHost: 'h', configFile: 'server.properties', overrides: [['num.partitions', '3'], ['message.max.bytes', '10']],
    });
  });

  it('refuses unknown options and bad values', () => {
    expect(() => parseStartArgs(['--ports', '1'])).toThrow(/unknown option: --ports/);
    expect(() => parseStartArgs(['--brokers', '0'])).toThrow(/--brokers/);
    expect(() => parseStartArgs(['--port'])).toThrow(/--port needs a value/);
    expect(() => parseStartArgs(['--port', '65535', '--brokers', '2'])).toThrow(/65535/);
  });

  it('exits 2 naming an unknown or bad setting, before listening', () => {
    const unknown = spawnSync(process.execPath, [BIN, 'start', '--override', 'log.segment.bites=1'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown setting: log.segment.bites/);
    const bad = spawnSync(process.execPath, [BIN, 'start', '--override', 'auto.create.topics.enable=maybe'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/auto.create.topics.enable: must be true or false/);
  });
});
