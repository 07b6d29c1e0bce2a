import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../src/connectors/mysql/mysql-dialect';
import { qualifiedName } from '../../src/connectors/postgres/postgres-dialect';
import type { JobSpecInput } from '../../src/spec/job-spec';
import { mysqlConnectionEntries, mysqlSettings } from '../support/mysql';
import { services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';
import { typeJobs } from '../support/type-jobs';

/**
 * Cast rules and the policy for values a target cannot hold, through the real stack: by default a
 * value the target cannot hold fails the task with an error naming the table, column and types, and
 * a lossy cast is refused before anything is copied; NULL, clamping, lossy casts and boolean
 * tinyints happen only when the spec asks. Every successful copy is checksum-verified.
 */
// MySQL sources live in mms_source, the only database the read-only user may read.
const flags = uniqueName('e2e_flags');
const badFlags = uniqueName('e2e_badflags');
const odd = uniqueName('e2e_odd');
const myOut = uniqueName('e2e_types_my');
const stack = useStack('types', { connections: mysqlConnectionEntries(mysqlSettings.sourceDb, myOut) });
const { source: pg, target: pgTarget, mysql: my, schema } = stack;
const { pgOut, runTable, pgColumnTypes, dropSchemas } = typeJobs(stack);

const fromPg = { source: { connection: 'pg_source', schema } };
const fromMy = { source: { connection: 'my_source', schema: mysqlSettings.sourceDb } };

/** The innermost failure of a rejected call: its type (our error code) and message. */
async function failureOf(call: Promise<unknown>): Promise<{ type?: string; message: string }> {
  try {
    await call;
  } catch (e) {
    let cause: unknown = e;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return { type: (cause as { type?: string }).type, message: (cause as Error).message };
  }
  throw new Error('the call succeeded');
}

const myTable = (table: string): string => `${quoteIdent(mysqlSettings.sourceDb)}.${quoteIdent(table)}`;

beforeAll(async () => {
  await pg.query(`CREATE SCHEMA ${schema}`);
  // NaN every 10th ratio (the first row's too), -0 the next; +Infinity and -Infinity among the peaks,
  // later; a day BC, an infinite day and a timestamp in year 12000, none of which MySQL holds.
  await pg.query(
    `CREATE TABLE ${schema}.metrics (id bigint PRIMARY KEY, ratio double precision, peak double precision NOT NULL, day date, at timestamptz)`,
  );
  await pg.query(
    `INSERT INTO ${schema}.metrics SELECT g,
       CASE g % 10 WHEN 1 THEN 'NaN'::float8 WHEN 2 THEN '-0'::float8 ELSE g / 3.0 END,
       CASE g % 7 WHEN 0 THEN 'Infinity'::float8 WHEN 3 THEN '-Infinity'::float8 ELSE g * 1.5 END,
       CASE g WHEN 500 THEN date '0044-03-15 BC' WHEN 600 THEN 'infinity'::date ELSE date '2024-01-01' + g END,
       CASE g WHEN 700 THEN timestamptz '12000-06-01 12:00:00+00' ELSE timestamptz '2024-03-31 00:30:00+00' + g * interval '1 minute' END
     FROM generate_series(1, 1000) g`,
  );
  await pg.query(`CREATE TABLE ${schema}.docs (id int PRIMARY KEY, doc json, docb jsonb)`);
  await pg.query(
    `INSERT INTO ${schema}.docs SELECT g, ('{"b" : ' || g || ', "a": [1, 2.50]}')::json, jsonb_build_object('k', g)
     FROM generate_series(1, 1000) g`,
  );
  await pg.query(
    `GRANT USAGE ON SCHEMA ${schema} TO ${services.pg.readerUser}; GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`,
  );
  await my.query(
    `CREATE TABLE ${myTable(flags)} (id int PRIMARY KEY, flag tinyint(1) NOT NULL, maybe tinyint(1))`,
  );
  await my.query(
    `INSERT INTO ${myTable(flags)} VALUES (1, 0, NULL), (2, 1, 1), (3, 1, 0), (4, 0, 1), (5, 1, NULL)`,
  );
  await my.query(`CREATE TABLE ${myTable(badFlags)} (id int PRIMARY KEY, flag tinyint(1) NOT NULL)`);
  await my.query(`INSERT INTO ${myTable(badFlags)} VALUES (1, 0), (2, 1), (3, 2)`);
  // Zero dates (the session's sql_mode allows them) and text with NUL bytes: PostgreSQL holds neither.
  await my.query(`CREATE TABLE ${myTable(odd)} (id int PRIMARY KEY, day date, at datetime(6), body text)`);
  await my.query(
    `SET SESSION sql_mode = 'STRICT_ALL_TABLES'; INSERT INTO ${myTable(odd)} VALUES
       (1, '2024-03-31', '2024-03-31 02:30:00.5', 'plain'),
       (2, '0000-00-00', '0000-00-00 00:00:00', 'zero'),
       (3, '2024-00-15', '2024-02-00 10:00:00', CONCAT('nul', CHAR(0), 'byte')),
       (4, NULL, NULL, NULL)`,
  );
  await my.query(`CREATE DATABASE ${myOut}`);
});

afterAll(async () => {
  for (const table of [flags, badFlags, odd]) await my.query(`DROP TABLE IF EXISTS ${myTable(table)}`);
  await my.query(`DROP DATABASE IF EXISTS ${myOut}`);
  await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await dropSchemas();
});

describe('values a target cannot hold', () => {
  it('fails PostgreSQL NaN into MySQL by default, naming the table, the column and both types', async () => {
    const result = await runTable(
      { ...fromPg, target: { connection: 'my_target', schema: myOut } },
      'metrics',
    );
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OUT_OF_RANGE');
    expect(result.error?.message).toContain(`${schema}.metrics.ratio (double precision → MySQL double): NaN`);
    expect(result.error?.message).toContain('{ column: "metrics.ratio", invalid: "null" }');
  });

  const floatsSettled = [
    { column: 'metrics.ratio', invalid: 'null' },
    { column: 'metrics.peak', invalid: 'clamp' },
  ] as const;

  it('fails dates and timestamps outside MySQL’s years by default, naming the column', async () => {
    const result = await runTable(
      { ...fromPg, target: { connection: 'my_target', schema: myOut }, casts: [...floatsSettled] },
      'metrics',
    );
    expect(result.error?.code).toBe('OUT_OF_RANGE');
    expect(result.error?.message).toContain(
      `${schema}.metrics.day (date → MySQL date): 0044-03-15 BC is before year 1, which the target cannot hold`,
    );
  });

  it('writes NULL for NaN and clamps infinities and out-of-range dates when the spec asks, -0 landing as 0, checksum-verified', async () => {
    const result = await runTable(
      {
        ...fromPg,
        target: { connection: 'my_target', schema: myOut },
        createMode: 'recreate',
        casts: [
          ...floatsSettled,
          { column: 'metrics.day', invalid: 'clamp' },
          { column: 'metrics.at', invalid: 'clamp' },
        ],
      },
      'metrics',
    );
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result).toMatchObject({ rowsWritten: 1000, targetCount: 1000, verification: { matched: true } });
    const [[stats]] = await my.query<RowDataPacket[]>(
      `SELECT SUM(ratio IS NULL) AS nulls, SUM(id % 10 = 2 AND CAST(ratio AS CHAR) = '0') AS zeros,
              MAX(peak) AS top, MIN(peak) AS bottom FROM ${quoteIdent(myOut)}.metrics`,
    );
    expect(Number(stats!.nulls)).toBe(100);
    expect(Number(stats!.zeros)).toBe(100);
    expect(Number(stats!.top)).toBe(Number.MAX_VALUE);
    expect(Number(stats!.bottom)).toBe(-Number.MAX_VALUE);
    const [clamped] = await my.query<RowDataPacket[]>(
      `SELECT id, day, at FROM ${quoteIdent(myOut)}.metrics WHERE id IN (500, 600, 700) ORDER BY id`,
    );
    expect(clamped.map((r): unknown[] => [Number(r.id), r.day, r.at])).toEqual([
      [500, '0001-01-01', '2024-03-31 08:50:00.000000'],
      [600, '9999-12-31', '2024-03-31 10:30:00.000000'],
      [700, '2025-12-01', '9999-12-31 23:59:59.999999'],
    ]);
  });

  it('fails MySQL zero dates and NUL bytes into PostgreSQL by default; NULL and clamp only on request', async () => {
    const zeroDates = await runTable({ ...fromMy, target: pgOut('e2e_types_odd') }, odd);
    expect(zeroDates.error?.code).toBe('OUT_OF_RANGE');
    expect(zeroDates.error?.message).toContain(
      `${mysqlSettings.sourceDb}.${odd}.day (date → PostgreSQL date): the zero date 0000-00-00`,
    );
    const datesSettled = [
      { column: `${odd}.day`, invalid: 'null' },
      { column: `${odd}.at`, invalid: 'null' },
    ] as const;
    const nul = await runTable({ ...fromMy, target: pgOut('e2e_types_odd'), casts: [...datesSettled] }, odd);
    expect(nul.error?.code).toBe('OUT_OF_RANGE');
    // MySQL text types carry their collation in the native type.
    expect(nul.error?.message).toMatch(
      new RegExp(`${odd}\\.body \\(text[^)]* → PostgreSQL text\\): a NUL byte in text`),
    );
    const out = pgOut('e2e_types_odd');
    const settled = await runTable(
      { ...fromMy, target: out, casts: [...datesSettled, { column: `${odd}.body`, invalid: 'clamp' }] },
      odd,
    );
    expect(settled.status, JSON.stringify(settled.error)).toBe('succeeded');
    expect(settled.verification?.matched).toBe(true);
    const rows = await pgTarget.query(
      `SELECT id, day::text, at::text, body FROM ${qualifiedName({ schema: out.schema, name: odd })} ORDER BY id`,
    );
    expect(rows.rows).toEqual([
      { id: 1, day: '2024-03-31', at: '2024-03-31 02:30:00.5', body: 'plain' },
      { id: 2, day: null, at: null, body: 'zero' },
      { id: 3, day: null, at: null, body: 'nulbyte' },
      { id: 4, day: null, at: null, body: null },
    ]);
  });
});

describe('cast rules', () => {
  it('casts json to text PostgreSQL → PostgreSQL: the plan shows it, the target column is text, values byte for byte', async () => {
    const out = pgOut('e2e_types_docs');
    const spec = {
      kind: 'tables',
      tables: ['docs'],
      ...fromPg,
      target: out,
      casts: [{ type: 'json', to: 'text' }],
    };
    const plan = await stack.client.plan(spec as JobSpecInput);
    const columns = plan.tasks[0]!.columns;
    expect(columns.find((c) => c.name === 'doc')).toEqual({
      name: 'doc',
      nativeType: 'json',
      logicalType: 'text',
      cast: 'json → text, exact, casts[0]',
    });
    expect(columns.find((c) => c.name === 'docb')?.cast).toBeUndefined();
    expect(plan.tasks[0]!.statements.join('\n')).toMatch(/"doc" text,\n\s+"docb" jsonb/);
    const result = await runTable({ ...fromPg, target: out, casts: [{ type: 'json', to: 'text' }] }, 'docs');
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.verification?.matched).toBe(true);
    expect(await pgColumnTypes(out.schema, 'docs')).toEqual({ id: 'integer', doc: 'text', docb: 'jsonb' });
    const copied = await pgTarget.query<{ doc: string }>(`SELECT doc FROM ${out.schema}.docs WHERE id = 7`);
    expect(copied.rows[0]?.doc).toBe('{"b" : 7, "a": [1, 2.50]}');
  });

  it('keeps tinyint(1) a number MySQL → PostgreSQL unless the spec asks for boolean', async () => {
    const plain = pgOut('e2e_types_flags');
    expect((await runTable({ ...fromMy, target: plain }, flags)).status).toBe('succeeded');
    expect(await pgColumnTypes(plain.schema, flags)).toEqual({
      id: 'integer',
      flag: 'smallint',
      maybe: 'smallint',
    });
    const out = pgOut('e2e_types_flags');
    const result = await runTable(
      { ...fromMy, target: out, casts: [{ type: 'tinyint(1)', to: 'boolean' }] },
      flags,
    );
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.verification?.matched).toBe(true);
    expect(await pgColumnTypes(out.schema, flags)).toEqual({
      id: 'integer',
      flag: 'boolean',
      maybe: 'boolean',
    });
    const rows = await pgTarget.query(`SELECT id, flag, maybe FROM ${out.schema}.${flags} ORDER BY id`);
    expect(rows.rows).toEqual([
      { id: 1, flag: false, maybe: null },
      { id: 2, flag: true, maybe: true },
      { id: 3, flag: true, maybe: false },
      { id: 4, flag: false, maybe: true },
      { id: 5, flag: true, maybe: null },
    ]);
  });

  it('fails a tinyint(1) that is neither 0 nor 1 in a boolean cast, naming the column and its rule', async () => {
    const result = await runTable(
      { ...fromMy, target: pgOut('e2e_types_bad'), casts: [{ type: 'tinyint(1)', to: 'boolean' }] },
      badFlags,
    );
    expect(result.error?.code).toBe('OUT_OF_RANGE');
    expect(result.error?.message).toContain(
      `${badFlags}.flag (tinyint(1) → PostgreSQL boolean): 2 is not 0 or 1, which the target cannot hold; to write NULL or the nearest value instead, add invalid: "null" (or "clamp") to casts[0]`,
    );
  });

  it('refuses a lossy cast in the plan and in the job before anything is written, and allows it when asked', async () => {
    const out = pgOut('e2e_types_lossy');
    const spec = { kind: 'tables', tables: ['metrics'], ...fromPg, target: out };
    const refused = `${schema}.metrics.peak: casting double precision (float64) to float32 is lossy (it rounds each double to the nearest float32); allow it with "lossy: true" in casts[0]`;
    const lossy = { column: 'metrics.peak', to: 'float32' };
    expect(await failureOf(stack.client.plan({ ...spec, casts: [lossy] } as JobSpecInput))).toEqual({
      type: 'LOSSY_CONVERSION',
      message: refused,
    });
    const job = await stack.client.start({ ...spec, casts: [lossy] } as JobSpecInput);
    expect(await failureOf(stack.client.result(job.jobId))).toEqual({
      type: 'LOSSY_CONVERSION',
      message: refused,
    });
    const created = await pgTarget.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [out.schema]);
    expect(created.rows).toHaveLength(0);
    const allowed = await runTable({ ...fromPg, target: out, casts: [{ ...lossy, lossy: true }] }, 'metrics');
    expect(allowed.status, JSON.stringify(allowed.error)).toBe('succeeded');
    expect(allowed.verification?.matched).toBe(true);
    expect((await pgColumnTypes(out.schema, 'metrics')).peak).toBe('real');
  });
});
