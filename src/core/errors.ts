/** Error codes, each known to be terminal (a retry cannot help) or transient. */
export const ErrorCode = {
  BadSpec: 'BAD_SPEC',
  UnknownConnection: 'UNKNOWN_CONNECTION',
  BadConnection: 'BAD_CONNECTION',
  TableNotFound: 'TABLE_NOT_FOUND',
  TargetConflict: 'TARGET_CONFLICT',
  UnsupportedType: 'UNSUPPORTED_TYPE',
  LossyConversion: 'LOSSY_CONVERSION',
  AuthFailed: 'AUTH_FAILED',
  PermissionDenied: 'PERMISSION_DENIED',
  DatabaseMissing: 'DATABASE_MISSING',
  OutOfRange: 'OUT_OF_RANGE',
  DiskFull: 'DISK_FULL',
  VerificationFailed: 'VERIFICATION_FAILED',
  CheckpointConflict: 'CHECKPOINT_CONFLICT',
  ConnectionLost: 'CONNECTION_LOST',
  Deadlock: 'DEADLOCK',
  LockTimeout: 'LOCK_TIMEOUT',
  Timeout: 'TIMEOUT',
  Internal: 'INTERNAL',
} as const;
/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const transientCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.CheckpointConflict,
  ErrorCode.ConnectionLost,
  ErrorCode.Deadlock,
  ErrorCode.LockTimeout,
  ErrorCode.Timeout,
  ErrorCode.Internal,
]);

/** The codes that must never be retried; the workflow lists them as non-retryable. */
export const terminalErrorCodes: ErrorCode[] = Object.values(ErrorCode).filter((c) => !transientCodes.has(c));

/** Whether an error with this code may succeed on a retry. */
export function isRetryable(code: ErrorCode): boolean {
  return transientCodes.has(code);
}

/** Context fields that say where an error happened; never credentials. */
export interface ErrorContext {
  connection?: string;
  table?: string;
  column?: string;
  type?: string;
  path?: string;
  [key: string]: string | number | undefined;
}

/** The one error type of the project: a code, whether it is retryable, and context. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  /** Whether retrying can help. */
  readonly retryable: boolean;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = isRetryable(code);
  }
}
