import { parquetMetadataAsync } from 'hyparquet';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSpecInput } from '../../src/spec/job-spec';
import { partFormats } from '../../src/connectors/s3/s3-format';
import { hiveFolder, taskHash } from '../../src/connectors/s3/s3-layout';
import type { ColumnMeta } from '../../src/core/table';
import { openS3Store } from '../../src/connectors/s3/s3-store';
import { mysqlConnectionEntries } from '../support/mysql';
import { services, uniqueName } from '../support/services';
import { s3Connection, s3ConnectionEntry, s3WorkerEnv } from '../support/s3';
import { useStack } from '../support/stack';

const prefix = `${uniqueName('e2e_hive')}/`;
const stack = useStack('hive', {
  connections: { s3_lake: s3ConnectionEntry(prefix), ...mysqlConnectionEntries() },
  workerEnv: s3WorkerEnv,
});
const { source, target, schema } = stack;
const store = openS3Store(s3Connection({ prefix }));

interface ManifestJson {
  rows: number;
  partitionBy?: string[];
  columns: { name: string }[];
  parts: { key: string; rows: number; partition?: Record<string, string | null> }[];
}

const manifestAt = async (key: string): Promise<ManifestJson> =>
  JSON.parse((await store.get(key))!.toString('utf8')) as ManifestJson;

/** Count and an md5 over every row in id order (`where` narrows it). */
async function digest(pool: pg.Pool, table: string, where = 'true'): Promise<{ n: string; md5: string }> {
  const result = await pool.query<{ n: string; md5: string }>(
    `SELECT count(*)::text AS n, md5(string_agg(t::text, E'\\n' ORDER BY id)) AS md5 FROM ${table} t WHERE ${where}`,
  );
  return result.rows[0]!;
}

async function run(spec: Record<string, unknown>) {
  const job = await stack.client.start({
    source: { connection: 'pg_source', schema },
    target: { connection: 's3_lake' },
    ...spec,
  });
  return { jobId: job.jobId, report: await stack.client.result(job.jobId) };
}

/** The code of a job that failed as a whole (planning refused it). */
async function failureCode(spec: Record<string, unknown>): Promise<string | undefined> {
  const e = await run(spec).then(
    () => undefined,
    (error: unknown) => error,
  );
  let cause: unknown = e;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return (cause as { type?: string } | undefined)?.type;
}

const regions = ["'eu'", "'us'", "'a/b=c'", 'NULL'];
const buckets = [2, 10, 30];

beforeAll(async () => {
  await source.query(`CREATE SCHEMA ${schema}`);
  // 1,200 orders over 4 regions (one of them NULL, one needing escapes) and 3 days.
  await source.query(
    `CREATE TABLE ${schema}.orders (id bigint PRIMARY KEY, region text, day date NOT NULL, bucket int NOT NULL, amount numeric(10,2), note text);
     INSERT INTO ${schema}.orders SELECT g, (ARRAY[${regions.join(', ')}])[g % 4 + 1], date '2024-01-01' + (g % 3),
       (ARRAY[${buckets.join(', ')}])[(g / 7) % 3 + 1], g * 1.25, CASE WHEN g % 10 = 0 THEN NULL ELSE 'n' || g END
     FROM generate_series(1, 1200) g`,
  );
  // A LIST-partitioned table: eu 50 rows, us 40, apac (jp 30, au 20).
  await source.query(
    `CREATE TABLE ${schema}.events (id bigint NOT NULL, region varchar(8) NOT NULL, at date NOT NULL, amount numeric(10,2), PRIMARY KEY (id, region)) PARTITION BY LIST (region);
     CREATE TABLE ${schema}.events_eu PARTITION OF ${schema}.events FOR VALUES IN ('eu');
     CREATE TABLE ${schema}.events_us PARTITION OF ${schema}.events FOR VALUES IN ('us');
     CREATE TABLE ${schema}.events_apac PARTITION OF ${schema}.events FOR VALUES IN ('jp', 'au');
     INSERT INTO ${schema}.events SELECT g, 'eu', date '2024-03-01' + g % 20, g / 4.0 FROM generate_series(1, 50) g;
     INSERT INTO ${schema}.events SELECT g, 'us', date '2024-03-01' + g % 20, g / 4.0 FROM generate_series(101, 140) g;
     INSERT INTO ${schema}.events SELECT g, 'jp', date '2024-03-01' + g % 20, g / 4.0 FROM generate_series(201, 230) g;
     INSERT INTO ${schema}.events SELECT g, 'au', date '2024-03-01' + g % 20, g / 4.0 FROM generate_series(301, 320) g`,
  );
  // A RANGE-partitioned table: its partitions go to partition=<name>/ folders.
  await source.query(
    `CREATE TABLE ${schema}.ticks (id bigint NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
     CREATE TABLE ${schema}.ticks_2024_01 PARTITION OF ${schema}.ticks FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
     CREATE TABLE ${schema}.ticks_2024_02 PARTITION OF ${schema}.ticks FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
     INSERT INTO ${schema}.ticks SELECT g, date '2024-01-01' + g FROM generate_series(0, 58) g`,
  );
  await source.query(`GRANT USAGE ON SCHEMA ${schema} TO ${services.pg.readerUser}`);
  await source.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`);
});

afterAll(async () => {
  await store.close();
});

describe('Hive-style partition folders on S3, through the real dev server, SeaweedFS and PostgreSQL', () => {
  it('writes a table into region=…/day=… folders: one part per chunk and folder, the manifest last', async () => {
    const spec = {
      kind: 'tables',
      tables: ['orders'],
      target: { connection: 's3_lake', partitionBy: { 'ord*': ['region', 'day'] } },
      chunkRows: 400,
      verify: { mode: 'checksum' },
    };
    const plan = await stack.client.plan({
      source: { connection: 'pg_source', schema },
      ...spec,
    } as JobSpecInput);
    expect(plan.tasks[0]?.statements).toEqual([
      `write parquet parts into Hive folders ${schema}/orders/region=<region>/day=<day>/ (NULL: __HIVE_DEFAULT_PARTITION__), then _manifest.json`,
    ]);

    const { jobId, report } = await run(spec);
    expect(report.status).toBe('succeeded');
    expect(report.results[0]).toMatchObject({
      rowsRead: 1200,
      rowsWritten: 1200,
      sourceCount: 1200,
      targetCount: 1200,
      chunks: 3,
      verification: { mode: 'checksum', matched: true },
    });

    // Chunks are key ranges, so every (chunk, folder) pair of the source rows gets one part.
    const rows = await source.query<{ id: string; region: string | null; day: string }>(
      `SELECT id::text, region, day::text FROM ${schema}.orders ORDER BY id`,
    );
    const folderOfId = new Map(
      rows.rows.map((r) => [r.id, hiveFolder(['region', 'day'], [r.region, r.day])]),
    );
    const folders = [...new Set(folderOfId.values())].sort();
    expect(folders).toHaveLength(12);
    const hash = taskHash(`${jobId}/${schema}.orders`);
    const partKeys = folders.flatMap((f) =>
      [0, 1, 2].map((k) => `${schema}/orders/${f}part-${hash}-00000${k}.parquet`),
    );
    const keys = await store.list(`${schema}/orders/`);
    expect(keys).toEqual(
      [...partKeys, `${schema}/orders/_manifest.json`, `${schema}/orders/_mms_checkpoint.json`].sort(),
    );
    expect(keys).toContain(
      `${schema}/orders/region=__HIVE_DEFAULT_PARTITION__/day=2024-01-02/part-${hash}-000001.parquet`,
    );
    expect(keys).toContain(`${schema}/orders/region=a%2Fb%3Dc/day=2024-01-03/part-${hash}-000002.parquet`);

    const manifest = await manifestAt(`${schema}/orders/_manifest.json`);
    expect(manifest.partitionBy).toEqual(['region', 'day']);
    expect(manifest.rows).toBe(1200);
    expect(manifest.columns.map((c) => c.name)).toEqual(['id', 'region', 'day', 'bucket', 'amount', 'note']);
    expect(manifest.parts.map((p) => p.key).sort()).toEqual(partKeys.sort());
    // Each part holds exactly the rows of its folder and chunk: its ids have the folder's values in the
    // source, chunk k's ids all lie below chunk k+1's, and every id is in exactly one part.
    const dataColumns = manifest.columns.filter(
      (c) => c.name !== 'region' && c.name !== 'day',
    ) as ColumnMeta[];
    const seen: string[] = [];
    const chunkIds: bigint[][] = [[], [], []];
    for (const part of manifest.parts) {
      const ids: string[] = [];
      for await (const row of partFormats.parquet.decode(dataColumns, (await store.get(part.key))!))
        ids.push(String(row[0]));
      expect(ids.length).toBe(part.rows);
      const folder = hiveFolder(
        ['region', 'day'],
        [part.partition?.region ?? null, part.partition?.day ?? null],
      );
      expect(part.key).toContain(`/orders/${folder}part-`);
      expect(ids.every((id) => folderOfId.get(id) === folder)).toBe(true);
      chunkIds[Number(part.key.slice(-14, -8))]!.push(...ids.map(BigInt));
      seen.push(...ids);
    }
    expect(seen.sort()).toEqual(rows.rows.map((r) => r.id).sort());
    for (let k = 0; k < 2; k++)
      expect(
        chunkIds[k]!.reduce((a, b) => (a > b ? a : b)) < chunkIds[k + 1]!.reduce((a, b) => (a < b ? a : b)),
      ).toBe(true);
    const perFolder = await source.query<{ region: string | null; day: string; n: number }>(
      `SELECT region, day::text, count(*)::int AS n FROM ${schema}.orders GROUP BY 1, 2`,
    );
    const written = new Map<string, number>();
    for (const p of manifest.parts) {
      const folder = hiveFolder(['region', 'day'], [p.partition?.region ?? null, p.partition?.day ?? null]);
      written.set(folder, (written.get(folder) ?? 0) + p.rows);
    }
    expect(Object.fromEntries(written)).toEqual(
      Object.fromEntries(perFolder.rows.map((r) => [hiveFolder(['region', 'day'], [r.region, r.day]), r.n])),
    );
    // The folder columns live in the folder names only, as Hive and Spark write them.
    const part = (await store.get(manifest.parts[0]!.key))!;
    const footer = await parquetMetadataAsync(new Uint8Array(part).buffer);
    expect(footer.schema.slice(1).map((s) => s.name)).toEqual(['id', 'bucket', 'amount', 'note']);
    expect(Number(footer.num_rows)).toBe(manifest.parts[0]!.rows);
  });

  it('reads the whole Hive table back into PostgreSQL with its folder columns, equal to the source', async () => {
    const back = uniqueName('e2e_hive_back');
    const { report } = await run({
      kind: 'tables',
      tables: ['orders'],
      source: { connection: 's3_lake', schema },
      target: { connection: 'pg_target', schema: back },
    });
    expect(report.status).toBe('succeeded');
    expect(report.results[0]).toMatchObject({ rowsWritten: 1200, targetCount: 1200, chunks: 36 });
    expect(await digest(target, `${back}.orders`)).toEqual(await digest(source, `${schema}.orders`));
  });

  it('writes chosen LIST partitions into their value folders and RANGE partitions into partition=<name>/', async () => {
    const { jobId, report } = await run({
      kind: 'partitions',
      partitions: [
        { table: 'events', include: ['events_eu', 'events_apac'] },
        { table: 'ticks', include: ['ticks_2024_02'] },
      ],
      verify: { mode: 'checksum' },
    });
    expect(report.status).toBe('succeeded');
    expect(
      report.results.map((r) => [r.table, r.target, r.rowsWritten, r.verification?.matched]).sort(),
    ).toEqual([
      [`${schema}.events_apac`, `${schema}.events/events_apac`, 50, true],
      [`${schema}.events_eu`, `${schema}.events/events_eu`, 50, true],
      [`${schema}.ticks_2024_02`, `${schema}.ticks/ticks_2024_02`, 28, true],
    ]);
    const part = (p: string): string => `part-${taskHash(`${jobId}/${schema}.${p}`)}-000000.parquet`;
    expect(await store.list(`${schema}/events/`)).toEqual(
      [
        `${schema}/events/_manifest.events_apac.json`,
        `${schema}/events/_manifest.events_eu.json`,
        `${schema}/events/_mms_checkpoint.events_apac.json`,
        `${schema}/events/_mms_checkpoint.events_eu.json`,
        `${schema}/events/region=au/${part('events_apac')}`,
        `${schema}/events/region=eu/${part('events_eu')}`,
        `${schema}/events/region=jp/${part('events_apac')}`,
      ].sort(),
    );
    const apac = await manifestAt(`${schema}/events/_manifest.events_apac.json`);
    expect(apac).toMatchObject({ rows: 50, partitionBy: ['region'] });
    expect(apac.parts.map((p) => [p.key, p.rows, p.partition])).toEqual([
      [`${schema}/events/region=au/${part('events_apac')}`, 20, { region: 'au' }],
      [`${schema}/events/region=jp/${part('events_apac')}`, 30, { region: 'jp' }],
    ]);
    expect(await store.list(`${schema}/ticks/`)).toEqual([
      `${schema}/ticks/_manifest.ticks_2024_02.json`,
      `${schema}/ticks/_mms_checkpoint.ticks_2024_02.json`,
      `${schema}/ticks/partition=ticks_2024_02/${part('ticks_2024_02')}`,
    ]);
    expect(await manifestAt(`${schema}/ticks/_manifest.ticks_2024_02.json`)).toMatchObject({
      rows: 28,
      partitionBy: ['partition'],
      parts: [{ rows: 28, partition: { partition: 'ticks_2024_02' } }],
    });
  });

  it('copies Hive folders chosen by name from S3 into a LIST-partitioned PostgreSQL table', async () => {
    const out = uniqueName('e2e_hive_parts');
    const spec = {
      kind: 'partitions',
      source: { connection: 's3_lake', schema },
      target: { connection: 'pg_target', schema: out },
      partitions: [{ table: 'events', include: ['region=eu', 'region=a?'] }],
      verify: { mode: 'checksum' },
    };
    const plan = await stack.client.plan(spec as JobSpecInput);
    expect(plan.tasks.map((t) => t.table).sort()).toEqual([
      `${schema}.events/region=au`,
      `${schema}.events/region=eu`,
    ]);
    const { report } = await run(spec);
    expect(report.status).toBe('succeeded');
    expect(report.results.map((r) => [r.table, r.rowsWritten, r.verification?.matched]).sort()).toEqual([
      [`${schema}.events/region=au`, 20, true],
      [`${schema}.events/region=eu`, 50, true],
    ]);
    const partitions = await target.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = $1::regclass ORDER BY 1`,
      [`${out}.events`],
    );
    expect(partitions.rows).toEqual([
      { name: 'events_region=au', bound: "FOR VALUES IN ('au')" },
      { name: 'events_region=eu', bound: "FOR VALUES IN ('eu')" },
    ]);
    expect(await digest(target, `${out}.events`)).toEqual(
      await digest(source, `${schema}.events`, `region IN ('eu', 'au')`),
    );
  });

  it('refuses Hive folders as partitions of a MariaDB target with BAD_SPEC, at once', async () => {
    const out = uniqueName('e2e_hive_my');
    const { report } = await run({
      kind: 'partitions',
      source: { connection: 's3_lake', schema },
      target: { connection: 'my_target', schema: out },
      partitions: [{ table: 'events', include: ['region=eu'] }],
    });
    await stack.mysql.query(`DROP DATABASE IF EXISTS \`${out}\``);
    expect(report.status).toBe('failed');
    expect(report.results[0]?.error).toMatchObject({
      code: 'BAD_SPEC',
      message: `${schema}.events/region=eu: a MySQL target recreates the partitions of MySQL and PostgreSQL sources only; copy the whole table with kind "tables"`,
    });
  });

  it('turns partition=<name>/ folders back into RANGE partitions with their source bounds', async () => {
    const out = uniqueName('e2e_hive_ranges');
    const { report } = await run({
      kind: 'partitions',
      source: { connection: 's3_lake', schema },
      target: { connection: 'pg_target', schema: out },
      partitions: [{ table: 'ticks', include: ['partition=ticks_2024_0?'] }],
      verify: { mode: 'checksum' },
    });
    expect(report.status).toBe('succeeded');
    expect(report.results.map((r) => [r.table, r.rowsWritten, r.verification?.matched])).toEqual([
      [`${schema}.ticks/ticks_2024_02`, 28, true],
    ]);
    const partitions = await target.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = $1::regclass`,
      [`${out}.ticks`],
    );
    expect(partitions.rows).toEqual([
      { name: 'ticks_ticks_2024_02', bound: "FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')" },
    ]);
    expect(await digest(target, `${out}.ticks`)).toEqual(await digest(source, `${schema}.ticks_2024_02`));
  });

  it('chooses Hive folders by a value range compared as integers, not as text', async () => {
    const written = await run({
      kind: 'tables',
      tables: ['orders'],
      target: { connection: 's3_lake', partitionBy: ['bucket'] },
      naming: { rename: { orders: 'orders_by_bucket' } },
    });
    expect(written.report.status).toBe('succeeded');
    expect((await store.listFolders(`${schema}/orders_by_bucket/`)).sort()).toEqual([
      'bucket=10',
      'bucket=2',
      'bucket=30',
    ]);
    const out = uniqueName('e2e_hive_range');
    // As text, '10' < '3' and '30' ≥ '20': only the integer comparison picks bucket=10.
    const { report } = await run({
      kind: 'partitions',
      source: { connection: 's3_lake', schema },
      target: { connection: 'pg_target', schema: out },
      partitions: [{ table: 'orders_by_bucket', from: 3, to: 20 }],
      verify: { mode: 'checksum' },
    });
    expect(report.status).toBe('succeeded');
    expect(report.results.map((r) => r.table)).toEqual([`${schema}.orders_by_bucket/bucket=10`]);
    expect(await digest(target, `${out}.orders_by_bucket`)).toEqual(
      await digest(source, `${schema}.orders`, 'bucket = 10'),
    );
  });

  it('refuses partitionBy of a missing column, or on a database target, with BAD_SPEC', async () => {
    const { report } = await run({
      kind: 'tables',
      tables: ['orders'],
      target: { connection: 's3_lake', partitionBy: ['regoin'] },
      naming: { rename: { orders: 'orders_bad' } },
    });
    expect(report.status).toBe('failed');
    expect(report.results[0]?.error).toMatchObject({
      code: 'BAD_SPEC',
      message: expect.stringContaining(
        `target.partitionBy: ${schema}.orders has no column "regoin"`,
      ) as unknown,
    });
    expect(
      await failureCode({
        kind: 'tables',
        tables: ['orders'],
        target: { connection: 'pg_target', schema: uniqueName('e2e_hive_no'), partitionBy: ['region'] },
      }),
    ).toBe('BAD_SPEC');
  });
});
