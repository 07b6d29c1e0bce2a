import { beforeAll, describe, expect, it } from 'vitest';
import { createMixedTable, tableDigest } from '../fixtures/pg-mixed';
import { copyEncoding } from '../support/history';
import { services } from '../support/services';
import { useStack } from '../support/stack';

const stack = useStack('basic');
const { source, target, schema } = stack;

beforeAll(async () => {
  await createMixedTable(source, schema, 'orders', 100_000);
  await createMixedTable(source, schema, 'Mixed Case "quoted"', 1_000);
});

/** When the target table was last analyzed by hand (ANALYZE), or null; statistics may show it a moment late. */
async function lastAnalyzed(tableSchema: string, table: string): Promise<string | null> {
  for (let attempt = 0; ; attempt++) {
    const { rows } = await target.query<{ at: string | null }>(
      'SELECT last_analyze::text AS at FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2',
      [tableSchema, table],
    );
    const at = rows[0]?.at ?? null;
    if (at !== null || attempt >= 20) return at;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('PostgreSQL → PostgreSQL through the real dev server and a worker process', () => {
  it('migrates a 100,000-row mixed-type table with counts and contents matching', async () => {
    const job = await stack.client.start({
      kind: 'database',
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target' },
      chunkRows: 20_000,
    });
    const report = await stack.client.result(job.jobId);

    expect(report.status).toBe('succeeded');
    expect(report.tasks).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
    const orders = report.results.find((r) => r.table === `${schema}.orders`);
    expect(orders).toMatchObject({
      rowsRead: 100_002,
      rowsWritten: 100_002,
      sourceCount: 100_002,
      targetCount: 100_002,
    });
    expect(orders?.chunks).toBe(6);
    // Every column is a built-in type: the chunks travel in COPY's binary format.
    expect(await copyEncoding(stack.client, orders!.taskId)).toBe('pg-copy-binary');
    for (const table of ['orders', 'Mixed Case "quoted"']) {
      expect(await tableDigest(target, schema, table)).toEqual(await tableDigest(source, schema, table));
    }
    // The verification refreshed the new table's statistics beside its counts.
    expect(await lastAnalyzed(schema, 'orders')).not.toBeNull();
  });

  it('analyzes the new table at the end of a copy without verification', async () => {
    const noVerify = `${schema}_noverify`;
    const job = await stack.client.start({
      kind: 'tables',
      tables: ['orders'],
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target', schema: noVerify },
      verify: { mode: 'none' },
    });
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    expect(report.results[0]?.targetCount).toBeUndefined();
    expect(await lastAnalyzed(noVerify, 'orders')).not.toBeNull();
  });

  it('keeps native column types on the way, json text byte for byte', async () => {
    const types = await target.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, format_type(a.atttypid, a.atttypmod) AS data_type
       FROM information_schema.columns c JOIN pg_attribute a
         ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
       WHERE c.table_schema = $1 AND c.table_name = 'orders' ORDER BY c.ordinal_position`,
      [schema],
    );
    expect(Object.fromEntries(types.rows.map((r) => [r.column_name, r.data_type]))).toMatchObject({
      id: 'bigint',
      price: 'numeric(12,2)',
      doc: 'json',
      docb: 'jsonb',
      at: 'timestamp(6) without time zone',
    });
    const doc = await target.query<{ doc: string }>(`SELECT doc::text FROM "${schema}".orders WHERE id = 7`);
    expect(doc.rows[0]?.doc).toBe('{"b" : 7, "a": [1, 2.50, "x"]}');
  });

  it('passes COPY binary only where both sides have the same built-in types, every value exact', async () => {
    const q = (table: string): string => `"${schema}"."${table}"`;
    // Values whose binary and text forms differ most: NaN, infinities, -0, a numeric's trailing
    // zeros, microseconds, BC dates, padding, NUL-free unicode, bytes of every value, empty strings.
    await source.query(`CREATE TABLE ${q('edges')} (
      id int PRIMARY KEY, i2 smallint, i8 bigint, n numeric, n2 numeric(20,4), f4 real, f8 double precision,
      b boolean, t text, vc varchar(10), c char(5), by bytea, d date, ts timestamp(3), tz timestamptz,
      tm time, u uuid, j json, jb jsonb)`);
    await source.query(`INSERT INTO ${q('edges')} VALUES
      (1, -32768, -9223372036854775808, 'NaN', 1.5000, 'NaN', '-Infinity', true, 'tab\there þ 😀', 'ten chars!', 'ab',
       decode(repeat('00ff7f80', 64), 'hex'), '4713-01-01 BC', '1999-12-31 23:59:59.999', 'infinity', '24:00:00',
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a" : [1, 2.50]}', '{"b": {"c": null}, "a": 1.0}'),
      (2, 32767, 9223372036854775807, '-0.000000000001', -99999999999999.9999, '-0', 'Infinity', false, '', '', '',
       '', 'infinity', '-infinity', '2024-02-29 12:00:00.123456+05:30', '00:00:00.000001',
       '00000000-0000-0000-0000-000000000000', '[]', '"x"'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
    // A user type has a database's own object id in COPY binary: that table travels as COPY text.
    await source.query(`CREATE TYPE "${schema}".mood AS ENUM ('sad', 'ok')`);
    await source.query(
      `CREATE TABLE ${q('moods')} (id int PRIMARY KEY, m "${schema}".mood, ms "${schema}".mood[])`,
    );
    await source.query(`INSERT INTO ${q('moods')} VALUES (1, 'ok', '{sad,ok}'), (2, NULL, '{}')`);
    // An existing target table whose column has another type (appended to): COPY text, which converts.
    const other = `${schema}_other`;
    await target.query(`CREATE SCHEMA "${other}"`);
    // The target table's column names the type as the source does: it must exist there too.
    await target.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await target.query(`CREATE TYPE "${schema}".mood AS ENUM ('sad', 'ok')`);
    await target.query(`CREATE TABLE "${other}".widened (id int PRIMARY KEY, i8 numeric, t text)`);
    await source.query(`CREATE TABLE ${q('widened')} (id int PRIMARY KEY, i8 bigint, t text)`);
    await source.query(`INSERT INTO ${q('widened')} VALUES (1, 9223372036854775807, 'x'), (2, NULL, NULL)`);
    await source.query(`GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO ${services.pg.readerUser}`);
    await source.query(`GRANT USAGE ON TYPE "${schema}".mood TO ${services.pg.readerUser}`);

    const job = await stack.client.start({
      kind: 'tables',
      tables: ['edges', 'moods', 'widened'],
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target', schema: other },
      writeMode: 'append',
    });
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    const encodingOf = async (table: string) =>
      copyEncoding(stack.client, report.results.find((r) => r.table === `${schema}.${table}`)!.taskId);
    expect(await encodingOf('edges')).toBe('pg-copy-binary');
    expect(await encodingOf('moods')).toBe('pg-copy-text');
    expect(await encodingOf('widened')).toBe('pg-copy-text');
    // Every value as the source holds it, compared by the server as text.
    for (const table of ['edges', 'moods', 'widened']) {
      const rows = async (pool: typeof source, tableSchema: string): Promise<{ row: string }[]> =>
        (
          await pool.query<{ row: string }>(
            `SELECT t::text AS row FROM "${tableSchema}"."${table}" t ORDER BY id`,
          )
        ).rows;
      expect(await rows(target, other)).toEqual(await rows(source, schema));
    }
  });

  it('refuses a spec that names a missing table, without retrying', async () => {
    const job = await stack.client.start({
      kind: 'tables',
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target' },
      tables: ['no_such_table'],
    });
    await expect(stack.client.result(job.jobId)).rejects.toMatchObject({
      cause: { cause: { type: 'TABLE_NOT_FOUND' } },
    });
  });
});
