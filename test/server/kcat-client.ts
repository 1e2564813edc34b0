/**
 * kcat (librdkafka) driven with exact bytes: records go in split by multi-byte -K/-D delimiters
 * (so keys and values may hold any byte, newlines included) and come out through a -f format
 * that gives key and value lengths, so null and empty are told apart and bytes are exact.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { expect } from 'vitest';
import { kcatDelimiterArgument, KCAT_KEY_DELIMITER, KCAT_MESSAGE_DELIMITER, MAX_MESSAGE_BYTES, type ConsumedRecord, type RecordGroup } from './interop-records.js';

export function kcat(port: number, args: string[], input?: Buffer): SpawnSyncReturns<Buffer> {
  const result = spawnSync('kcat', ['-b', `127.0.0.1:${port}`, ...args], { input, timeout: 30_000, maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  expect(result.status, `kcat ${args.join(' ')}: ${result.stderr.toString()}`).toBe(0);
  return result;
}

/**
 * One kcat -P per group (headers are per invocation; -Z, for groups with nulls, turns empty keys
 * and values into null). Keyed records are partitioned with murmur2_random, as Java and kafkajs
 * do (kcat's default, consistent_random, is CRC32).
 */
export function kcatProduce(port: number, topic: string, groups: RecordGroup[], extra: string[] = []): void {
  for (const group of groups) {
    const input = Buffer.concat(group.records.flatMap((record) => [record.key ?? Buffer.alloc(0), KCAT_KEY_DELIMITER, record.value ?? Buffer.alloc(0), KCAT_MESSAGE_DELIMITER]));
    const result = kcat(port, [
      '-P', '-t', topic, '-K', kcatDelimiterArgument(KCAT_KEY_DELIMITER), '-D', kcatDelimiterArgument(KCAT_MESSAGE_DELIMITER),
      '-X', 'partitioner=murmur2_random', '-X', 'linger.ms=100', '-X', `message.max.bytes=${MAX_MESSAGE_BYTES}`,
      ...group.headers.flatMap(([name, value]) => ['-H', `${name}=${value}`]), ...(group.nulls ? ['-Z'] : []), ...extra,
    ], input);
    expect(result.stderr.toString(), 'kcat reports no failed delivery').not.toMatch(/fail|error/i);
  }
}

/** kcat -C from the beginning of every partition to its end, CRCs checked. */
export function kcatConsume(port: number, topic: string): ConsumedRecord[] {
  const output = kcat(port, ['-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-X', 'check.crcs=true', '-f', '%p %o %K %S\t%h\n%k%s\n']).stdout;
  const records: ConsumedRecord[] = [];
  for (let position = 0; position < output.length;) {
    const newline = output.indexOf(0x0a, position);
    const [fields, headerText] = output.subarray(position, newline).toString('latin1').split('\t') as [string, string];
    const [partition, offset, keyLength, valueLength] = fields.split(' ').map(Number) as [number, number, number, number];
    position = newline + 1;
    const take = (length: number) => {
      if (length < 0) return null;
      const bytes = Buffer.from(output.subarray(position, position + length));
      position += length;
      return bytes;
    };
    const key = take(keyLength);
    const value = take(valueLength);
    expect(output[position++], 'record separator').toBe(0x0a);
    // %h is name=value,name=value; the test headers hold neither ',' nor '='.
    const headers = headerText === '' ? [] : headerText.split(',').map((header): [string, Buffer] => {
      const equals = header.indexOf('=');
      return [header.slice(0, equals), Buffer.from(header.slice(equals + 1), 'latin1')];
    });
    records.push({ partition, offset, key, value, headers });
  }
  return records;
}
