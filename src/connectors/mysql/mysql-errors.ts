import { ErrorCode, MigrationError, type ErrorContext } from '../../core/errors';
import { redact } from '../../core/secrets';
import { classifyNetworkError } from '../network-errors';

/** Server error numbers (MySQL and MariaDB share them below 1900) → our error code. */
const errnoCodes: Record<number, ErrorCode> = {
  1045: ErrorCode.AuthFailed, // ER_ACCESS_DENIED_ERROR
  1698: ErrorCode.AuthFailed, // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
  1044: ErrorCode.PermissionDenied, // ER_DBACCESS_DENIED_ERROR
  1142: ErrorCode.PermissionDenied, // ER_TABLEACCESS_DENIED_ERROR
  1143: ErrorCode.PermissionDenied, // ER_COLUMNACCESS_DENIED_ERROR
  1227: ErrorCode.PermissionDenied, // ER_SPECIFIC_ACCESS_DENIED_ERROR
  1148: ErrorCode.PermissionDenied, // ER_NOT_ALLOWED_COMMAND (LOAD DATA LOCAL refused)
  3948: ErrorCode.PermissionDenied, // ER_CLIENT_LOCAL_FILES_DISABLED (MySQL 8)
  4166: ErrorCode.PermissionDenied, // ER_LOAD_INFILE_CAPABILITY_DISABLED (MariaDB)
  1049: ErrorCode.DatabaseMissing, // ER_BAD_DB_ERROR
  1146: ErrorCode.TableNotFound, // ER_NO_SUCH_TABLE
  1050: ErrorCode.TargetConflict, // ER_TABLE_EXISTS_ERROR
  1054: ErrorCode.TargetConflict, // ER_BAD_FIELD_ERROR
  1048: ErrorCode.TargetConflict, // ER_BAD_NULL_ERROR
  1062: ErrorCode.TargetConflict, // ER_DUP_ENTRY
  1452: ErrorCode.TargetConflict, // ER_NO_REFERENCED_ROW_2
  4025: ErrorCode.TargetConflict, // ER_CONSTRAINT_FAILED (MariaDB CHECK, e.g. json_valid)
  3819: ErrorCode.TargetConflict, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL 8)
  1493: ErrorCode.TargetConflict, // ER_RANGE_NOT_INCREASING_ERROR (a RANGE partition out of order)
  1495: ErrorCode.TargetConflict, // ER_MULTIPLE_DEF_CONST_IN_LIST_PART_ERROR (a LIST value in two partitions)
  1505: ErrorCode.TargetConflict, // ER_PARTITION_MGMT_ON_NONPARTITIONED
  1517: ErrorCode.TargetConflict, // ER_SAME_NAME_PARTITION
  1748: ErrorCode.TargetConflict, // ER_ROW_DOES_NOT_MATCH_GIVEN_PARTITION_SET
  1071: ErrorCode.UnsupportedType, // ER_TOO_LONG_KEY
  1074: ErrorCode.UnsupportedType, // ER_TOO_BIG_FIELDLENGTH
  1118: ErrorCode.UnsupportedType, // ER_TOO_BIG_ROWSIZE
  1170: ErrorCode.UnsupportedType, // ER_BLOB_KEY_WITHOUT_LENGTH
  1264: ErrorCode.OutOfRange, // ER_WARN_DATA_OUT_OF_RANGE
  1406: ErrorCode.OutOfRange, // ER_DATA_TOO_LONG
  1265: ErrorCode.OutOfRange, // WARN_DATA_TRUNCATED
  1292: ErrorCode.OutOfRange, // ER_TRUNCATED_WRONG_VALUE
  1366: ErrorCode.OutOfRange, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1367: ErrorCode.OutOfRange, // ER_ILLEGAL_VALUE_FOR_TYPE
  1416: ErrorCode.OutOfRange, // ER_CANT_CREATE_GEOMETRY_OBJECT
  3140: ErrorCode.OutOfRange, // ER_INVALID_JSON_TEXT (MySQL 8)
  1021: ErrorCode.DiskFull, // ER_DISK_FULL
  1114: ErrorCode.DiskFull, // ER_RECORD_FILE_FULL
  1213: ErrorCode.Deadlock, // ER_LOCK_DEADLOCK
  1205: ErrorCode.LockTimeout, // ER_LOCK_WAIT_TIMEOUT
  3024: ErrorCode.Timeout, // ER_QUERY_TIMEOUT (MySQL max_execution_time)
  1969: ErrorCode.Timeout, // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
  1040: ErrorCode.ConnectionLost, // ER_CON_COUNT_ERROR
  1203: ErrorCode.ConnectionLost, // ER_TOO_MANY_USER_CONNECTIONS
  1053: ErrorCode.ConnectionLost, // ER_SERVER_SHUTDOWN
  1317: ErrorCode.ConnectionLost, // ER_QUERY_INTERRUPTED (KILL QUERY)
  1927: ErrorCode.ConnectionLost, // ER_CONNECTION_KILLED (MariaDB)
  4031: ErrorCode.ConnectionLost, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
  2006: ErrorCode.ConnectionLost, // CR_SERVER_GONE_ERROR
  2013: ErrorCode.ConnectionLost, // CR_SERVER_LOST
  1064: ErrorCode.BadSpec, // ER_PARSE_ERROR
};

/** SQLSTATE classes for server errors not listed above. */
const sqlStateClasses: Record<string, ErrorCode> = {
  '08': ErrorCode.ConnectionLost,
  '22': ErrorCode.OutOfRange,
  '23': ErrorCode.TargetConflict,
  '28': ErrorCode.AuthFailed,
  '40': ErrorCode.Deadlock,
  '42': ErrorCode.BadSpec,
};

/** mysql2's own codes for a connection that broke or could not be used. */
const driverConnectionCodes = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_PACKETS_OUT_OF_ORDER',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_CON_COUNT_ERROR',
]);

/** The error numbers that mean the server refuses LOAD DATA LOCAL INFILE. */
const localInfileRefused = new Set([1148, 3948, 4166]);

/** Whether a mysql2 error says the server (or the session) refuses LOAD DATA LOCAL INFILE. */
export function isLocalInfileRefused(error: unknown): boolean {
  const errno = (error as { errno?: unknown }).errno;
  return typeof errno === 'number' && localInfileRefused.has(errno);
}

/** Classifies a server error or warning number, or returns undefined when it is unknown. */
export function errorCodeForErrno(errno: number, sqlState?: string): ErrorCode | undefined {
  return errnoCodes[errno] ?? (sqlState ? sqlStateClasses[sqlState.slice(0, 2)] : undefined);
}

/** Turns any error thrown by mysql2 into a classified MigrationError with a scrubbed message. */
export function classifyMysqlError(error: unknown, context: ErrorContext = {}): MigrationError {
  if (error instanceof MigrationError) return error;
  const err = error as { errno?: unknown; code?: unknown; sqlState?: unknown; message?: unknown };
  const message = redact(typeof err.message === 'string' ? err.message : String(error));
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (code && driverConnectionCodes.has(code)) {
    return new MigrationError(ErrorCode.ConnectionLost, `${code}: ${message}`, context);
  }
  // Node's socket errors carry a negative errno; server errors a positive one.
  if (typeof err.errno === 'number' && err.errno > 0) {
    const sqlState = typeof err.sqlState === 'string' ? err.sqlState : undefined;
    const classified = errorCodeForErrno(err.errno, sqlState) ?? ErrorCode.Internal;
    return new MigrationError(classified, `MySQL ${err.errno}${code ? ` ${code}` : ''}: ${message}`, context);
  }
  return classifyNetworkError(error, message, context);
}
