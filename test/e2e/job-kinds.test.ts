import { beforeAll, describe, expect, it } from 'vitest';
import { createMixedTable, tableDigest } from '../fixtures/pg-mixed';
import { services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';

const stack = useStack('kinds');
const { source, target, schema } = stack;

const count = async (table: string): Promise<number> =>
  Number((await target.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]?.n);

beforeAll(async () => {
  await source.query(`CREATE SCHEMA ${schema}`);
  // 12 monthly range partitions of 100 rows each.
  await source.query(
    `CREATE TABLE ${schema}.events (id bigint, at date NOT NULL, body text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
  );
  for (let m = 1; m <= 12; m++) {
    const from = `2024-${String(m).padStart(2, '0')}-01`;
    const to = m === 12 ? '2025-01-01' : `2024-${String(m + 1).padStart(2, '0')}-01`;
    await source.query(
      `CREATE TABLE ${schema}.events_2024_${String(m).padStart(2, '0')} PARTITION OF ${schema}.events FOR VALUES FROM ('${from}') TO ('${to}')`,
    );
    await source.query(
      `INSERT INTO ${schema}.events SELECT g, date '${from}' + (g % 28), 'e' || g FROM generate_series(${m * 1000}, ${m * 1000 + 99}) g`,
    );
  }
  // Four shards whose ids overlap.
  for (let s = 1; s <= 4; s++) {
    await source.query(
      `CREATE TABLE ${schema}.orders_s${s} (id int PRIMARY KEY, amount numeric(10,2) NOT NULL)`,
    );
    await source.query(
      `INSERT INTO ${schema}.orders_s${s} SELECT g, g * ${s} FROM generate_series(1, 250) g`,
    );
  }
  await createMixedTable(source, schema, 'items', 1_000);
  await source.query(`GRANT USAGE ON SCHEMA ${schema} TO ${services.pg.readerUser}`);
  await source.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`);
});

const run = async (spec: Record<string, unknown>) => {
  const job = await stack.client.start({
    source: { connection: 'pg_source', schema },
    target: { connection: 'pg_target', schema: (spec.targetSchema as string | undefined) ?? schema },
    ...Object.fromEntries(Object.entries(spec).filter(([k]) => k !== 'targetSchema')),
  });
  return stack.client.result(job.jobId);
};

describe('job kinds', () => {
  it('migrates 3 chosen partitions of a 12-partition table into a partitioned target', async () => {
    const out = uniqueName('e2e_parts');
    const report = await run({
      kind: 'partitions',
      targetSchema: out,
      // Globs and an exclude list together pick January to March.
      partitions: [
        {
          table: 'events',
          include: ['events_2024_0?'],
          exclude: [
            'events_2024_04',
            'events_2024_05',
            'events_2024_06',
            'events_2024_07',
            'events_2024_08',
            'events_2024_09',
          ],
        },
      ],
    });
    expect(report.status).toBe('succeeded');
    expect(report.results.map((r) => r.table).sort()).toEqual(
      ['events_2024_01', 'events_2024_02', 'events_2024_03'].map((p) => `${schema}.${p}`),
    );
    const partitions = await target.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${out}.events'::regclass ORDER BY 1`,
    );
    expect(partitions.rows.map((r) => r.name)).toEqual([
      'events_2024_01',
      'events_2024_02',
      'events_2024_03',
    ]);
    expect(await count(`${out}.events`)).toBe(300);
    const kind = await target.query<{ k: string }>(
      `SELECT relkind::text AS k FROM pg_class WHERE oid = '${out}.events'::regclass`,
    );
    expect(kind.rows[0]?.k).toBe('p');
  });

  it('chooses RANGE partitions by value: those whose bounds intersect [from, to)', async () => {
    // A DEFAULT partition has no bounds: it is chosen by name only.
    await source.query(`CREATE TABLE ${schema}.events_other PARTITION OF ${schema}.events DEFAULT`);
    await source.query(`INSERT INTO ${schema}.events VALUES (1, '2025-03-01', 'later')`);
    await source.query(`GRANT SELECT ON ${schema}.events_other TO ${services.pg.readerUser}`);
    const out = uniqueName('e2e_parts_range');
    const report = await run({
      kind: 'partitions',
      targetSchema: out,
      // 2024-03-15 lies in March; June starts at `to`, so it is left out.
      partitions: [{ table: 'events', from: '2024-03-15', to: '2024-06-01' }],
      verify: { mode: 'checksum' },
    });
    expect(report.status).toBe('succeeded');
    const chosen = ['events_2024_03', 'events_2024_04', 'events_2024_05'];
    expect(report.results.map((r) => r.table).sort()).toEqual(chosen.map((p) => `${schema}.${p}`));
    expect(report.results.every((r) => r.verification?.matched && r.targetCount === 100)).toBe(true);
    const partitions = await target.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${out}.events'::regclass ORDER BY 1`,
    );
    expect(partitions.rows.map((r) => r.name)).toEqual(chosen);
    for (const p of chosen)
      expect(await tableDigest(target, out, p)).toEqual(await tableDigest(source, schema, p));

    // Values choose RANGE partitions of one key column; anything else is refused before a task starts.
    await source.query(
      `CREATE TABLE ${schema}.by_kind (id int, kind text, PRIMARY KEY (id, kind)) PARTITION BY LIST (kind);
       CREATE TABLE ${schema}.by_kind_a PARTITION OF ${schema}.by_kind FOR VALUES IN ('a')`,
    );
    const refused = await run({
      kind: 'partitions',
      targetSchema: out,
      partitions: [{ table: 'by_kind', from: 'a' }],
    }).catch((e: unknown) => e);
    let cause: unknown = refused;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    expect((cause as { type?: string }).type).toBe('BAD_SPEC');
  });

  it('merges 4 shard tables with overlapping keys into one table with a shard column', async () => {
    const out = uniqueName('e2e_shards');
    const report = await run({
      kind: 'shards',
      targetSchema: out,
      shards: [{ target: 'orders_all', tables: ['orders_s?'], shardColumn: 'source_table' }],
    });
    expect(report.status).toBe('succeeded');
    expect(report.results[0]).toMatchObject({
      rowsRead: 1000,
      rowsWritten: 1000,
      sourceCount: 1000,
      targetCount: 1000,
    });
    const shards = await target.query<{ source_table: string; n: string; total: string }>(
      `SELECT source_table, count(*)::text AS n, sum(amount)::text AS total FROM ${out}.orders_all GROUP BY 1 ORDER BY 1`,
    );
    expect(shards.rows).toEqual(
      [1, 2, 3, 4].map((s) => ({
        source_table: `${schema}.orders_s${s}`,
        n: '250',
        total: `${(250 * 251 * s) / 2}.00`,
      })),
    );
  });

  it('merges same-named shard tables of several schemas of one connection', async () => {
    const shards = [uniqueName('e2e_shard_a'), uniqueName('e2e_shard_b')];
    for (const [i, s] of shards.entries()) {
      await source.query(
        `CREATE SCHEMA ${s}; CREATE TABLE ${s}.orders (id int PRIMARY KEY, amount numeric(10,2) NOT NULL);
         INSERT INTO ${s}.orders SELECT g, g * ${i + 10} FROM generate_series(1, 300) g;
         GRANT USAGE ON SCHEMA ${s} TO ${services.pg.readerUser}; GRANT SELECT ON ${s}.orders TO ${services.pg.readerUser}`,
      );
    }
    const out = uniqueName('e2e_shards_x');
    const report = await run({
      kind: 'shards',
      targetSchema: out,
      // Two schemas by name, and a table of the job's own schema.
      shards: [
        {
          target: 'orders_all',
          tables: [`${shards[1]}.orders`, `${shards[0]}.ord*`, 'orders_s1'],
          shardColumn: 'source_table',
        },
      ],
      verify: { mode: 'checksum' },
    });
    expect(report.status).toBe('succeeded');
    expect(report.results[0]).toMatchObject({
      rowsRead: 850,
      rowsWritten: 850,
      sourceCount: 850,
      targetCount: 850,
      verification: { mode: 'checksum', matched: true },
    });
    const merged = await target.query<{ source_table: string; n: string; total: string }>(
      `SELECT source_table, count(*)::text AS n, sum(amount)::text AS total FROM ${out}.orders_all GROUP BY 1 ORDER BY 1`,
    );
    expect(merged.rows).toEqual(
      [
        { source_table: `${shards[0]}.orders`, n: '300', total: `${(300 * 301 * 10) / 2}.00` },
        { source_table: `${shards[1]}.orders`, n: '300', total: `${(300 * 301 * 11) / 2}.00` },
        { source_table: `${schema}.orders_s1`, n: '250', total: `${(250 * 251) / 2}.00` },
      ].sort((a, b) => a.source_table.localeCompare(b.source_table)),
    );
    for (const s of shards) await source.query(`DROP SCHEMA ${s} CASCADE`);
  });

  it('names targets by rename, prefix and suffix', async () => {
    const out = uniqueName('e2e_names');
    const report = await run({
      kind: 'tables',
      tables: ['orders_s1', 'orders_s2'],
      targetSchema: out,
      naming: { prefix: 'stg_', suffix: '_v1', rename: { orders_s2: 'second' } },
    });
    expect(report.results.map((r) => r.target).sort()).toEqual([`${out}.second`, `${out}.stg_orders_s1_v1`]);
    expect(await count(`${out}.stg_orders_s1_v1`)).toBe(250);
  });
});

describe('a table without a primary key', () => {
  it('is copied whole as one chunk, atomically with its checkpoint', async () => {
    await source.query(
      `CREATE TABLE ${schema}.keyless (v text, n int); INSERT INTO ${schema}.keyless SELECT 'v' || g, g FROM generate_series(1, 3000) g`,
    );
    await source.query(`GRANT SELECT ON ${schema}.keyless TO ${services.pg.readerUser}`);
    const out = uniqueName('e2e_keyless');
    const report = await run({ kind: 'tables', tables: ['keyless'], targetSchema: out, chunkRows: 500 });
    expect(report.status).toBe('succeeded');
    expect(report.results[0]).toMatchObject({ rowsWritten: 3000, targetCount: 3000, chunks: 1 });
    expect(await tableDigestUnordered(`${out}.keyless`)).toEqual(
      await tableDigestUnordered(`${schema}.keyless`, source),
    );
  });
});

/** An order-free digest for tables without a key. */
async function tableDigestUnordered(table: string, pool = target): Promise<string> {
  const result = await pool.query<{ d: string }>(
    `SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS d FROM ${table} t`,
  );
  return result.rows[0]!.d;
}

describe('write and create modes', () => {
  it('appends to rows that were there, and upserts by primary key', async () => {
    const out = uniqueName('e2e_modes');
    await target.query(
      `CREATE SCHEMA ${out}; CREATE TABLE ${out}.orders_s1 (id int PRIMARY KEY, amount numeric(10,2) NOT NULL)`,
    );
    await target.query(`INSERT INTO ${out}.orders_s1 SELECT g, 0 FROM generate_series(1001, 1010) g`);
    const appended = await run({
      kind: 'tables',
      tables: ['orders_s1'],
      targetSchema: out,
      writeMode: 'append',
    });
    expect(appended.status).toBe('succeeded');
    expect(await count(`${out}.orders_s1`)).toBe(260);

    await target.query(
      `UPDATE ${out}.orders_s1 SET amount = -1 WHERE id <= 10; DELETE FROM ${out}.orders_s1 WHERE id BETWEEN 11 AND 20`,
    );
    const upserted = await run({
      kind: 'tables',
      tables: ['orders_s1'],
      targetSchema: out,
      writeMode: 'upsert',
    });
    expect(upserted.status).toBe('succeeded');
    expect(await count(`${out}.orders_s1`)).toBe(260);
    const stale = await target.query(`SELECT 1 FROM ${out}.orders_s1 WHERE amount < 0`);
    expect(stale.rows).toHaveLength(0);
  });

  it('overwrites by default, recreates an incompatible table when asked, and refuses a missing one with createMode never', async () => {
    const out = uniqueName('e2e_create');
    await target.query(`CREATE SCHEMA ${out}; CREATE TABLE ${out}.items (unrelated int)`);
    const recreated = await run({
      kind: 'tables',
      tables: ['items'],
      targetSchema: out,
      createMode: 'recreate',
    });
    expect(recreated.status).toBe('succeeded');
    expect(await tableDigest(target, out, 'items')).toEqual(await tableDigest(source, schema, 'items'));

    const again = await run({ kind: 'tables', tables: ['items'], targetSchema: out });
    expect(again.status).toBe('succeeded');
    expect(await count(`${out}.items`)).toBe(1_002);

    const never = await run({
      kind: 'tables',
      tables: ['orders_s3'],
      targetSchema: out,
      createMode: 'never',
    });
    expect(never.status).toBe('failed');
    expect(never.results[0]?.error?.code).toBe('TABLE_NOT_FOUND');
  });
});
