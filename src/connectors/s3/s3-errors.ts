import { ErrorCode, MigrationError, type ErrorContext } from '../../core/errors';
import { redact } from '../../core/secrets';
import { classifyNetworkError } from '../network-errors';

/** S3 error codes (the `Code` of the XML error, which the SDK puts in `name`) → our error code. */
const s3Codes: Record<string, ErrorCode> = {
  AccessDenied: ErrorCode.PermissionDenied,
  AllAccessDisabled: ErrorCode.PermissionDenied,
  InvalidAccessKeyId: ErrorCode.AuthFailed,
  SignatureDoesNotMatch: ErrorCode.AuthFailed,
  InvalidToken: ErrorCode.AuthFailed,
  ExpiredToken: ErrorCode.AuthFailed,
  NoSuchBucket: ErrorCode.DatabaseMissing,
  EntityTooLarge: ErrorCode.OutOfRange,
  SlowDown: ErrorCode.ConnectionLost,
  ServiceUnavailable: ErrorCode.ConnectionLost,
  InternalError: ErrorCode.ConnectionLost,
  RequestTimeout: ErrorCode.Timeout,
  TimeoutError: ErrorCode.Timeout,
};

/** Turns any error thrown by the S3 client into a classified MigrationError with a scrubbed message. */
export function classifyS3Error(error: unknown, context: ErrorContext = {}): MigrationError {
  if (error instanceof MigrationError) return error;
  const err = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof err.name === 'string' ? err.name : '';
  const message = redact(typeof err.message === 'string' ? err.message : String(error));
  const code = s3Codes[name];
  if (code) return new MigrationError(code, `S3 ${name}: ${message}`, context);
  const status = err.$metadata?.httpStatusCode;
  // Throttling and server errors pass; any other answer from the server is about the request itself.
  if (status !== undefined && (status >= 500 || status === 429))
    return new MigrationError(ErrorCode.ConnectionLost, `S3 ${name} (HTTP ${status}): ${message}`, context);
  if (status === 403)
    return new MigrationError(ErrorCode.PermissionDenied, `S3 ${name}: ${message}`, context);
  return classifyNetworkError(error, `S3 ${name}: ${message}`, context);
}
