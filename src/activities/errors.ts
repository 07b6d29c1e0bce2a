import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ErrorCode, MigrationError } from '../core/errors';
import { redact } from '../core/secrets';
import { activityStarted, recordActivityError } from '../worker/metrics';

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

/** Wraps an activity so that every error leaves it classified and scrubbed, and counted in the worker's metrics. */
export function classified<A extends unknown[], R>(
  activity: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const ended = activityStarted();
    try {
      return await activity(...args);
    } catch (e) {
      const failure = toApplicationFailure(e);
      recordActivityError(failure instanceof ApplicationFailure ? (failure.type ?? 'UNKNOWN') : 'CANCELLED');
      throw failure;
    } finally {
      ended();
    }
  };
}
