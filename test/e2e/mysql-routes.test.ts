import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationClient } from '../../src/client';
import { quoteIdent } from '../../src/connectors/mysql/mysql-dialect';
import { openMysqlPool } from '../../src/connectors/mysql/mysql-pool';
import { MysqlSource } from '../../src/connectors/mysql/mysql-source';
import { PostgresSource } from '../../src/connectors/postgres/postgres-source';
import type { Row, Source, Value } from '../../src/core/connector';
import type { TableMeta } from '../../src/core/table';
import { createMysqlMixedTable, createMysqlNativeTable } from '../fixtures/my-mixed';
import { createMixedTable } from '../fixtures/pg-mixed';
import { mysqlConnection, mysqlConnectionEntries, mysqlSettings, readAll } from '../support/mysql';
import { adminPool, services, uniqueName } from '../support/services';
import { copyEncoding } from '../support/history';
import { useStack } from '../support/stack';

const rows = 20_000;
const total = rows + 2;
const stack = useStack('mysql', { connections: mysqlConnectionEntries() });
const { mysql: myAdmin, source: pgAdmin, target: pgTargetAdmin } = stack;
// MySQL sources live in mms_source, the only database the read-only user may read.
const myTable = uniqueName('e2e_my_mixed');
const myNative = uniqueName('e2e_my_native');
const pgSchema = uniqueName('e2e_pg_to_my');
const pgTargetSchema = uniqueName('e2e_my_to_pg');
const myTargetDb = uniqueName('e2e_my_to_my');

// Readers that see each side through the connectors' own Value forms.
const mysqlReader = new MysqlSource(openMysqlPool(mysqlConnection()));
const pgSourceReader = new PostgresSource(adminPool(services.pg.sourceDb));
const pgTargetReader = new PostgresSource(adminPool(services.pg.targetDb));

/** Discovers one table through a Source. */
async function discoverOne(source: Source, schema: string, table: string): Promise<TableMeta> {
  const page = await source.discover({ schema, tables: [table], include: ['*'], exclude: [] }, null, 10);
  if (!page.tables[0]) throw new Error(`${schema}.${table} not found`);
  return page.tables[0];
}

/** Rows sorted by their first column (the bigint id): PostgresSource's COPY does not promise an order within a chunk. */
function byId(rows: Row[]): Row[] {
  return [...rows].sort((a, b) => ((a[0] as bigint) < (b[0] as bigint) ? -1 : 1));
}

/** Compares row lists and names the first differing row, instead of diffing 20,000 rows at once. */
function expectSameRows(actual: Row[], expected: Row[]): void {
  expect(actual.length).toBe(expected.length);
  const first = expected.findIndex((row, i) => !isDeepStrictEqual(row, actual[i]));
  if (first >= 0)
    expect({ row: first, values: actual[first] }).toEqual({ row: first, values: expected[first] });
}

/** Runs a job to its end and returns the one task result, asserting the row gate held. */
async function migrate(spec: Parameters<MigrationClient['start']>[0], table: string, expected: number) {
  const job = await stack.client.start({ chunkRows: 5_000, ...spec });
  const report = await stack.client.result(job.jobId);
  expect(report.status).toBe('succeeded');
  const result = report.results.find((r) => r.table.endsWith(`.${table}`));
  expect(result).toMatchObject({
    status: 'succeeded',
    rowsRead: expected,
    rowsWritten: expected,
    sourceCount: expected,
    targetCount: expected,
  });
  return { result, encoding: await copyEncoding(stack.client, result!.taskId) };
}

beforeAll(async () => {
  await createMysqlMixedTable(myAdmin, mysqlSettings.sourceDb, myTable, rows);
  await createMysqlNativeTable(myAdmin, mysqlSettings.sourceDb, myNative);
  await createMixedTable(pgAdmin, pgSchema, 'orders', rows);
  // MySQL stores no NaN (a NaN fails the chunk with OUT_OF_RANGE, see the integration test).
  await pgAdmin.query(`UPDATE "${pgSchema}".orders SET ratio = NULL WHERE ratio = 'NaN'`);
});

afterAll(async () => {
  await Promise.all([mysqlReader.close(), pgSourceReader.close(), pgTargetReader.close()]);
  for (const table of [myTable, myNative]) {
    await myAdmin.query(`DROP TABLE IF EXISTS ${quoteIdent(mysqlSettings.sourceDb)}.${quoteIdent(table)}`);
  }
  for (const db of [pgSchema, myTargetDb]) await myAdmin.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)}`);
  await pgAdmin.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
  await pgTargetAdmin.query(`DROP SCHEMA IF EXISTS "${pgTargetSchema}" CASCADE`);
});

describe('MySQL routes through the real dev server and a worker process', () => {
  it('migrates a 20,000-row mixed-type table MySQL → PostgreSQL with equal values', async () => {
    // The server writes the COPY text lines (mysql-copy-lines.ts).
    const { encoding } = await migrate(
      {
        kind: 'tables',
        tables: [myTable],
        source: { connection: 'my_source', schema: mysqlSettings.sourceDb },
        target: { connection: 'pg_target', schema: pgTargetSchema },
      },
      myTable,
      total,
    );
    expect(encoding).toBe('copy-text-lines');
    const source = await discoverOne(mysqlReader, mysqlSettings.sourceDb, myTable);
    const target = await discoverOne(pgTargetReader, pgTargetSchema, myTable);
    expect(Object.fromEntries(target.columns.map((c) => [c.name, c.nativeType]))).toMatchObject({
      flag: 'smallint',
      uqty: 'bigint',
      big: 'numeric(20,0)',
      f: 'real',
      doc: 'json',
      at: 'timestamp(6) without time zone',
      at_tz: 'timestamp(6) with time zone',
      tm: 'time(6) without time zone',
      kind: 'text',
    });
    // Both engines produce the same Value forms, so the rows compare as they are.
    expectSameRows(byId(await readAll(pgTargetReader, target)), await readAll(mysqlReader, source));
  });

  it('migrates a 20,000-row mixed-type table PostgreSQL → MySQL with values equal after the documented conversions', async () => {
    await migrate(
      {
        kind: 'tables',
        tables: ['orders'],
        source: { connection: 'pg_source', schema: pgSchema },
        target: { connection: 'my_target', schema: pgSchema },
      },
      'orders',
      total,
    );
    const source = await discoverOne(pgSourceReader, pgSchema, 'orders');
    const target = await discoverOne(mysqlReader, pgSchema, 'orders');
    expect(
      Object.fromEntries(target.columns.map((c) => [c.name, c.nativeType.replace(/ COLLATE \w+$/, '')])),
    ).toEqual({
      id: 'bigint(20)',
      small: 'smallint(6)',
      qty: 'int(11)',
      price: 'decimal(12,2)',
      ratio: 'double',
      name: 'varchar(40)',
      body: 'longtext',
      doc: 'json',
      docb: 'json',
      at: 'datetime(6)',
      at_tz: 'datetime(6)',
      day: 'date',
      flag: 'tinyint(1)',
      raw: 'longblob',
      uid: 'char(36)',
      maybe: 'longtext',
    });
    // boolean → tinyint(1) reads back 1/0; timestamptz → DATETIME holding UTC loses its `+00`; -0 becomes 0.
    const asStoredInMysql = (row: Row): Row =>
      row.map((value: Value, i) => {
        const kind = source.columns[i]?.type.kind;
        if (kind === 'boolean' && typeof value === 'boolean') return value ? 1 : 0;
        if (kind === 'timestamptz' && typeof value === 'string') return value.replace(/\+00$/, '');
        if (Object.is(value, -0)) return 0;
        return value;
      });
    const expected = byId(await readAll(pgSourceReader, source)).map(asStoredInMysql);
    expectSameRows(await readAll(mysqlReader, target), expected);
  });

  it('migrates MySQL → MySQL keeping native types, set, bit, year and geometry columns included', async () => {
    const job = await stack.client.start({
      kind: 'tables',
      tables: [myTable, myNative],
      source: { connection: 'my_source', schema: mysqlSettings.sourceDb },
      target: { connection: 'my_target', schema: myTargetDb },
      chunkRows: 5_000,
    });
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    expect(report.results.find((r) => r.table.endsWith(`.${myTable}`))).toMatchObject({
      rowsRead: total,
      rowsWritten: total,
      sourceCount: total,
      targetCount: total,
    });
    // The mixed table travels as lines the source's server joins (load-data-pieces.ts); set, bit, year
    // and geometry columns have no field in a line, so that table travels as rows.
    const encodingOf = async (table: string) =>
      copyEncoding(stack.client, report.results.find((r) => r.table.endsWith(`.${table}`))!.taskId);
    expect(await encodingOf(myTable)).toBe('copy-text-lines');
    expect(await encodingOf(myNative)).toBe('text-fields');
    for (const table of [myTable, myNative]) {
      const source = await discoverOne(mysqlReader, mysqlSettings.sourceDb, table);
      const target = await discoverOne(mysqlReader, myTargetDb, table);
      expect(target.columns.map((c) => c.nativeType)).toEqual(source.columns.map((c) => c.nativeType));
      expectSameRows(await readAll(mysqlReader, target), await readAll(mysqlReader, source));
    }
  });
});
