import mysql from 'mysql2';
import type { ResolvedConnection } from '../registry';

/**
 * Every session starts with these settings:
 * - `time_zone` UTC, so TIMESTAMP values are read and written as UTC text;
 * - `sql_mode` exactly STRICT_ALL_TABLES (a value that does not fit is an error, never a clipped value),
 *   NO_AUTO_VALUE_ON_ZERO (a 0 written to an AUTO_INCREMENT column stays 0) and NO_ENGINE_SUBSTITUTION.
 *   Left out on purpose: ANSI_QUOTES (we quote with backticks), NO_BACKSLASH_ESCAPES (mysql2's placeholder
 *   escaping and our LOAD DATA format rely on backslash escapes), NO_ZERO_DATE and NO_ZERO_IN_DATE
 *   (MySQL → MySQL keeps zero dates as they are);
 * - net timeouts of 10 minutes, so a result stream paused by a slow target is not cut by the server.
 */
export const sessionSql =
  "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', " +
  'net_read_timeout = 600, net_write_timeout = 600';

/** Options for tests and servers that need them. */
export interface MysqlPoolOptions {
  /** False stops announcing LOAD DATA LOCAL support, so writes take the multi-row INSERT path. */
  localInfile?: boolean;
}

/** Opens a pool whose values arrive as lossless text, Buffers or safe numbers, never JS Dates or parsed JSON. */
export function openMysqlPool(conn: ResolvedConnection<'mysql'>, options: MysqlPoolOptions = {}): mysql.Pool {
  const pool = mysql.createPool({
    host: conn.config.host,
    port: conn.config.port,
    database: conn.config.database,
    user: conn.config.user,
    password: conn.password,
    connectionLimit: conn.config.maxConnections,
    maxIdle: conn.config.maxConnections,
    idleTimeout: 10_000,
    connectTimeout: 15_000,
    enableKeepAlive: true,
    charset: 'utf8mb4',
    // BIGINT and DECIMAL as strings, DATE/DATETIME/TIMESTAMP as the server's text, JSON as its exact text.
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    dateStrings: true,
    jsonStrings: true,
    // mysql2 3.24 announces LOCAL_FILES by default; LOAD DATA LOCAL also needs the server's local_infile.
    flags: options.localInfile === false ? ['-LOCAL_FILES'] : [],
  });
  pool.on('connection', (connection) => {
    // A killed connection must not crash the worker; its current or next query reports the failure.
    connection.on('error', () => undefined);
    // The session settings decide how values read; a connection without them must not be used.
    connection.query(sessionSql, (error) => {
      if (error) connection.destroy();
    });
  });
  return pool;
}
