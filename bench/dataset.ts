import type mysql from 'mysql2/promise';
import type pg from 'pg';

/**
 * The benchmark tables. Each is generated server-side from a row number, with the same
 * expressions in PostgreSQL and MariaDB, so both engines hold the same values. A table is
 * named after its size and reused by later runs when its row count is right.
 */

/** PostgreSQL schema (in the source database) of the generated tables. */
export const pgSchema = 'bench';

export const mainTableName = (rows: number): string => `rows_${rows}`;
/** MySQL sources live in mms_source (the only database the read-only user may read), so the name carries a prefix. */
export const myMainTableName = (rows: number): string => `bench_rows_${rows}`;
export const bigTableName = (rows: number, mb: number): string => `big_${rows}x${mb}mb`;
export const myBigTableName = (rows: number, mb: number): string => `bench_big_${rows}x${mb}mb`;
export const manySchemaName = (tables: number): string => `bench_many_${tables}`;

/** The columns of the main table, in order: every type the issue asks for, one of them nullable. */
export const mainColumns = ['id', 'qty', 'price', 'name', 'body', 'doc', 'at', 'flag', 'note'];

/** PostgreSQL DDL of the main table; also the pre-created target of the raw PostgreSQL baselines. */
export const pgMainDdl = (qualified: string): string => `CREATE TABLE ${qualified} (
  id bigint PRIMARY KEY,
  qty integer NOT NULL,
  price numeric(12,2) NOT NULL,
  name varchar(40) NOT NULL,
  body text NOT NULL,
  doc json NOT NULL,
  at timestamp(6) without time zone NOT NULL,
  flag boolean NOT NULL,
  note varchar(40)
)`;

/** MariaDB DDL of the main table; also the pre-created target of the raw MySQL baselines. */
export const myMainDdl = (qualified: string): string => `CREATE TABLE ${qualified} (
  id bigint NOT NULL PRIMARY KEY,
  qty int NOT NULL,
  price decimal(12,2) NOT NULL,
  name varchar(40) NOT NULL,
  body text NOT NULL,
  doc json NOT NULL,
  at datetime(6) NOT NULL,
  flag boolean NOT NULL,
  note varchar(40) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

// Row n's values. body is 20–200 characters; one row in ten starts with a tab and a backslash,
// which every text format must escape. note is NULL in one row of five.
const pgValues = `g,
  (g * 7919) % 1000000,
  ((g * 37) % 10000000)::numeric / 100,
  'name-' || g,
  left(CASE WHEN g % 10 = 0 THEN 'tab' || chr(9) || 'and ' || chr(92) || ' back ' ELSE '' END || repeat(md5(g::text), 7), (20 + (g * 13) % 181)::int),
  ('{"k": ' || g || ', "tags": ["a", "b"], "v": ' || (g % 1000) || '}')::json,
  timestamp '2020-01-01 00:00:00' + g * interval '1.000001 second',
  g % 3 = 0,
  CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || (g % 997) END`;

const myValues = `n,
  (n * 7919) % 1000000,
  ((n * 37) % 10000000) / 100,
  CONCAT('name-', n),
  LEFT(CONCAT(IF(n % 10 = 0, CONCAT('tab', CHAR(9 USING utf8mb4), 'and ', CHAR(92 USING utf8mb4), ' back '), ''), REPEAT(MD5(n), 7)), 20 + (n * 13) % 181),
  CONCAT('{"k": ', n, ', "tags": ["a", "b"], "v": ', n % 1000, '}'),
  TIMESTAMPADD(MICROSECOND, n * 1000001, '2020-01-01 00:00:00'),
  n % 3 = 0,
  IF(n % 5 = 0, NULL, CONCAT('note ', n % 997))`;

/** Where PostgreSQL tables are generated, and the read-only role the worker's source connection uses. */
export interface PgGen {
  pool: pg.Pool;
  reader: string;
  log: (message: string) => void;
}

async function pgCount(pool: pg.Pool, qualified: string): Promise<number | null> {
  const exists = await pool.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [qualified]);
  if (!exists.rows[0]?.t) return null;
  const result = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified}`);
  return Number(result.rows[0]?.n);
}

/** Creates `table` with `ddl` and fills it with `insert`, unless it already holds `rows` rows. */
async function ensurePgTable(
  { pool, reader, log }: PgGen,
  table: string,
  rows: number,
  build: (qualified: string) => Promise<void>,
): Promise<void> {
  const qualified = `${pgSchema}.${table}`;
  if ((await pgCount(pool, qualified)) === rows) return log(`dataset: PostgreSQL ${qualified} reused`);
  const started = performance.now();
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${pgSchema}`);
  await pool.query(`DROP TABLE IF EXISTS ${qualified}`);
  await build(qualified);
  // Hint bits and statistics are settled now, so no timed read pays for them.
  await pool.query(`VACUUM (ANALYZE, FREEZE) ${qualified}`);
  await pool.query(`GRANT USAGE ON SCHEMA ${pgSchema} TO ${reader}`);
  await pool.query(`GRANT SELECT ON ${qualified} TO ${reader}`);
  log(`dataset: PostgreSQL ${qualified} generated in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

export async function ensurePgMain(gen: PgGen, rows: number): Promise<void> {
  await ensurePgTable(gen, mainTableName(rows), rows, async (qualified) => {
    await gen.pool.query(pgMainDdl(qualified));
    await gen.pool.query(
      `INSERT INTO ${qualified} SELECT ${pgValues} FROM generate_series(1, $1::bigint) g`,
      [rows],
    );
  });
}

/** `rows` rows of `mb` MiB of text each: compressible, so the source stays small, but every byte crosses the wire. */
export async function ensurePgBig(gen: PgGen, rows: number, mb: number): Promise<void> {
  await ensurePgTable(gen, bigTableName(rows, mb), rows, async (qualified) => {
    await gen.pool.query(`CREATE TABLE ${qualified} (id bigint PRIMARY KEY, payload text NOT NULL)`);
    await gen.pool.query(
      `INSERT INTO ${qualified} SELECT g, repeat(md5(g::text), $2::int) FROM generate_series(1, $1::bigint) g`,
      [rows, (mb * 1024 * 1024) / 32],
    );
  });
}

/** `tables` one-row tables in their own schema, for the orchestration overhead. */
export async function ensurePgMany({ pool, reader, log }: PgGen, tables: number): Promise<void> {
  const schema = manySchemaName(tables);
  const present = await pool.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM pg_tables WHERE schemaname = $1`,
    [schema],
  );
  if (Number(present.rows[0]?.n) === tables) return log(`dataset: PostgreSQL ${schema} reused`);
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`DO $$ BEGIN FOR i IN 1..${tables} LOOP
      EXECUTE format('CREATE TABLE ${schema}.t%s (id int PRIMARY KEY, v text); INSERT INTO ${schema}.t%s VALUES (1, %L)', lpad(i::text, 5, '0'), lpad(i::text, 5, '0'), 'row ' || i);
    END LOOP; END $$`);
  await pool.query(`GRANT USAGE ON SCHEMA ${schema} TO ${reader}`);
  await pool.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${reader}`);
  log(`dataset: PostgreSQL ${schema} generated`);
}

/** The same main table in MariaDB, from the sequence engine in batches (one huge INSERT…SELECT bloats the undo log). */
export async function ensureMyMain(
  pool: mysql.Pool,
  database: string,
  rows: number,
  log: (message: string) => void,
): Promise<void> {
  const qualified = `\`${database}\`.\`${myMainTableName(rows)}\``;
  const [exists] = await pool.query<mysql.RowDataPacket[]>(
    `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
    [database, myMainTableName(rows)],
  );
  if (exists.length > 0) {
    const [count] = await pool.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${qualified}`);
    if (Number(count[0]?.n) === rows) return log(`dataset: MariaDB ${qualified} reused`);
  }
  const started = performance.now();
  await pool.query(`DROP TABLE IF EXISTS ${qualified}`);
  await pool.query(myMainDdl(qualified));
  const batch = 500_000;
  for (let from = 1; from <= rows; from += batch) {
    const to = Math.min(rows, from + batch - 1);
    await pool.query(
      `INSERT INTO ${qualified} SELECT ${myValues} FROM (SELECT seq AS n FROM seq_${from}_to_${to}) s`,
    );
  }
  await pool.query(`ANALYZE TABLE ${qualified}`);
  log(`dataset: MariaDB ${qualified} generated in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

/** The big-row table in MariaDB: the same values as {@link ensurePgBig}, inserted a few rows per statement. */
export async function ensureMyBig(
  pool: mysql.Pool,
  database: string,
  rows: number,
  mb: number,
  log: (message: string) => void,
): Promise<void> {
  const qualified = `\`${database}\`.\`${myBigTableName(rows, mb)}\``;
  const [exists] = await pool.query<mysql.RowDataPacket[]>(
    `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
    [database, myBigTableName(rows, mb)],
  );
  if (exists.length > 0) {
    const [count] = await pool.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${qualified}`);
    if (Number(count[0]?.n) === rows) return log(`dataset: MariaDB ${qualified} reused`);
  }
  const started = performance.now();
  await pool.query(`DROP TABLE IF EXISTS ${qualified}`);
  await pool.query(
    `CREATE TABLE ${qualified} (id bigint NOT NULL PRIMARY KEY, payload longtext NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  );
  const batch = 20;
  for (let from = 1; from <= rows; from += batch) {
    const to = Math.min(rows, from + batch - 1);
    await pool.query(`INSERT INTO ${qualified} SELECT seq, REPEAT(MD5(seq), ?) FROM seq_${from}_to_${to}`, [
      (mb * 1024 * 1024) / 32,
    ]);
  }
  await pool.query(`ANALYZE TABLE ${qualified}`);
  log(`dataset: MariaDB ${qualified} generated in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
