import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent as myQuote } from '../../src/connectors/mysql/mysql-dialect';
import { quoteIdent as pgQuote } from '../../src/connectors/postgres/postgres-dialect';
import { mysqlConnectionEntries, mysqlSettings } from '../support/mysql';
import { services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';

/**
 * Names that break tools which build SQL by pasting strings: quotes of both dialects, statement
 * separators, comments, spaces, unicode, reserved words and an injection attempt.
 */
const hostileTables = [
  'Order "Lines"',
  'back`tick',
  'semi;colon -- comment',
  'with space',
  'ünïcødé_表',
  'select',
  "x'); DROP TABLE victim; --",
];
const hostileColumns = ['id', 'quoted "col"', 'tick`col', 'from', 'a;b -- c', 'ünï'];

const myDb = uniqueName('e2e_hostile');
const stack = useStack('hostile', { connections: mysqlConnectionEntries(myDb, myDb) });
const { source: pg, target: pgTarget, mysql: my, schema: pgSchema } = stack;

/** The values of one row: the key, then the same text with every awkward character, per column. */
const rowValues = (i: number): string[] => [
  String(i),
  ...hostileColumns.slice(1).map((c) => `${c} '${i}' \\ ; --`),
];

const pgTables = async (pool: typeof pg, schema: string): Promise<string[]> =>
  (
    await pool.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [
      schema,
    ])
  ).rows
    .map((r) => r.t)
    .sort();
const myTables = async (db: string): Promise<string[]> => {
  const [rows] = await my.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1`,
    [db],
  );
  return rows.map((r) => String(r.t)).sort();
};

beforeAll(async () => {
  await pg.query(`CREATE SCHEMA ${pgQuote(pgSchema)}; CREATE TABLE ${pgQuote(pgSchema)}.victim (v int)`);
  await my.query(`CREATE DATABASE ${myQuote(myDb)}; CREATE TABLE ${myQuote(myDb)}.victim (v int)`);
  for (const table of hostileTables) {
    const pgColumns = hostileColumns
      .map((c, i) => `${pgQuote(c)} ${i === 0 ? 'int PRIMARY KEY' : 'text'}`)
      .join(', ');
    const myColumns = hostileColumns
      .map((c, i) => `${myQuote(c)} ${i === 0 ? 'int PRIMARY KEY' : 'text'}`)
      .join(', ');
    await pg.query(`CREATE TABLE ${pgQuote(pgSchema)}.${pgQuote(table)} (${pgColumns})`);
    await my.query(`CREATE TABLE ${myQuote(myDb)}.${myQuote(table)} (${myColumns}) DEFAULT CHARSET=utf8mb4`);
    for (let i = 1; i <= 3; i++) {
      const values = rowValues(i);
      await pg.query(
        `INSERT INTO ${pgQuote(pgSchema)}.${pgQuote(table)} VALUES (${values.map((_, j) => `$${j + 1}`).join(', ')})`,
        values,
      );
      await my.query(
        `INSERT INTO ${myQuote(myDb)}.${myQuote(table)} VALUES (${values.map(() => '?').join(', ')})`,
        values,
      );
    }
  }
  await pg.query(`GRANT USAGE ON SCHEMA ${pgQuote(pgSchema)} TO ${services.pg.readerUser}`);
  await pg.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${pgQuote(pgSchema)} TO ${services.pg.readerUser}`);
  await my.query(
    `GRANT SELECT ON ${myQuote(myDb)}.* TO '${mysqlSettings.readerUser}'@'%', '${mysqlSettings.readerUser}'@'127.0.0.1'`,
  );
});

afterAll(async () => {
  await my.query(`DROP DATABASE IF EXISTS ${myQuote(myDb)}`).catch(() => undefined);
});

describe('hostile table and column names', () => {
  it('migrate PostgreSQL → MySQL exactly, creating and dropping nothing else', async () => {
    const outDb = uniqueName('e2e_hostile_out');
    await my.query(`CREATE DATABASE ${myQuote(outDb)}; CREATE TABLE ${myQuote(outDb)}.victim (v int)`);
    const job = await stack.client.start({
      kind: 'database',
      include: hostileTables,
      source: { connection: 'pg_source', schema: pgSchema },
      target: { connection: 'my_target', schema: outDb },
    });
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    expect(report.tasks.succeeded).toBe(hostileTables.length);
    expect(await myTables(outDb)).toEqual(['_mms_checkpoint', 'victim', ...hostileTables].sort());
    for (const table of hostileTables) {
      const [rows] = await my.query<mysql.RowDataPacket[]>(
        `SELECT ${hostileColumns.map(myQuote).join(', ')} FROM ${myQuote(outDb)}.${myQuote(table)} ORDER BY 1`,
        [],
      );
      expect(rows.map((r) => hostileColumns.map((c) => String(r[c])))).toEqual([1, 2, 3].map(rowValues));
    }
    await my.query(`DROP DATABASE ${myQuote(outDb)}`);
  });

  it('migrate MySQL → PostgreSQL exactly, creating and dropping nothing else', async () => {
    const outSchema = uniqueName('e2e_hostile_out');
    await pgTarget.query(
      `CREATE SCHEMA ${pgQuote(outSchema)}; CREATE TABLE ${pgQuote(outSchema)}.victim (v int)`,
    );
    const job = await stack.client.start({
      kind: 'tables',
      tables: hostileTables,
      source: { connection: 'my_source', schema: myDb },
      target: { connection: 'pg_target', schema: outSchema },
    });
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    expect(await pgTables(pgTarget, outSchema)).toEqual(
      ['_mms_checkpoint', 'victim', ...hostileTables].sort(),
    );
    for (const table of hostileTables) {
      const rows = await pgTarget.query({
        text: `SELECT ${hostileColumns.map(pgQuote).join(', ')} FROM ${pgQuote(outSchema)}.${pgQuote(table)} ORDER BY 1`,
        rowMode: 'array',
      });
      expect(rows.rows.map((r: unknown[]) => r.map(String))).toEqual([1, 2, 3].map(rowValues));
    }
    // The source schemas are untouched: still the same tables, the victims included.
    expect(await pgTables(pg, pgSchema)).toEqual(['victim', ...hostileTables].sort());
    expect(await myTables(myDb)).toEqual(['victim', ...hostileTables].sort());
  });
});
