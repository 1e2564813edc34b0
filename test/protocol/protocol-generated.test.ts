import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/generated/error-codes.js';
import { KafkaError } from '../../src/protocol/kafka-error.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('generated protocol code', () => {
  it('is what the generators produce from protocol-specs (regenerating changes nothing)', () => {
    expect(() => execFileSync(process.execPath, ['scripts/generate-error-codes.mjs', '--check'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });

  it('includes the wire codecs: regenerating src/protocol/generated/messages changes nothing', () => {
    expect(() => execFileSync(process.execPath, ['scripts/generate-protocol.mjs', '--check'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });

  it('carries Kafka codes and retriability', () => {
    expect(ErrorCode.CORRUPT_MESSAGE).toBe(2);
    expect(ErrorCode.KAFKA_STORAGE_ERROR).toBe(56);
    const error = new KafkaError('CORRUPT_MESSAGE', 'crc mismatch');
    expect(error.code).toBe(2);
    expect(error.retriable).toBe(true);
    expect(error.message).toBe('CORRUPT_MESSAGE: crc mismatch');
  });
});
