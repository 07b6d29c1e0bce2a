import mysql from 'mysql2/promise';
import type { ChunkStream, KeyTuple, Row, Source } from '../../src/core/connector';
import type { TableMeta } from '../../src/core/table';
import type { ResolvedConnection } from '../../src/connectors/registry';
import { ConnectionConfig } from '../../src/spec/connections';

/** The MariaDB server's settings, as `scripts/services.sh env` exported them in the global setup. */
export const mysqlSettings = {
  host: process.env.MMS_MYSQL_HOST ?? '127.0.0.1',
  port: Number(process.env.MMS_MYSQL_PORT ?? 33306),
  user: process.env.MMS_MYSQL_USER ?? 'root',
  password: process.env.MMS_MYSQL_PASSWORD ?? 'mms-my-secret-9b1e',
  readerUser: process.env.MMS_MYSQL_READER_USER ?? 'mms_reader',
  readerPassword: process.env.MMS_MYSQL_READER_PASSWORD ?? 'mms-reader-secret-2c9d',
  sourceDb: process.env.MMS_MYSQL_SOURCE_DB ?? 'mms_source',
  targetDb: process.env.MMS_MYSQL_TARGET_DB ?? 'mms_target',
};

/**
 * Connections-file entries for a worker: `my_source` reads `sourceDb` as the read-only user,
 * `my_target` writes `targetDb` as root; passwords come from the environment.
 */
export function mysqlConnectionEntries(
  sourceDb = mysqlSettings.sourceDb,
  targetDb = mysqlSettings.targetDb,
): Record<'my_source' | 'my_target', Record<string, unknown>> {
  return {
    my_source: mysqlConnectionEntry(sourceDb, { reader: true }),
    my_target: mysqlConnectionEntry(targetDb),
  };
}

/** A resolved MySQL connection to the test server, as the worker would build it (root unless `reader`). */
export function mysqlConnection(options: { database?: string; reader?: boolean; password?: string } = {}) {
  const config = ConnectionConfig.parse({
    engine: 'mysql',
    host: mysqlSettings.host,
    port: mysqlSettings.port,
    database: options.database ?? mysqlSettings.sourceDb,
    user: options.reader ? mysqlSettings.readerUser : mysqlSettings.user,
    maxConnections: 4,
  }) as Extract<ConnectionConfig, { engine: 'mysql' }>;
  const password =
    options.password ?? (options.reader ? mysqlSettings.readerPassword : mysqlSettings.password);
  return { name: 'my_test', config, password } satisfies ResolvedConnection<'mysql'>;
}

/** A MySQL entry of a worker's connections file: root on `database`, or the read-only user; secrets from env vars. */
export function mysqlConnectionEntry(database: string, options: { reader?: boolean } = {}) {
  return {
    engine: 'mysql',
    host: mysqlSettings.host,
    port: mysqlSettings.port,
    database,
    user: options.reader ? mysqlSettings.readerUser : mysqlSettings.user,
    passwordEnv: options.reader ? 'MMS_MYSQL_READER_PASSWORD' : 'MMS_MYSQL_PASSWORD',
  };
}

/** An admin pool (root) whose sessions run in UTC, for fixtures and for looking at targets directly. */
export function mysqlAdminPool(): mysql.Pool {
  const pool = mysql.createPool({
    host: mysqlSettings.host,
    port: mysqlSettings.port,
    user: mysqlSettings.user,
    password: mysqlSettings.password,
    connectionLimit: 4,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    jsonStrings: true,
    multipleStatements: true,
  });
  pool.pool.on('connection', (c) => c.query("SET time_zone = '+00:00'"));
  return pool;
}

/** Reads a whole table through a Source, chunk by chunk in key order, as the copy activity does. */
export async function readAll(source: Source, table: TableMeta, chunkRows = 5_000): Promise<Row[]> {
  const rows: Row[] = [];
  let after: KeyTuple | null = null;
  for (;;) {
    const range = await source.nextChunk(table, after, chunkRows);
    if (!range) return rows;
    const chunk = await source.read(table, range, 'rows');
    if (chunk.data.encoding !== 'rows') throw new Error('expected rows');
    for await (const row of chunk.data.rows) rows.push(row);
    chunk.release();
    after = range.upTo;
  }
}

/** A chunk made of rows in memory, for writing to a target without a source. */
export function rowsChunk(rows: Row[]): ChunkStream {
  let read = 0;
  const iterable: AsyncIterable<Row> = {
    [Symbol.asyncIterator]: () => ({
      next: () =>
        Promise.resolve(
          read < rows.length ? { done: false, value: rows[read++]! } : { done: true, value: undefined },
        ),
    }),
  };
  return { data: { encoding: 'rows', rows: iterable }, rowsRead: () => read, release: () => undefined };
}
