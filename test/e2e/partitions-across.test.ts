import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobReport } from '../../src/core/task';
import { quoteIdent } from '../../src/connectors/mysql/mysql-dialect';
import { partitionTableName } from '../../src/connectors/postgres/postgres-dialect';
import { mysqlConnectionEntries, mysqlSettings } from '../support/mysql';
import { services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';

/**
 * Partition jobs across engines and value ranges over keys of several columns, through the real
 * Temporal dev server, PostgreSQL and MariaDB: PostgreSQL RANGE and LIST partitions into one MySQL
 * partitioned table, tuple bounds on both engines, shard members found by a schema glob, and long
 * partition table names on PostgreSQL.
 */
const stack = useStack('parts_x', { connections: mysqlConnectionEntries() });
const { source: pgSource, target: pgTarget, mysql: myAdmin, schema } = stack;
// MySQL sources live in mms_source, the only database the read-only user may read.
const myDb = mysqlSettings.sourceDb;
const myYm = uniqueName('e2e_ym');
const myLong = `${uniqueName('e2e_long_partitioned_events_table')}_abcdefghij`;
const pgSchemas: string[] = [];
const myDatabases: string[] = [];

const months = Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(2, '0'));
const upperOf = (m: string): string =>
  m === '12' ? '2025-01-01' : `2024-${String(Number(m) + 1).padStart(2, '0')}-01`;
/** Quarters of (y, m) in 2023 and 2024: [start month, next quarter's (y, m)]. */
const quarters = [2023, 2024].flatMap((y) =>
  [1, 4, 7, 10].map((m, q) => ({ name: `q${y}_${q + 1}`, y, m, to: m === 10 ? [y + 1, 1] : [y, m + 3] })),
);

type Rows = (string | null)[][];

/** Every row of a PostgreSQL table as text, in key order. */
async function pgRows(pool: typeof pgSource, table: string, columns: string[]): Promise<Rows> {
  const list = columns.map((c) => `${c}::text`).join(', ');
  const result = await pool.query({
    text: `SELECT ${list} FROM ${table} ORDER BY 1, 2, 3`,
    rowMode: 'array',
  });
  return result.rows as Rows;
}

/** Every row of a MySQL table or partition as text, in key order. */
async function myRows(table: string, columns: string[], partition?: string): Promise<Rows> {
  const from = `${table}${partition ? ` PARTITION (${quoteIdent(partition)})` : ''}`;
  const [rows] = await myAdmin.query({
    sql: `SELECT ${columns.map((c) => `CAST(${c} AS CHAR)`).join(', ')} FROM ${from} ORDER BY 1, 2, 3`,
    rowsAsArray: true,
  });
  return (rows as (string | number | null)[][]).map((r) => r.map((v) => (v === null ? null : String(v))));
}

/** A MySQL table's partitions in order: name, method, key and bound as information_schema has them. */
async function myPartitions(db: string, table: string): Promise<string[]> {
  const [rows] = await myAdmin.query(
    `SELECT PARTITION_NAME AS name, PARTITION_METHOD AS method, PARTITION_EXPRESSION AS expression, PARTITION_DESCRIPTION AS bound
     FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY PARTITION_ORDINAL_POSITION`,
    [db, table],
  );
  return (rows as Record<string, string>[]).map((r) => `${r.name} ${r.method}(${r.expression}) ${r.bound}`);
}

/** A PostgreSQL table's partitions by name, with their bounds. */
async function pgPartitions(out: string, table: string): Promise<string[]> {
  const result = await pgTarget.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass ORDER BY 1`,
    [`"${out}"."${table}"`],
  );
  return result.rows.map((r) => `${r.name} ${r.bound}`);
}

/** Runs a job and returns its report, or the code of the failure that ended it. */
async function run(
  spec: Record<string, unknown>,
): Promise<{ report?: JobReport; code?: string; message?: string }> {
  const job = await stack.client.start({
    chunkRows: 40,
    maxParallelTasks: 4,
    verify: { mode: 'checksum' },
    ...spec,
  } as never);
  try {
    return { report: await stack.client.result(job.jobId) };
  } catch (e) {
    let cause: unknown = e;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return { code: (cause as { type?: string }).type, message: (cause as Error).message };
  }
}

/** Asserts every task succeeded with matching counts and checksums, `rows` rows each, for these source tables. */
function expectVerified(
  report: JobReport | undefined,
  tables: string[],
  rowsOf: number | ((table: string) => number),
): void {
  const failures = report?.results.filter((r) => r.status !== 'succeeded').map((r) => [r.table, r.error]);
  expect(report?.status, JSON.stringify(failures)).toBe('succeeded');
  const results = [...(report?.results ?? [])].sort((a, b) => a.table.localeCompare(b.table));
  expect(results.map((r) => r.table)).toEqual([...tables].sort());
  for (const r of results) {
    const rows = typeof rowsOf === 'number' ? rowsOf : rowsOf(r.table);
    expect(r).toMatchObject({
      rowsRead: rows,
      rowsWritten: rows,
      sourceCount: rows,
      targetCount: rows,
      verification: { mode: 'checksum', matched: true },
    });
    expect(r.verification?.targetChecksum).toBe(r.verification?.sourceChecksum);
  }
}

const myOut = (prefix: string): string => {
  const name = uniqueName(prefix);
  myDatabases.push(name);
  return name;
};
const pgOut = (prefix: string): string => {
  const name = uniqueName(prefix);
  pgSchemas.push(name);
  return name;
};
const fromPg = { connection: 'pg_source', schema };
const eventColumns = ['id', 'at', 'amount', 'body'];
const ymColumns = ['y', 'm', 'id', 'amount'];

beforeAll(async () => {
  await pgSource.query(`CREATE SCHEMA ${schema}`);
  await pgSource.query(
    `CREATE TABLE ${schema}.events (id bigint, at date NOT NULL, amount numeric(10,2) NOT NULL, body text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
  );
  for (const m of months) {
    const from = m === '01' ? 'MINVALUE' : `'2024-${m}-01'`;
    const to = m === '12' ? 'MAXVALUE' : `'${upperOf(m)}'`;
    await pgSource.query(
      `CREATE TABLE ${schema}.events_2024_${m} PARTITION OF ${schema}.events FOR VALUES FROM (${from}) TO (${to})`,
    );
    await pgSource.query(
      `INSERT INTO ${schema}.events SELECT g, date '2024-${m}-01' + (g % 28), (g * 37 % 100000) / 100.0, CASE WHEN g % 10 = 0 THEN NULL ELSE 'e' || g END
       FROM generate_series(${Number(m) * 1000}, ${Number(m) * 1000 + 99}) g`,
    );
  }
  await pgSource.query(
    `CREATE TABLE ${schema}.by_region (id int, region varchar(8), PRIMARY KEY (id, region)) PARTITION BY LIST (region);
     CREATE TABLE ${schema}.by_region_eu PARTITION OF ${schema}.by_region FOR VALUES IN ('de', 'fr');
     CREATE TABLE ${schema}.by_region_us PARTITION OF ${schema}.by_region FOR VALUES IN ('us');
     CREATE TABLE ${schema}.by_region_other PARTITION OF ${schema}.by_region DEFAULT;
     INSERT INTO ${schema}.by_region SELECT g, (ARRAY['de', 'fr', 'us', 'jp'])[g % 4 + 1] FROM generate_series(1, 200) g`,
  );
  // RANGE over (y, m): a quarter per partition, 10 rows a month.
  await pgSource.query(
    `CREATE TABLE ${schema}.by_month (y int, m int, id int, amount numeric(10,2), PRIMARY KEY (y, m, id)) PARTITION BY RANGE (y, m)`,
  );
  for (const q of quarters) {
    await pgSource.query(
      `CREATE TABLE ${schema}.by_month_${q.name} PARTITION OF ${schema}.by_month FOR VALUES FROM (${q.y}, ${q.m}) TO (${q.to.join(', ')})`,
    );
  }
  await pgSource.query(
    `INSERT INTO ${schema}.by_month SELECT y, m, g, y + m + g / 100.0 FROM generate_series(2023, 2024) y, generate_series(1, 12) m, generate_series(1, 10) g`,
  );
  // Text bounds whose byte order ('A' < 'M' < 'a' < 'm') is not their case-insensitive order.
  await pgSource.query(
    `CREATE TABLE ${schema}.by_name (name varchar(8) COLLATE "C", id int, PRIMARY KEY (name, id)) PARTITION BY RANGE (name);
     CREATE TABLE ${schema}.by_name_upper PARTITION OF ${schema}.by_name FOR VALUES FROM ('A') TO ('M');
     CREATE TABLE ${schema}.by_name_upper2 PARTITION OF ${schema}.by_name FOR VALUES FROM ('M') TO ('a');
     CREATE TABLE ${schema}.by_name_lower PARTITION OF ${schema}.by_name FOR VALUES FROM ('a') TO ('m');
     INSERT INTO ${schema}.by_name SELECT n, g FROM unnest(ARRAY['Anna', 'Bob', 'Mia', 'Zoe', 'al', 'kim']) n, generate_series(1, 5) g`,
  );
  // Days in UTC, written in another zone: the bounds and rows reach MySQL as UTC DATETIMEs.
  await pgSource.query(
    `SET TIME ZONE 'Europe/Berlin';
     CREATE TABLE ${schema}.by_day (at timestamptz, id int, PRIMARY KEY (at, id)) PARTITION BY RANGE (at);
     CREATE TABLE ${schema}.by_day_1 PARTITION OF ${schema}.by_day FOR VALUES FROM ('2024-03-01 00:00:00+00') TO ('2024-03-02 00:00:00+00');
     CREATE TABLE ${schema}.by_day_2 PARTITION OF ${schema}.by_day FOR VALUES FROM ('2024-03-02 00:00:00+00') TO ('2024-03-03 00:00:00+00');
     INSERT INTO ${schema}.by_day SELECT timestamptz '2024-03-01 00:00:00+00' + g * interval '59 minutes 59.999999 seconds', g FROM generate_series(0, 48) g;
     RESET TIME ZONE`,
  );
  await pgSource.query(
    `CREATE TABLE ${schema}.by_code (code text NOT NULL) PARTITION BY RANGE (lower(code));
     CREATE TABLE ${schema}.by_code_a PARTITION OF ${schema}.by_code FOR VALUES FROM ('a') TO ('m');
     CREATE TABLE ${schema}.by_amount (amount numeric(10,2) NOT NULL) PARTITION BY RANGE (amount);
     CREATE TABLE ${schema}.by_amount_low PARTITION OF ${schema}.by_amount FOR VALUES FROM (0) TO (100)`,
  );
  await pgSource.query(`GRANT USAGE ON SCHEMA ${schema} TO ${services.pg.readerUser}`);
  await pgSource.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`);

  // The same quarters on MySQL, RANGE COLUMNS(y, m).
  const definitions = quarters.map((q) => `PARTITION ${q.name} VALUES LESS THAN (${q.to.join(', ')})`);
  await myAdmin.query(
    `CREATE TABLE ${quoteIdent(myDb)}.${quoteIdent(myYm)} (y int NOT NULL, m int NOT NULL, id int NOT NULL, amount decimal(10,2), PRIMARY KEY (y, m, id))
     PARTITION BY RANGE COLUMNS(y, m) (${definitions.join(', ')})`,
  );
  const values = [2023, 2024].flatMap((y) =>
    months.flatMap((m) =>
      Array.from({ length: 10 }, (_, g) => `(${y}, ${Number(m)}, ${g + 1}, ${y + Number(m)}.${g}0)`),
    ),
  );
  await myAdmin.query(`INSERT INTO ${quoteIdent(myDb)}.${quoteIdent(myYm)} VALUES ${values.join(', ')}`);
  // A table and partition whose PostgreSQL name <table>_<partition> is past 63 bytes.
  await myAdmin.query(
    `CREATE TABLE ${quoteIdent(myDb)}.${quoteIdent(myLong)} (id int NOT NULL PRIMARY KEY)
     PARTITION BY RANGE (id) (PARTITION p_first_hundred_rows_of_the_table VALUES LESS THAN (100), PARTITION p_the_rest_of_the_rows_of_the_table VALUES LESS THAN MAXVALUE)`,
  );
  await myAdmin.query(
    `INSERT INTO ${quoteIdent(myDb)}.${quoteIdent(myLong)} SELECT seq FROM ${quoteIdent(myDb)}.seq_1_to_250`,
  );
});

afterAll(async () => {
  await pgSource.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  for (const s of pgSchemas) {
    await pgSource.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pgTarget.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  }
  for (const t of [myYm, myLong])
    await myAdmin.query(`DROP TABLE IF EXISTS ${quoteIdent(myDb)}.${quoteIdent(t)}`);
  for (const d of myDatabases) await myAdmin.query(`DROP DATABASE IF EXISTS ${quoteIdent(d)}`);
});

describe('PostgreSQL partitions into MySQL', () => {
  it('become partitions of one MySQL RANGE COLUMNS table, whatever order the tasks run in', async () => {
    const out = myOut('e2e_pgmy_range');
    const target = { connection: 'my_target', schema: out };
    // January starts at MINVALUE, December ends at MAXVALUE; four tasks prepare at once.
    const chosen = ['events_2024_09', 'events_2024_01', 'events_2024_12', 'events_2024_05'];
    const first = await run({
      kind: 'partitions',
      source: fromPg,
      target,
      partitions: [{ table: 'events', include: chosen }],
    });
    expectVerified(
      first.report,
      chosen.map((p) => `${schema}.${p}`),
      100,
    );
    const bound = (m: string): string => (m === '12' ? 'MAXVALUE' : `'${upperOf(m)}'`);
    const expected = (ms: string[]): string[] =>
      ms.map((m) => `events_2024_${m} RANGE COLUMNS(\`at\`) ${bound(m)}`);
    expect(await myPartitions(out, 'events')).toEqual(expected(['01', '05', '09', '12']));

    // By value into the same table: March and April are split off May (REORGANIZE PARTITION).
    const second = await run({
      kind: 'partitions',
      source: fromPg,
      target,
      partitions: [{ table: 'events', from: '2024-03-15', to: '2024-05-01' }],
    });
    expectVerified(second.report, [`${schema}.events_2024_03`, `${schema}.events_2024_04`], 100);
    const all = ['01', '03', '04', '05', '09', '12'];
    expect(await myPartitions(out, 'events')).toEqual(expected(all));
    const table = `${quoteIdent(out)}.events`;
    for (const m of all) {
      expect(await myRows(table, eventColumns, `events_2024_${m}`)).toEqual(
        await pgRows(pgSource, `${schema}.events_2024_${m}`, eventColumns),
      );
    }
    expect(await myRows(table, eventColumns)).toHaveLength(600);
  });

  it('become LIST COLUMNS partitions; a DEFAULT partition is refused with BAD_SPEC naming the table', async () => {
    const out = myOut('e2e_pgmy_list');
    const target = { connection: 'my_target', schema: out };
    const { report } = await run({
      kind: 'partitions',
      source: fromPg,
      target,
      partitions: [{ table: 'by_region', include: ['by_region_eu', 'by_region_us'] }],
    });
    // de, fr, us and jp take turns over 200 ids.
    expectVerified(report, [`${schema}.by_region_eu`, `${schema}.by_region_us`], (t) =>
      t.endsWith('_eu') ? 100 : 50,
    );
    // LIST partitions are appended in the order their tasks ran: that order means nothing.
    expect((await myPartitions(out, 'by_region')).sort()).toEqual([
      "by_region_eu LIST COLUMNS(`region`) 'de','fr'",
      "by_region_us LIST COLUMNS(`region`) 'us'",
    ]);
    for (const p of ['by_region_eu', 'by_region_us']) {
      expect(await myRows(`${quoteIdent(out)}.by_region`, ['id', 'region', "''"], p)).toEqual(
        await pgRows(pgSource, `${schema}.${p}`, ['id', 'region', "''"]),
      );
    }

    const refused = await run({
      kind: 'partitions',
      source: fromPg,
      target,
      partitions: [{ table: 'by_region', include: ['by_region_other'] }],
    });
    expect(refused.report?.status).toBe('failed');
    expect(refused.report?.results[0]?.error).toMatchObject({
      code: 'BAD_SPEC',
      message: `${schema}.by_region (partition by_region_other) is the DEFAULT partition: MySQL partitions have no DEFAULT; copy the whole table with kind "tables"`,
    });
  });

  it('compares text bounds byte by byte, as the target column does', async () => {
    const out = myOut('e2e_pgmy_text');
    const target = { connection: 'my_target', schema: out };
    // One at a time, lowest last: each later partition is split off the one above it.
    for (const p of ['by_name_lower', 'by_name_upper2', 'by_name_upper']) {
      const { report } = await run({
        kind: 'partitions',
        source: fromPg,
        target,
        partitions: [{ table: 'by_name', include: [p] }],
      });
      expectVerified(report, [`${schema}.${p}`], 10);
    }
    expect(await myPartitions(out, 'by_name')).toEqual([
      "by_name_upper RANGE COLUMNS(`name`) 'M'",
      "by_name_upper2 RANGE COLUMNS(`name`) 'a'",
      "by_name_lower RANGE COLUMNS(`name`) 'm'",
    ]);
  });

  it('gives timestamptz keys DATETIME bounds in UTC, and each row its partition', async () => {
    const out = myOut('e2e_pgmy_tstz');
    const { report } = await run({
      kind: 'partitions',
      source: fromPg,
      target: { connection: 'my_target', schema: out },
      partitions: [{ table: 'by_day' }],
    });
    expectVerified(report, [`${schema}.by_day_1`, `${schema}.by_day_2`], (t) => (t.endsWith('_1') ? 25 : 24));
    expect(await myPartitions(out, 'by_day')).toEqual([
      "by_day_1 RANGE COLUMNS(`at`) '2024-03-02 00:00:00'",
      "by_day_2 RANGE COLUMNS(`at`) '2024-03-03 00:00:00'",
    ]);
    const [rows] = await myAdmin.query(
      `SELECT CAST(MAX(at) AS CHAR) AS last FROM ${quoteIdent(out)}.by_day PARTITION (by_day_1)`,
    );
    expect((rows as { last: string }[])[0]?.last).toBe('2024-03-01 23:59:59.999976');
  });

  it('refuses expression keys and key types MySQL cannot partition by, with BAD_SPEC naming the table', async () => {
    const target = { connection: 'my_target', schema: myOut('e2e_pgmy_refused') };
    const byCode = await run({
      kind: 'partitions',
      source: fromPg,
      target,
      partitions: [{ table: 'by_code' }],
    });
    expect(byCode.report?.results[0]?.error).toMatchObject({
      code: 'BAD_SPEC',
      message: expect.stringMatching(
        new RegExp(
          `^${schema}\\.by_code \\(partition by_code_a\\) is partitioned by the expression RANGE \\(lower\\(code\\)\\)`,
        ),
      ) as unknown,
    });
    const byAmount = await run({
      kind: 'partitions',
      source: fromPg,
      target,
      partitions: [{ table: 'by_amount' }],
    });
    expect(byAmount.report?.results[0]?.error).toMatchObject({
      code: 'BAD_SPEC',
      message: expect.stringContaining(
        `${schema}.by_amount (partition by_amount_low) has the key column amount of type numeric(10,2), decimal(10,2) on MySQL`,
      ) as unknown,
    });
  });

  it('mms plan shows the CREATE TABLE … PARTITION BY RANGE COLUMNS a task would run', async () => {
    const fresh = myOut('e2e_pgmy_plan');
    const plan = await stack.client.plan({
      kind: 'partitions',
      source: fromPg,
      target: { connection: 'my_target', schema: fresh },
      partitions: [{ table: 'events', include: ['events_2024_03'] }],
    });
    expect(plan.tasks).toHaveLength(1);
    expect(plan.tasks[0]?.target).toBe(`${fresh}.events/events_2024_03`);
    expect(plan.tasks[0]?.statements[2]).toMatch(
      new RegExp(
        `^CREATE TABLE \`${fresh}\`\\.\`events\` \\([\\s\\S]+\\nPARTITION BY RANGE COLUMNS\\(\`at\`\\) \\(PARTITION \`events_2024_03\` VALUES LESS THAN \\('2024-04-01'\\)\\)$`,
      ),
    );
  });
});

describe('value ranges over RANGE keys of several columns', () => {
  it('chooses PostgreSQL partitions by tuples, into MySQL RANGE COLUMNS(y, m) and into PostgreSQL', async () => {
    const out = myOut('e2e_tuple_pgmy');
    // From May 2023 to the end of 2023 (to [2024] is (2024, MINVALUE)): Q2 to Q4 of 2023.
    const { report } = await run({
      kind: 'partitions',
      source: fromPg,
      target: { connection: 'my_target', schema: out },
      partitions: [{ table: 'by_month', from: [2023, 5], to: [2024] }],
    });
    const chosen = ['q2023_2', 'q2023_3', 'q2023_4'];
    expectVerified(
      report,
      chosen.map((q) => `${schema}.by_month_${q}`),
      30,
    );
    expect(await myPartitions(out, 'by_month')).toEqual([
      'by_month_q2023_2 RANGE COLUMNS(`y`,`m`) 2023,7',
      'by_month_q2023_3 RANGE COLUMNS(`y`,`m`) 2023,10',
      'by_month_q2023_4 RANGE COLUMNS(`y`,`m`) 2024,1',
    ]);
    for (const q of chosen) {
      expect(await myRows(`${quoteIdent(out)}.by_month`, ymColumns, `by_month_${q}`)).toEqual(
        await pgRows(pgSource, `${schema}.by_month_${q}`, ymColumns),
      );
    }

    const pg = pgOut('e2e_tuple_pgpg');
    const intoPg = await run({
      kind: 'partitions',
      source: fromPg,
      target: { connection: 'pg_target', schema: pg },
      partitions: [{ table: 'by_month', from: [2024, 7], to: ['2025'] }],
    });
    expectVerified(intoPg.report, [`${schema}.by_month_q2024_3`, `${schema}.by_month_q2024_4`], 30);
    expect(await pgPartitions(pg, 'by_month')).toEqual([
      'by_month_q2024_3 FOR VALUES FROM (2024, 7) TO (2024, 10)',
      'by_month_q2024_4 FOR VALUES FROM (2024, 10) TO (2025, 1)',
    ]);
  });

  it('chooses MySQL RANGE COLUMNS(y, m) partitions by tuples, into PostgreSQL; a tuple wider than the key is BAD_SPEC', async () => {
    const out = pgOut('e2e_tuple_mypg');
    const fromMy = { connection: 'my_source', schema: myDb };
    // [(2024, 2), (2024, 7)): Q1 and Q2 of 2024; Q3 starts at (2024, 7).
    const { report } = await run({
      kind: 'partitions',
      source: fromMy,
      target: { connection: 'pg_target', schema: out },
      partitions: [{ table: myYm, from: [2024, 2], to: [2024, 7] }],
    });
    expectVerified(report, [`${myDb}.${myYm}/q2024_1`, `${myDb}.${myYm}/q2024_2`], 30);
    expect(await pgPartitions(out, myYm)).toEqual([
      `${myYm}_q2024_1 FOR VALUES FROM (2024, 1) TO (2024, 4)`,
      `${myYm}_q2024_2 FOR VALUES FROM (2024, 4) TO (2024, 7)`,
    ]);
    for (const q of ['q2024_1', 'q2024_2']) {
      expect(await pgRows(pgTarget, `"${out}"."${myYm}_${q}"`, ymColumns)).toEqual(
        await myRows(`${quoteIdent(myDb)}.${quoteIdent(myYm)}`, ymColumns, q),
      );
    }

    const wide = await run({
      kind: 'partitions',
      source: fromMy,
      target: { connection: 'pg_target', schema: out },
      partitions: [{ table: myYm, from: [2024, 2, 1] }],
    });
    expect(wide.code).toBe('BAD_SPEC');
    expect(wide.message).toContain(`${myDb}.${myYm}: from/to give 3 values, but the RANGE key has 2 columns`);
  });
});

describe('long partition table names on PostgreSQL', () => {
  it('shortens <table>_<partition> past 63 bytes to a prefix and a hash, and mms plan says so', async () => {
    const out = pgOut('e2e_longnames');
    const spec = {
      kind: 'partitions',
      source: { connection: 'my_source', schema: myDb },
      target: { connection: 'pg_target', schema: out },
      partitions: [{ table: myLong }],
    };
    const names = ['p_first_hundred_rows_of_the_table', 'p_the_rest_of_the_rows_of_the_table'].map((p) =>
      partitionTableName(myLong, p),
    );
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    const plan = await stack.client.plan(spec as never);
    expect(plan.tasks[0]?.statements.join('\n')).toContain(
      `CREATE TABLE "${out}"."${names[0]}" PARTITION OF`,
    );
    expect(plan.tasks[0]?.warnings).toContain(
      `${out}.${myLong}/p_first_hundred_rows_of_the_table: the table ${myLong}_p_first_hundred_rows_of_the_table would be longer than PostgreSQL's 63 bytes; it is named ${names[0]}`,
    );
    const { report } = await run(spec);
    expect(report?.status).toBe('succeeded');
    expect(report?.results.map((r) => r.targetCount).sort()).toEqual([151, 99]);
    expect(await pgPartitions(out, myLong)).toEqual(
      [
        `${names[0]} FOR VALUES FROM (MINVALUE) TO (100)`,
        `${names[1]} FOR VALUES FROM (100) TO (MAXVALUE)`,
      ].sort(),
    );
  });
});

describe('shard members by a schema glob', () => {
  it('merges the same table of every PostgreSQL schema whose name matches, and refuses a glob that matches none', async () => {
    const base = pgOut('e2e_shop');
    const shops = [`${base}_eu`, `${base}_us`];
    pgSchemas.push(...shops);
    for (const [i, s] of shops.entries()) {
      await pgSource.query(
        `CREATE SCHEMA ${s}; CREATE TABLE ${s}.orders (id int PRIMARY KEY, amount numeric(10,2) NOT NULL);
         INSERT INTO ${s}.orders SELECT g, g * ${i + 2} FROM generate_series(1, 120) g;
         GRANT USAGE ON SCHEMA ${s} TO ${services.pg.readerUser}; GRANT SELECT ON ${s}.orders TO ${services.pg.readerUser}`,
      );
    }
    const out = pgOut('e2e_shop_all');
    const { report } = await run({
      kind: 'shards',
      source: fromPg,
      target: { connection: 'pg_target', schema: out },
      shards: [{ target: 'orders_all', tables: [`${base}_*.orders`], shardColumn: 'shop' }],
    });
    expectVerified(report, [`${shops[0]}.orders_all`], 240);
    const merged = await pgTarget.query<{ shop: string; n: string; total: string }>(
      `SELECT shop, count(*)::text AS n, sum(amount)::text AS total FROM "${out}".orders_all GROUP BY 1 ORDER BY 1`,
    );
    expect(merged.rows).toEqual(
      shops.map((s, i) => ({ shop: `${s}.orders`, n: '120', total: `${(120 * 121 * (i + 2)) / 2}.00` })),
    );

    const none = await run({
      kind: 'shards',
      source: fromPg,
      target: { connection: 'pg_target', schema: out },
      shards: [{ target: 'orders_none', tables: [`${base}_x?.orders`] }],
    });
    expect(none.code).toBe('BAD_SPEC');
    expect(none.message).toContain(`no schema (MySQL: database) of the source matches "${base}_x?"`);
  });

  it('merges the same table of every MySQL database whose name matches', async () => {
    const base = myOut('e2e_myshop');
    const shops = [`${base}_a`, `${base}_b`, `${base}_c`];
    myDatabases.push(...shops);
    for (const [i, d] of shops.entries()) {
      await myAdmin.query(`CREATE DATABASE ${quoteIdent(d)}`);
      await myAdmin.query(
        `CREATE TABLE ${quoteIdent(d)}.orders (id int PRIMARY KEY, amount decimal(10,2) NOT NULL)`,
      );
      const values = Array.from({ length: 50 }, (_, g) => `(${g + 1}, ${(g + 1) * (i + 1)})`);
      await myAdmin.query(`INSERT INTO ${quoteIdent(d)}.orders VALUES ${values.join(', ')}`);
    }
    const out = pgOut('e2e_myshop_all');
    // The read-only user sees only mms_source, so these databases are read through the root connection.
    const { report } = await run({
      kind: 'shards',
      source: { connection: 'my_target', schema: shops[0] },
      target: { connection: 'pg_target', schema: out },
      shards: [{ target: 'orders_all', tables: [`${base}_?.orders`], shardColumn: 'shop' }],
    });
    expectVerified(report, [`${shops[0]}.orders_all`], 150);
    const merged = await pgTarget.query<{ shop: string; n: string }>(
      `SELECT shop, count(*)::text AS n FROM "${out}".orders_all GROUP BY 1 ORDER BY 1`,
    );
    expect(merged.rows).toEqual(shops.map((s) => ({ shop: `${s}.orders`, n: '50' })));
  });
});
