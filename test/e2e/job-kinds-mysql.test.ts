import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobReport } from '../../src/core/task';
import { quoteIdent } from '../../src/connectors/mysql/mysql-dialect';
import { mysqlConnectionEntries, mysqlSettings } from '../support/mysql';
import { uniqueName } from '../support/services';
import { useStack } from '../support/stack';

// MySQL sources live in mms_source, the only database the read-only user may read.
const db = mysqlSettings.sourceDb;
const events = uniqueName('e2e_myparts');
const byYear = uniqueName('e2e_myyear');
const subparts = uniqueName('e2e_mysub');
const listed = uniqueName('e2e_mylist');
const rowsPerMonth = 100;
const months = Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(2, '0'));
/** Partition p2024_MM holds the dates of month MM: VALUES LESS THAN the first of the next month. */
const upperOf = (m: string): string =>
  m === '12' ? '2025-01-01' : `2024-${String(Number(m) + 1).padStart(2, '0')}-01`;

const localDir = mkdtempSync(path.join(os.tmpdir(), 'mms-myparts-'));
const stack = useStack('kinds_my', {
  connections: {
    ...mysqlConnectionEntries(),
    local_out: { engine: 'local', path: localDir, format: 'jsonl' },
  },
});
const { mysql: myAdmin, target: pgTarget } = stack;
const pgSchemas: string[] = [];
const myDatabases: string[] = [];

interface Digest {
  n: string;
  total: string;
  digest: string;
}

/** Count, sum and an md5 over every value of a MySQL table or partition, in id order. */
async function myDigest(schema: string, table: string, partition?: string): Promise<Digest> {
  const from = `${quoteIdent(schema)}.${quoteIdent(table)}${partition ? ` PARTITION (${quoteIdent(partition)})` : ''}`;
  const [rows] = await myAdmin.query(
    `SELECT COUNT(*) AS n, SUM(amount) AS total, MD5(GROUP_CONCAT(CONCAT_WS('|', id, at, amount, body) ORDER BY id SEPARATOR ',')) AS digest FROM ${from}`,
  );
  const r = (rows as Record<string, unknown>[])[0]!;
  return { n: String(r.n), total: String(r.total), digest: String(r.digest) };
}

/** The same digest of a PostgreSQL table, with the same text for each value. */
async function pgDigest(schema: string, table: string): Promise<Digest> {
  const result = await pgTarget.query<Digest>(
    `SELECT count(*)::text AS n, sum(amount)::text AS total, md5(string_agg(concat_ws('|', id, at, amount, body), ',' ORDER BY id)) AS digest FROM "${schema}"."${table}"`,
  );
  return result.rows[0]!;
}

/** The partitions of a MySQL table, in order, with their bounds. */
async function myPartitions(schema: string, table: string): Promise<{ name: string; bound: string }[]> {
  const [rows] = await myAdmin.query(
    'SELECT PARTITION_NAME AS name, PARTITION_DESCRIPTION AS bound FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY PARTITION_ORDINAL_POSITION',
    [schema, table],
  );
  return rows as { name: string; bound: string }[];
}

/** The partitions of a PostgreSQL table, by name, with their bounds. */
async function pgPartitions(schema: string, table: string): Promise<{ name: string; bound: string }[]> {
  const result = await pgTarget.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass ORDER BY 1`,
    [`"${schema}"."${table}"`],
  );
  return result.rows;
}

/** Runs a partitions job from the MySQL source and returns its report (or the failure's code). */
async function run(
  target: { connection: 'pg_target' | 'my_target' | 'local_out'; schema: string },
  partitions: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): Promise<{ report?: JobReport; code?: string }> {
  const job = await stack.client.start({
    kind: 'partitions',
    source: { connection: 'my_source', schema: db },
    target,
    partitions: partitions as never,
    chunkRows: 40,
    maxParallelTasks: 3,
    verify: { mode: 'checksum' },
    ...extra,
  });
  try {
    return { report: await stack.client.result(job.jobId) };
  } catch (e) {
    let cause: unknown = e;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return { code: (cause as { type?: string }).type };
  }
}

/** Asserts every task of a report passed the gate and the checksum comparison, with 100 rows each. */
function expectVerified(report: JobReport | undefined, partitions: string[]): void {
  const failures = report?.results.filter((r) => r.status !== 'succeeded').map((r) => [r.table, r.error]);
  expect(report?.status, JSON.stringify(failures)).toBe('succeeded');
  const results = [...(report?.results ?? [])].sort((a, b) => a.table.localeCompare(b.table));
  expect(results.map((r) => r.table)).toEqual(partitions.map((p) => `${db}.${events}/${p}`));
  for (const r of results) {
    expect(r).toMatchObject({
      status: 'succeeded',
      rowsRead: rowsPerMonth,
      rowsWritten: rowsPerMonth,
      sourceCount: rowsPerMonth,
      targetCount: rowsPerMonth,
      chunks: 3,
      verification: { mode: 'checksum', matched: true },
    });
    expect(r.verification?.targetChecksum).toBe(r.verification?.sourceChecksum);
  }
}

beforeAll(async () => {
  const table = `${quoteIdent(db)}.${quoteIdent(events)}`;
  const definitions = months.map((m) => `PARTITION p2024_${m} VALUES LESS THAN ('${upperOf(m)}')`).join(', ');
  await myAdmin.query(
    `CREATE TABLE ${table} (id bigint NOT NULL, at date NOT NULL, amount decimal(10,2) NOT NULL, body varchar(40) NULL, PRIMARY KEY (id, at))
     PARTITION BY RANGE COLUMNS(at) (${definitions})`,
  );
  // 100 rows a month: ids m*1000 + 0..99, dates spread over the month, amounts and a NULL body now and then.
  for (const m of months) {
    const values = Array.from({ length: rowsPerMonth }, (_, g) => {
      const id = Number(m) * 1000 + g;
      const body = g % 10 === 0 ? 'NULL' : `'e${id}'`;
      return `(${id}, DATE_ADD('2024-${m}-01', INTERVAL ${g % 28} DAY), ${(id * 37) % 100000}/100, ${body})`;
    });
    await myAdmin.query(`INSERT INTO ${table} VALUES ${values.join(', ')}`);
  }
  await myAdmin.query(
    `CREATE TABLE ${quoteIdent(db)}.${quoteIdent(byYear)} (id bigint NOT NULL, at date NOT NULL, amount decimal(10,2), body varchar(40), PRIMARY KEY (id, at))
     PARTITION BY RANGE (YEAR(at)) (PARTITION y2023 VALUES LESS THAN (2024), PARTITION y2024 VALUES LESS THAN (2025))`,
  );
  await myAdmin.query(
    `INSERT INTO ${quoteIdent(db)}.${quoteIdent(byYear)} VALUES (1, '2023-05-01', 1.50, 'a'), (2, '2024-05-01', 2.50, 'b'), (3, '2024-06-01', 3.50, NULL)`,
  );
  await myAdmin.query(
    `CREATE TABLE ${quoteIdent(db)}.${quoteIdent(subparts)} (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at))
     PARTITION BY RANGE (YEAR(at)) SUBPARTITION BY HASH (id) SUBPARTITIONS 2 (PARTITION a VALUES LESS THAN (2024), PARTITION b VALUES LESS THAN MAXVALUE)`,
  );
  await myAdmin.query(
    `CREATE TABLE ${quoteIdent(db)}.${quoteIdent(listed)} (id int NOT NULL, region varchar(8) NOT NULL, PRIMARY KEY (id, region))
     PARTITION BY LIST COLUMNS(region) (PARTITION eu VALUES IN ('de', 'fr'), PARTITION us VALUES IN ('us'))`,
  );
});

afterAll(async () => {
  for (const t of [events, byYear, subparts, listed])
    await myAdmin.query(`DROP TABLE IF EXISTS ${quoteIdent(db)}.${quoteIdent(t)}`);
  for (const d of myDatabases) await myAdmin.query(`DROP DATABASE IF EXISTS ${quoteIdent(d)}`);
  for (const s of pgSchemas) await pgTarget.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  rmSync(localDir, { recursive: true, force: true });
});

const pgOut = (prefix: string): string => {
  const name = uniqueName(prefix);
  pgSchemas.push(name);
  return name;
};
const myOut = (prefix: string): string => {
  const name = uniqueName(prefix);
  myDatabases.push(name);
  return name;
};

/** Checks a PostgreSQL target holds exactly these partitions, each with the source partition's rows. */
async function expectPgPartitions(schema: string, chosen: string[]): Promise<void> {
  const kind = await pgTarget.query<{ k: string }>(
    `SELECT relkind::text AS k FROM pg_class WHERE oid = $1::regclass`,
    [`"${schema}"."${events}"`],
  );
  expect(kind.rows[0]?.k).toBe('p');
  const lowerOf = (m: string): string => (m === '01' ? 'MINVALUE' : `'2024-${m}-01'`);
  expect(await pgPartitions(schema, events)).toEqual(
    chosen.map((p) => {
      const m = p.slice(-2);
      return { name: `${events}_${p}`, bound: `FOR VALUES FROM (${lowerOf(m)}) TO ('${upperOf(m)}')` };
    }),
  );
  for (const p of chosen)
    expect(await pgDigest(schema, `${events}_${p}`)).toEqual(await myDigest(db, events, p));
  const total = await pgDigest(schema, events);
  expect(total.n).toBe(String(chosen.length * rowsPerMonth));
}

/** Checks a MySQL target holds exactly these partitions, with the source's bounds and rows. */
async function expectMyPartitions(schema: string, chosen: string[]): Promise<void> {
  expect(await myPartitions(schema, events)).toEqual(
    chosen.map((p) => ({ name: p, bound: `'${upperOf(p.slice(-2))}'` })),
  );
  for (const p of chosen) expect(await myDigest(schema, events, p)).toEqual(await myDigest(db, events, p));
  expect((await myDigest(schema, events)).n).toBe(String(chosen.length * rowsPerMonth));
}

describe('MySQL partitions as a job source', () => {
  it('migrates 3 partitions chosen by name of a 12-partition table into a partitioned PostgreSQL table', async () => {
    const out = pgOut('e2e_mypg_names');
    const chosen = ['p2024_02', 'p2024_05', 'p2024_09'];
    const { report } = await run({ connection: 'pg_target', schema: out }, [
      { table: events, include: chosen },
    ]);
    expectVerified(report, chosen);
    await expectPgPartitions(out, chosen);
  });

  it('migrates the partitions whose bounds intersect [from, to) into PostgreSQL', async () => {
    const out = pgOut('e2e_mypg_range');
    // April holds 2024-04-15; July starts at `to`, so it is left out.
    const { report } = await run({ connection: 'pg_target', schema: out }, [
      { table: events, from: '2024-04-15', to: '2024-07-01' },
    ]);
    expectVerified(report, ['p2024_04', 'p2024_05', 'p2024_06']);
    await expectPgPartitions(out, ['p2024_04', 'p2024_05', 'p2024_06']);
  });

  it('migrates 3 partitions by name into MySQL: the parent gets only those partitions, in bound order', async () => {
    const out = myOut('e2e_mymy_names');
    // Three tasks at once prepare in any order: partitions below an existing one are split off it.
    const chosen = ['p2024_09', 'p2024_02', 'p2024_05'];
    const { report } = await run({ connection: 'my_target', schema: out }, [
      { table: events, include: chosen },
    ]);
    expectVerified(report, ['p2024_02', 'p2024_05', 'p2024_09']);
    await expectMyPartitions(out, ['p2024_02', 'p2024_05', 'p2024_09']);

    // Into the same target, by value: April and June are split off May and September, May is emptied and copied again.
    const again = await run({ connection: 'my_target', schema: out }, [
      { table: events, from: '2024-04-15', to: '2024-07-01' },
    ]);
    expectVerified(again.report, ['p2024_04', 'p2024_05', 'p2024_06']);
    await expectMyPartitions(out, ['p2024_02', 'p2024_04', 'p2024_05', 'p2024_06', 'p2024_09']);
  });

  it('migrates the partitions of a value range into a new MySQL database', async () => {
    const out = myOut('e2e_mymy_range');
    const { report } = await run({ connection: 'my_target', schema: out }, [
      { table: events, from: '2024-10-01', to: '2024-12-02', exclude: ['p2024_11'] },
    ]);
    expectVerified(report, ['p2024_10', 'p2024_12']);
    await expectMyPartitions(out, ['p2024_10', 'p2024_12']);
  });

  it('writes each partition to its own Hive folder of an object store, with its own manifest', async () => {
    const chosen = ['p2024_07', 'p2024_08'];
    await myAdmin.query(
      `INSERT INTO ${quoteIdent(db)}.${quoteIdent(listed)} VALUES (1, 'de'), (2, 'fr'), (3, 'fr'), (4, 'us')`,
    );
    const { report } = await run(
      { connection: 'local_out', schema: 'lake' },
      [
        { table: events, include: chosen },
        { table: listed, include: ['eu'] },
      ],
      {
        verify: { mode: 'count' },
      },
    );
    expect(report?.status).toBe('succeeded');
    // RANGE partitions keep their name as the folder: partition=<name>/; the table folder holds one manifest per partition.
    for (const p of chosen) {
      const manifest = JSON.parse(
        readFileSync(path.join(localDir, 'lake', events, `_manifest.${p}.json`), 'utf8'),
      ) as {
        rows: number;
        partitionBy: string[];
        parts: { key: string }[];
      };
      expect(manifest.rows).toBe(rowsPerMonth);
      expect(manifest.partitionBy).toEqual(['partition']);
      expect(manifest.parts.every((part) => part.key.startsWith(`lake/${events}/partition=${p}/part-`))).toBe(
        true,
      );
    }
    // A LIST partition is split by its key columns' values: eu holds de and fr.
    expect(readdirSync(path.join(localDir, 'lake', listed)).sort()).toEqual([
      '_manifest.eu.json',
      '_mms_checkpoint.eu.json',
      'region=de',
      'region=fr',
    ]);
    expect(report?.results.map((r) => [r.table, r.targetCount]).sort()).toEqual(
      [
        [`${db}.${events}/p2024_07`, rowsPerMonth],
        [`${db}.${events}/p2024_08`, rowsPerMonth],
        [`${db}.${listed}/eu`, 3],
      ].sort(),
    );
  });

  it('copies partitions keyed by an expression MySQL → MySQL, and refuses them on PostgreSQL with BAD_SPEC', async () => {
    const myTarget = myOut('e2e_mymy_year');
    const spec = [{ table: byYear, include: ['y2024'] }];
    const copied = await run({ connection: 'my_target', schema: myTarget }, spec);
    expect(copied.report?.status).toBe('succeeded');
    expect(copied.report?.results[0]).toMatchObject({ rowsWritten: 2, targetCount: 2 });
    expect(await myPartitions(myTarget, byYear)).toEqual([{ name: 'y2024', bound: '2025' }]);

    const refused = await run({ connection: 'pg_target', schema: pgOut('e2e_mypg_year') }, spec);
    expect(refused.report?.status).toBe('failed');
    expect(refused.report?.results[0]?.error).toMatchObject({
      code: 'BAD_SPEC',
      message: expect.stringContaining('partitioned by the expression year(`at`)') as unknown,
    });
  });

  it('refuses subpartitioned tables, and value ranges over LIST partitions, with BAD_SPEC', async () => {
    const target = { connection: 'pg_target' as const, schema: pgOut('e2e_mypg_refused') };
    expect((await run(target, [{ table: subparts }])).code).toBe('BAD_SPEC');
    expect((await run(target, [{ table: listed, from: 'a' }])).code).toBe('BAD_SPEC');
    expect((await run(target, [{ table: 'no_such_table' }])).code).toBe('TABLE_NOT_FOUND');
  });
});

describe('shards across MySQL databases', () => {
  it('merges same-named tables of two databases of one connection into one table', async () => {
    const dbs = [myOut('e2e_myshard_a'), myOut('e2e_myshard_b')];
    for (const [i, d] of dbs.entries()) {
      await myAdmin.query(`CREATE DATABASE ${quoteIdent(d)}`);
      await myAdmin.query(
        `CREATE TABLE ${quoteIdent(d)}.orders (id int PRIMARY KEY, amount decimal(10,2) NOT NULL)`,
      );
      const values = Array.from({ length: 200 }, (_, g) => `(${g + 1}, ${(g + 1) * (i + 2)})`);
      await myAdmin.query(`INSERT INTO ${quoteIdent(d)}.orders VALUES ${values.join(', ')}`);
    }
    const out = pgOut('e2e_myshards');
    // The read-only user sees only mms_source, so these databases are read through the root connection.
    const job = await stack.client.start({
      kind: 'shards',
      source: { connection: 'my_target', schema: dbs[0]! },
      target: { connection: 'pg_target', schema: out },
      shards: [{ target: 'orders_all', tables: dbs.map((d) => `${d}.orders`), shardColumn: 'source_db' }],
      verify: { mode: 'checksum' },
    });
    const report = await stack.client.result(job.jobId);
    expect(report.results[0]?.error).toBeUndefined();
    expect(report.status).toBe('succeeded');
    expect(report.results[0]).toMatchObject({
      rowsRead: 400,
      rowsWritten: 400,
      sourceCount: 400,
      targetCount: 400,
      verification: { matched: true },
    });
    const merged = await pgTarget.query<{ source_db: string; n: string; total: string }>(
      `SELECT source_db, count(*)::text AS n, sum(amount)::text AS total FROM "${out}".orders_all GROUP BY 1 ORDER BY 1`,
    );
    expect(merged.rows).toEqual(
      dbs.map((d, i) => ({ source_db: `${d}.orders`, n: '200', total: `${(200 * 201 * (i + 2)) / 2}.00` })),
    );
  });
});

describe('mms plan on a MySQL target', () => {
  it('shows the exact statements prepare would run against the target as it is now, and runs none', async () => {
    const fresh = myOut('e2e_myplan');
    const plan = await stack.client.plan({
      kind: 'partitions',
      source: { connection: 'my_source', schema: db },
      target: { connection: 'my_target', schema: fresh },
      partitions: [{ table: events, include: ['p2024_03'] }],
    });
    expect(plan.tasks).toHaveLength(1);
    const statements = plan.tasks[0]!.statements;
    expect(statements[0]).toBe(`CREATE DATABASE IF NOT EXISTS \`${fresh}\``);
    expect(statements[1]).toContain(`CREATE TABLE IF NOT EXISTS \`${fresh}\`.\`_mms_checkpoint\``);
    expect(statements[2]).toMatch(
      new RegExp(
        `^CREATE TABLE \`${fresh}\`\\.\`${events}\` \\([\\s\\S]+\\nPARTITION BY RANGE COLUMNS\\(\`at\`\\) \\(PARTITION \`p2024_03\` VALUES LESS THAN \\('2024-04-01'\\)\\)$`,
      ),
    );
    expect(statements).toHaveLength(3);
    const [created] = await myAdmin.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
      fresh,
    ]);
    expect(created as unknown[]).toHaveLength(0);

    // Against a target that exists: a partition below an existing one is split off it, an existing one emptied.
    const existing = myOut('e2e_myplan_existing');
    const { report } = await run({ connection: 'my_target', schema: existing }, [
      { table: events, include: ['p2024_06'] },
    ]);
    expect(report?.status).toBe('succeeded');
    const second = await stack.client.plan({
      kind: 'partitions',
      source: { connection: 'my_source', schema: db },
      target: { connection: 'my_target', schema: existing },
      partitions: [{ table: events, include: ['p2024_03', 'p2024_06', 'p2024_07'] }],
    });
    const byTable: Record<string, string[]> = {};
    for (const t of second.tasks) byTable[t.table.split('/')[1]!] = t.statements;
    const table = `\`${existing}\`.\`${events}\``;
    const checkpoint = `CREATE TABLE IF NOT EXISTS \`${existing}\`.\`_mms_checkpoint\``;
    expect(byTable.p2024_03?.[1]).toBe(
      `ALTER TABLE ${table} REORGANIZE PARTITION \`p2024_06\` INTO (PARTITION \`p2024_03\` VALUES LESS THAN ('2024-04-01'), PARTITION \`p2024_06\` VALUES LESS THAN ('2024-07-01'))`,
    );
    expect(byTable.p2024_03?.[2]).toBe(`ALTER TABLE ${table} TRUNCATE PARTITION \`p2024_03\``);
    expect(byTable.p2024_06?.slice(1)).toEqual([`ALTER TABLE ${table} TRUNCATE PARTITION \`p2024_06\``]);
    expect(byTable.p2024_07?.slice(1)).toEqual([
      `ALTER TABLE ${table} ADD PARTITION (PARTITION \`p2024_07\` VALUES LESS THAN ('2024-08-01'))`,
    ]);
    for (const statements of Object.values(byTable)) expect(statements[0]).toContain(checkpoint);
    // Nothing ran: the target still has its one partition with its 100 rows.
    await expectMyPartitions(existing, ['p2024_06']);
  });

  it('shows CREATE TABLE for a plain MySQL table too', async () => {
    const fresh = myOut('e2e_myplan_table');
    const plan = await stack.client.plan({
      kind: 'tables',
      tables: [listed],
      source: { connection: 'my_source', schema: db },
      target: { connection: 'my_target', schema: fresh },
    });
    expect(plan.tasks[0]?.statements[2]).toMatch(
      new RegExp(`^CREATE TABLE \`${fresh}\`\\.\`${listed}\` \\(`),
    );
  });
});
