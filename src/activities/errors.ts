import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ErrorCode, MigrationError } from '../core/errors';
import { redact } from '../core/secrets';

/**
 * The one place a MigrationError becomes an ApplicationFailure: terminal codes are
 * non-retryable, messages and context are scrubbed of secrets.
 */
export function toApplicationFailure(error: unknown): Error {
  if (error instanceof CancelledFailure || error instanceof ApplicationFailure) return error;
  const migrationError =
    error instanceof MigrationError
      ? error
      : new MigrationError(ErrorCode.Internal, error instanceof Error ? error.message : String(error));
  const context = Object.fromEntries(
    Object.entries(migrationError.context).map(([k, v]) => [k, typeof v === 'string' ? redact(v) : v]),
  );
  return ApplicationFailure.create({
    message: redact(migrationError.message),
    type: migrationError.code,
    nonRetryable: !migrationError.retryable,
    details: [context],
  });
}

/** Wraps an activity so that every error leaves it classified and scrubbed. */
export function classified<A extends unknown[], R>(
  activity: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await activity(...args);
    } catch (e) {
      throw toApplicationFailure(e);
    }
  };
}
