import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../src/connectors/mysql/mysql-dialect';
import { qualifiedName } from '../../src/connectors/postgres/postgres-dialect';
import { parquetFormat } from '../../src/connectors/s3/s3-parquet';
import { readManifest, readPart } from '../../src/connectors/s3/s3-layout';
import { openS3Store } from '../../src/connectors/s3/s3-store';
import type { Row } from '../../src/core/connector';
import { mysqlConnectionEntries, mysqlSettings } from '../support/mysql';
import { s3Connection, s3ConnectionEntry, s3WorkerEnv } from '../support/s3';
import { services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';
import { typeJobs } from '../support/type-jobs';

/**
 * Cast rules to and from enums and arrays, and the policy for values a Parquet target cannot hold,
 * through the real stack (dev server, worker process, PostgreSQL, MariaDB, SeaweedFS): by default
 * each value that does not fit fails the task with an error naming the table, column and types;
 * NULL or the nearest value only when a rule asks. Every successful copy is checksum-verified.
 */
const docs = uniqueName('e2e_cdocs');
const spans = uniqueName('e2e_cspans');
const myOut = uniqueName('e2e_casts_my');
const prefix = `${uniqueName('e2e_casts')}/`;
const stack = useStack('casts', {
  connections: { ...mysqlConnectionEntries(mysqlSettings.sourceDb, myOut), lake: s3ConnectionEntry(prefix) },
  workerEnv: s3WorkerEnv,
});
const { source: pg, target: pgTarget, mysql: my, schema } = stack;
const store = openS3Store(s3Connection({ prefix }));
const { pgOut, runTable, pgColumnTypes, dropSchemas } = typeJobs(stack);

const fromPg = { source: { connection: 'pg_source', schema } };
const fromMy = { source: { connection: 'my_source', schema: mysqlSettings.sourceDb } };
const myTable = (table: string): string => `${quoteIdent(mysqlSettings.sourceDb)}.${quoteIdent(table)}`;

/** The labels of an enum type on the PostgreSQL target. */
async function pgEnumLabels(type: string): Promise<string[]> {
  const result = await pgTarget.query<{ label: string }>(
    `SELECT enumlabel AS label FROM pg_enum WHERE enumtypid = $1::regtype ORDER BY enumsortorder`,
    [type],
  );
  return result.rows.map((r) => r.label);
}

/** The rows of a table on the S3 target, decoded from its Parquet parts, ordered by the first column. */
async function s3Rows(targetSchema: string, table: string): Promise<Row[]> {
  const manifest = await readManifest(store, { schema: targetSchema, name: table });
  if (!manifest) throw new Error(`no manifest for ${targetSchema}.${table}`);
  const rows: Row[] = [];
  for (const part of manifest.parts) {
    for await (const row of parquetFormat.decode(manifest.columns, await readPart(store, part.key)))
      rows.push(row);
  }
  return rows.sort((a, b) => Number(a[0]) - Number(b[0]));
}

beforeAll(async () => {
  await pg.query(`CREATE SCHEMA ${schema}`);
  await pg.query(`CREATE TYPE ${schema}.mood AS ENUM ('sad', 'ok')`);
  // Values Parquet cannot hold: NaN in a DECIMAL(6,2), ±infinity in a timestamp and a date.
  await pg.query(
    `CREATE TABLE ${schema}.limits (id int PRIMARY KEY, amount numeric(6,2), at timestamptz, day date)`,
  );
  await pg.query(
    `INSERT INTO ${schema}.limits VALUES
       (1, 1.50, '2024-01-01 10:00:00.5+00', '2024-01-01'),
       (2, 'NaN', 'infinity', 'infinity'),
       (3, -2.25, '-infinity', '-infinity'),
       (4, NULL, NULL, NULL)`,
  );
  // Text to cast to an enum ('lost' is no label), an enum to cast to text, and arrays.
  await pg.query(
    `CREATE TABLE ${schema}.orders (id int PRIMARY KEY, status text, mood ${schema}.mood, tags int4[], labels text[])`,
  );
  await pg.query(
    `INSERT INTO ${schema}.orders VALUES
       (1, 'new', 'ok', '{1,2,NULL}', '{"a b",c}'),
       (2, 'paid', 'sad', '{{1,2},{3,4}}', '{NULL,"q\\"uote"}'),
       (3, 'lost', NULL, '{}', '{}'),
       (4, NULL, 'ok', NULL, NULL)`,
  );
  await pg.query(
    `GRANT USAGE ON SCHEMA ${schema} TO ${services.pg.readerUser}; GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`,
  );
  await my.query(
    `CREATE TABLE ${myTable(docs)} (id int PRIMARY KEY, status varchar(20), tags json, kind enum('a','b'))`,
  );
  await my.query(
    `INSERT INTO ${myTable(docs)} VALUES
       (1, 'paid', '[1, 2, 3]', 'a'),
       (2, 'new', '[[1, 2], [3, 40000]]', 'b'),
       (3, 'new', '[1, "x"]', 'a'),
       (4, NULL, NULL, NULL)`,
  );
  // MySQL zero dates and TIMEs beyond a day: Parquet holds neither.
  await my.query(`CREATE TABLE ${myTable(spans)} (id int PRIMARY KEY, day date, span time)`);
  await my.query(
    `SET SESSION sql_mode = 'STRICT_ALL_TABLES'; INSERT INTO ${myTable(spans)} VALUES
       (1, '2024-03-31', '10:30:00'), (2, '0000-00-00', '838:59:59'), (3, '2024-00-15', '-01:00:00'), (4, NULL, NULL)`,
  );
  await my.query(`CREATE DATABASE ${myOut}`);
});

afterAll(async () => {
  for (const table of [docs, spans]) await my.query(`DROP TABLE IF EXISTS ${myTable(table)}`);
  await my.query(`DROP DATABASE IF EXISTS ${myOut}`);
  await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await dropSchemas();
  await store.close();
});

describe('values a Parquet target cannot hold', () => {
  it('fails NaN in a DECIMAL by default, naming the table, the column and both types', async () => {
    const result = await runTable({ ...fromPg, target: { connection: 'lake', schema: 'dflt' } }, 'limits');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OUT_OF_RANGE');
    expect(result.error?.message).toContain(
      `${schema}.limits.amount (numeric(6,2) → Parquet DECIMAL(6,2)): NaN does not fit decimal(6,2), which the target cannot hold; to write NULL or the nearest value instead, add { column: "limits.amount", invalid: "null" } (or "clamp") to casts`,
    );
    const settled = await runTable(
      {
        ...fromPg,
        target: { connection: 'lake', schema: 'dflt' },
        casts: [{ column: 'limits.amount', invalid: 'null' }],
      },
      'limits',
    );
    expect(settled.error?.message).toContain(
      `${schema}.limits.at (timestamp with time zone → Parquet TIMESTAMP(MICROS, UTC)): infinity is after the last timestamptz Parquet holds`,
    );
  });

  it('writes NULL for NaN and clamps ±infinity to the first and last instant and day Parquet holds, checksum-verified', async () => {
    const result = await runTable(
      {
        ...fromPg,
        target: { connection: 'lake', schema: 'settled' },
        casts: [
          { column: 'limits.amount', invalid: 'null' },
          { column: 'limits.at', invalid: 'clamp' },
          { column: 'limits.day', invalid: 'clamp' },
        ],
      },
      'limits',
    );
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result).toMatchObject({ rowsWritten: 4, targetCount: 4, verification: { matched: true } });
    expect(await s3Rows('settled', 'limits')).toEqual([
      [1, '1.50', '2024-01-01 10:00:00.5+00', '2024-01-01'],
      [2, null, '294247-01-10 04:00:54.775807+00', '5881580-07-11'],
      [3, '-2.25', '290309-12-21 19:59:05.224192+00 BC', '5877642-06-23 BC'],
      [4, null, null, null],
    ]);
  });

  it('reads the clamped extremes back into PostgreSQL only as far as it holds them: an error by default, its own extremes on request', async () => {
    const lake = { source: { connection: 'lake', schema: 'settled' } };
    const refused = await runTable({ ...lake, target: pgOut('e2e_casts_back') }, 'limits');
    expect(refused.error?.code).toBe('OUT_OF_RANGE');
    expect(refused.error?.message).toContain(
      'settled.limits.day (date → PostgreSQL date): 5881580-07-11 is after the last date PostgreSQL holds, which the target cannot hold',
    );
    const out = pgOut('e2e_casts_back');
    const result = await runTable(
      { ...lake, target: out, casts: [{ column: 'limits.*', invalid: 'clamp' }] },
      'limits',
    );
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.verification?.matched).toBe(true);
    const rows = await pgTarget.query(
      `SELECT id, amount::text, at::text, day::text FROM ${out.schema}.limits ORDER BY id`,
    );
    expect(rows.rows).toEqual([
      { id: 1, amount: '1.50', at: '2024-01-01 10:00:00.5+00', day: '2024-01-01' },
      { id: 2, amount: null, at: '294247-01-10 04:00:54.775807+00', day: '5874897-12-31' },
      { id: 3, amount: '-2.25', at: '4714-11-24 00:00:00+00 BC', day: '4714-11-24 BC' },
      { id: 4, amount: null, at: null, day: null },
    ]);
  });

  it('fails MySQL zero dates and TIMEs beyond a day by default; NULL and clamp on request', async () => {
    const failed = await runTable({ ...fromMy, target: { connection: 'lake', schema: 'spans' } }, spans);
    expect(failed.error?.code).toBe('OUT_OF_RANGE');
    expect(failed.error?.message).toContain(
      `${mysqlSettings.sourceDb}.${spans}.day (date → Parquet DATE): the zero date 0000-00-00`,
    );
    const result = await runTable(
      {
        ...fromMy,
        target: { connection: 'lake', schema: 'spans' },
        casts: [
          { column: `${spans}.day`, invalid: 'null' },
          { column: `${spans}.span`, invalid: 'clamp' },
        ],
      },
      spans,
    );
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.verification?.matched).toBe(true);
    expect(await s3Rows('spans', spans)).toEqual([
      [1, '2024-03-31', '10:30:00'],
      [2, null, '24:00:00'],
      [3, null, '00:00:00'],
      [4, null, null],
    ]);
  });
});

describe('casts to and from enums', () => {
  const statusEnum = { column: 'orders.status', to: 'enum', values: ['new', 'paid', 'shipped'] };

  it('shows the cast and the CREATE TYPE in the plan, and refuses a value outside the labels by default', async () => {
    const out = pgOut('e2e_casts_enum');
    const plan = await stack.client.plan({
      kind: 'tables',
      tables: ['orders'],
      ...fromPg,
      target: out,
      casts: [statusEnum],
    });
    expect(plan.tasks[0]!.columns.find((c) => c.name === 'status')).toEqual({
      name: 'status',
      nativeType: 'text',
      logicalType: 'enum(new,paid,shipped)',
      cast: 'text → enum(new,paid,shipped), narrowing, casts[0]',
    });
    const statements = plan.tasks[0]!.statements.join('\n');
    expect(statements).toContain(
      `CREATE TYPE "${out.schema}"."orders_status" AS ENUM ('new', 'paid', 'shipped')`,
    );
    expect(statements).toMatch(/"status" "[^"]+"\."orders_status"/);
    const result = await runTable({ ...fromPg, target: out, casts: [statusEnum] }, 'orders');
    expect(result.error?.code).toBe('OUT_OF_RANGE');
    expect(result.error?.message).toContain(
      `${schema}.orders.status (text → PostgreSQL enum(new,paid,shipped)): "lost" is not a label of enum(new,paid,shipped), which the target cannot hold`,
    );
  });

  it('PostgreSQL → PostgreSQL: text becomes a real enum (NULL outside the labels on request), an enum becomes text, arrays widen by element', async () => {
    const out = pgOut('e2e_casts_enum');
    const result = await runTable(
      {
        ...fromPg,
        target: out,
        casts: [
          { ...statusEnum, invalid: 'null' },
          { column: 'orders.mood', to: 'text' },
          { column: 'orders.tags', to: 'int64[]' },
        ],
      },
      'orders',
    );
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.verification?.matched).toBe(true);
    expect(await pgColumnTypes(out.schema, 'orders')).toEqual({
      id: 'integer',
      status: `${out.schema}.orders_status`,
      mood: 'text',
      tags: 'bigint[]',
      labels: 'text[]',
    });
    expect(await pgEnumLabels(`${out.schema}.orders_status`)).toEqual(['new', 'paid', 'shipped']);
    const rows = await pgTarget.query(
      `SELECT id, status::text, mood, tags::text, labels::text FROM ${out.schema}.orders ORDER BY id`,
    );
    expect(rows.rows).toEqual([
      { id: 1, status: 'new', mood: 'ok', tags: '{1,2,NULL}', labels: '{"a b",c}' },
      { id: 2, status: 'paid', mood: 'sad', tags: '{{1,2},{3,4}}', labels: '{NULL,"q\\"uote"}' },
      { id: 3, status: null, mood: null, tags: '{}', labels: '{}' },
      { id: 4, status: null, mood: 'ok', tags: null, labels: null },
    ]);
  });

  it('refuses an enum type of the same name with other labels on the target', async () => {
    const out = pgOut('e2e_casts_enum');
    await pgTarget.query(
      `CREATE SCHEMA ${out.schema}; CREATE TYPE ${out.schema}.orders_status AS ENUM ('new', 'paid')`,
    );
    const result = await runTable(
      { ...fromPg, target: out, casts: [{ ...statusEnum, invalid: 'null' }] },
      'orders',
    );
    expect(result.error?.code).toBe('TARGET_CONFLICT');
    expect(result.error?.message).toContain(
      `type "${out.schema}"."orders_status" exists with other labels than ('new', 'paid', 'shipped')`,
    );
  });

  it('PostgreSQL → S3: the manifest keeps the labels of an enum cast', async () => {
    const result = await runTable(
      {
        ...fromPg,
        target: { connection: 'lake', schema: 'enums' },
        casts: [{ ...statusEnum, invalid: 'null' }],
      },
      'orders',
    );
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.verification?.matched).toBe(true);
    const manifest = await readManifest(store, { schema: 'enums', name: 'orders' });
    expect(manifest?.columns.find((c) => c.name === 'status')?.type).toEqual({
      kind: 'enum',
      values: ['new', 'paid', 'shipped'],
    });
    // The job's rules stay with the job: a later job reading the table applies its own.
    expect(manifest?.columns.filter((c) => c.cast ?? c.invalid)).toEqual([]);
  });
});

describe('arrays where both sides hold them', () => {
  it('keeps PostgreSQL arrays natively PostgreSQL → PostgreSQL', async () => {
    const out = pgOut('e2e_casts_arrays');
    const result = await runTable({ ...fromPg, target: out }, 'orders');
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.verification?.matched).toBe(true);
    expect(await pgColumnTypes(out.schema, 'orders')).toMatchObject({ tags: 'integer[]', labels: 'text[]' });
    const rows = await pgTarget.query(
      `SELECT tags::text, labels::text FROM ${out.schema}.orders WHERE id = 2`,
    );
    expect(rows.rows).toEqual([{ tags: '{{1,2},{3,4}}', labels: '{NULL,"q\\"uote"}' }]);
  });

  it('refuses arrays into MySQL unless a rule casts them to json, then writes JSON arrays', async () => {
    const target = { connection: 'my_target', schema: myOut };
    const refused = await runTable({ ...fromPg, target }, 'orders');
    expect(refused.error?.code).toBe('UNSUPPORTED_TYPE');
    expect(refused.error?.message).toContain(
      `${schema}.orders.tags (integer[] → MySQL): MySQL has no array type; to store the arrays as JSON arrays, add { column: "orders.tags", to: json } to casts`,
    );
    const plan = await stack.client.plan({
      kind: 'tables',
      tables: ['orders'],
      ...fromPg,
      target,
      casts: [{ type: '*[]', to: 'json' }],
    });
    expect(plan.tasks[0]!.columns.filter((c) => c.cast)).toEqual([
      {
        name: 'tags',
        nativeType: 'integer[]',
        logicalType: 'json',
        cast: 'int32[] → json, narrowing, casts[0]',
      },
      {
        name: 'labels',
        nativeType: 'text[]',
        logicalType: 'json',
        cast: 'text[] → json, narrowing, casts[0]',
      },
    ]);
    expect(plan.tasks[0]!.statements.join('\n')).toMatch(/`tags` json NULL,\n\s+`labels` json NULL/);
    const result = await runTable(
      {
        ...fromPg,
        target,
        createMode: 'recreate',
        casts: [
          { type: '*[]', to: 'json' },
          { column: 'orders.status', to: 'enum', values: ['new', 'paid', 'shipped'], invalid: 'null' },
        ],
      },
      'orders',
    );
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.verification?.matched).toBe(true);
    const [columns] = await my.query<RowDataPacket[]>(
      `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'orders' AND COLUMN_NAME IN ('status', 'mood')`,
      [myOut],
    );
    expect(Object.fromEntries(columns.map((c) => [c.name, c.type]))).toEqual({
      status: "enum('new','paid','shipped')",
      mood: "enum('sad','ok')",
    });
    const [rows] = await my.query<RowDataPacket[]>(
      `SELECT id, status, tags, labels FROM ${quoteIdent(myOut)}.orders ORDER BY id`,
    );
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { id: 1, status: 'new', tags: '[1,2,null]', labels: '["a b","c"]' },
      { id: 2, status: 'paid', tags: '[[1,2],[3,4]]', labels: '[null,"q\\"uote"]' },
      { id: 3, status: null, tags: '[]', labels: '[]' },
      { id: 4, status: null, tags: null, labels: null },
    ]);
  });

  it('MySQL → PostgreSQL: JSON becomes an array and an ENUM a real enum only when asked; invalid elements by the policy', async () => {
    const casts = [
      { column: `${docs}.tags`, to: 'int16[]' },
      { column: `${docs}.status`, to: 'enum', values: ['new', 'paid'] },
      { column: `${docs}.kind`, to: 'enum' },
    ];
    // Without rules JSON stays json and an ENUM becomes text.
    const plain = pgOut('e2e_casts_json');
    const uncast = await runTable({ ...fromMy, target: plain }, docs);
    expect(uncast.status, JSON.stringify(uncast.error)).toBe('succeeded');
    expect(await pgColumnTypes(plain.schema, docs)).toMatchObject({ tags: 'json', kind: 'text' });
    const refused = await runTable({ ...fromMy, target: pgOut('e2e_casts_json'), casts }, docs);
    expect(refused.error?.code).toBe('OUT_OF_RANGE');
    expect(refused.error?.message).toContain(
      `${docs}.tags (json → PostgreSQL smallint[]): element 4: 40000 is above the int16 range, which the target cannot hold; to write NULL or the nearest value instead, add invalid: "null" (or "clamp") to casts[0]`,
    );
    const clamped = await runTable(
      {
        ...fromMy,
        target: pgOut('e2e_casts_json'),
        casts: [{ ...casts[0]!, invalid: 'clamp' }, ...casts.slice(1)],
      },
      docs,
    );
    expect(clamped.error?.message).toContain(
      `${docs}.tags (json → PostgreSQL smallint[]): element 2: "x" is not a JSON number, which the target cannot hold; it has no nearest value to clamp to`,
    );
    const out = pgOut('e2e_casts_json');
    const result = await runTable(
      { ...fromMy, target: out, casts: [{ ...casts[0]!, invalid: 'null' }, ...casts.slice(1)] },
      docs,
    );
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result.verification?.matched).toBe(true);
    expect(await pgColumnTypes(out.schema, docs)).toEqual({
      id: 'integer',
      status: `${out.schema}.${docs}_status`,
      tags: 'smallint[]',
      kind: `${out.schema}.${docs}_kind`,
    });
    expect(await pgEnumLabels(`${out.schema}.${docs}_kind`)).toEqual(['a', 'b']);
    const rows = await pgTarget.query(
      `SELECT id, status::text, tags::text, kind::text FROM ${qualifiedName({ schema: out.schema, name: docs })} ORDER BY id`,
    );
    expect(rows.rows).toEqual([
      { id: 1, status: 'paid', tags: '{1,2,3}', kind: 'a' },
      { id: 2, status: 'new', tags: null, kind: 'b' },
      { id: 3, status: 'new', tags: null, kind: 'a' },
      { id: 4, status: null, tags: null, kind: null },
    ]);
  });
});
