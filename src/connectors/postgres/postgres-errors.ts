import { ErrorCode, MigrationError, type ErrorContext } from '../../core/errors';
import { redact } from '../../core/secrets';
import { classifyNetworkError } from '../network-errors';

/** SQLSTATE (exact, or its two-character class) → our error code. */
const sqlStateCodes: Record<string, ErrorCode> = {
  '28P01': ErrorCode.AuthFailed,
  '28000': ErrorCode.AuthFailed,
  '42501': ErrorCode.PermissionDenied,
  '3D000': ErrorCode.DatabaseMissing,
  '3F000': ErrorCode.DatabaseMissing,
  '42P01': ErrorCode.TableNotFound,
  '42703': ErrorCode.TargetConflict,
  '42P07': ErrorCode.TargetConflict,
  '42710': ErrorCode.TargetConflict,
  '22003': ErrorCode.OutOfRange,
  '22008': ErrorCode.OutOfRange,
  '53100': ErrorCode.DiskFull,
  '40P01': ErrorCode.Deadlock,
  '40001': ErrorCode.Deadlock,
  '55P03': ErrorCode.LockTimeout,
  '57014': ErrorCode.Timeout,
  '57P01': ErrorCode.ConnectionLost,
  '57P02': ErrorCode.ConnectionLost,
  '57P03': ErrorCode.ConnectionLost,
  '08': ErrorCode.ConnectionLost,
  '53': ErrorCode.ConnectionLost,
  '22': ErrorCode.OutOfRange,
  '23': ErrorCode.TargetConflict,
  '42': ErrorCode.BadSpec,
};

/** Turns any error thrown by `pg` into a classified MigrationError with a scrubbed message. */
export function classifyPostgresError(error: unknown, context: ErrorContext = {}): MigrationError {
  if (error instanceof MigrationError) return error;
  const err = error as { code?: unknown; message?: unknown };
  const message = redact(typeof err.message === 'string' ? err.message : String(error));
  const sqlState = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : undefined;
  if (sqlState) {
    const code = sqlStateCodes[sqlState] ?? sqlStateCodes[sqlState.slice(0, 2)] ?? ErrorCode.Internal;
    return new MigrationError(code, `PostgreSQL ${sqlState}: ${message}`, context);
  }
  return classifyNetworkError(error, message, context);
}
