import { ErrorCode, MigrationError, type ErrorContext } from '../core/errors';

const transientNetworkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Classifies errors that carry no engine code: socket failures are transient, anything else internal. */
export function classifyNetworkError(error: unknown, message: string, context: ErrorContext): MigrationError {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && transientNetworkCodes.has(code)) {
    return new MigrationError(ErrorCode.ConnectionLost, `${code}: ${message}`, context);
  }
  if (/terminat|Connection terminated|socket|closed the connection|timeout/i.test(message)) {
    return new MigrationError(ErrorCode.ConnectionLost, message, context);
  }
  return new MigrationError(ErrorCode.Internal, message, context);
}
