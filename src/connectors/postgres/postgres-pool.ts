import pg from 'pg';
import type { ResolvedConnection } from '../registry';

/** Every value arrives as the server's text: nothing passes through a lossy JS type. */
const rawText = { getTypeParser: () => (value: string) => value };

/** Opens a pool with session settings that make text output stable and portable. */
export function openPostgresPool(conn: ResolvedConnection<'postgres'>, applicationName: string): pg.Pool {
  const pool = new pg.Pool({
    host: conn.config.host,
    port: conn.config.port,
    database: conn.config.database,
    user: conn.config.user,
    password: conn.password,
    ssl: conn.config.ssl ? { rejectUnauthorized: false } : undefined,
    max: conn.config.maxConnections,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 15_000,
    application_name: applicationName,
    // A lock held elsewhere fails the chunk (LOCK_TIMEOUT, retried) instead of stalling it; a session stuck
    // inside a transaction is ended by the server so it cannot hold locks forever.
    options:
      '-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c TimeZone=UTC -c extra_float_digits=3' +
      ` -c lock_timeout=${conn.config.lockTimeoutSeconds}s -c idle_in_transaction_session_timeout=300s`,
    types: rawText,
  });
  // A client whose server went away must not crash the worker: an idle one is dropped by the pool, and
  // a checked-out one reports the failure through its next (or current) query, which classifies it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
