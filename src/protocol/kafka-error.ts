/**
 * A Kafka error as a value: the code a client expects, with Kafka's message or a more precise
 * one. Thrown across module boundaries inside the broker only where a whole operation fails
 * (an append rejected as CORRUPT_MESSAGE, a disk failing with KAFKA_STORAGE_ERROR); handlers put
 * the code in the response.
 */
import { ERRORS, ErrorCode, type ErrorCodeName } from './generated/error-codes.js';

const byName = new Map(ERRORS.map((info) => [info.name, info]));

export class KafkaError extends Error {
  readonly code: number;
  readonly retriable: boolean;

  constructor(readonly errorName: ErrorCodeName, detail?: string, options?: { cause?: unknown }) {
    const info = byName.get(errorName)!;
    super(detail ? `${errorName}: ${detail}` : `${errorName}: ${info.message}`, options);
    this.name = 'KafkaError';
    this.code = ErrorCode[errorName];
    this.retriable = info.retriable;
  }
}

export { ErrorCode };
export type { ErrorCodeName };
