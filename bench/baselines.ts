import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mysql from 'mysql2';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { openPostgresPool } from '../src/connectors/postgres/postgres-pool';
import { decodeCopyLine, escapeCopyField } from '../src/connectors/postgres/postgres-copy-text';
import { PostgresSource } from '../src/connectors/postgres/postgres-source';
import { parquetFormat } from '../src/connectors/s3/s3-parquet';
import type { Row } from '../src/core/connector';
import type { LogicalType } from '../src/core/logical-types';
import { clientEnv, onPath, shell, type Services } from './env';

/**
 * The raw baselines: what the machine does with the same rows and no mms in the way. Each returns
 * its wall time in seconds; the caller checks the row count it left behind.
 */

/** Quotes a string for bash. */
const sq = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

const timeout = { timeoutSeconds: 1800 };

function psql(s: Services, database: string, command: string): string {
  const { host, port, user } = s.pg;
  return `psql -X -q -v ON_ERROR_STOP=1 -h ${host} -p ${port} -U ${user} -d ${database} -c ${sq(command)}`;
}

function mysqlCli(s: Services, database: string, sql?: string, extra = ''): string {
  const { host, port, user } = s.my;
  return `mysql ${extra} -h ${host} -P ${port} -u ${user} ${database}${sql ? ` -e ${sq(sql)}` : ''}`;
}

/** `psql \copy (select …) to stdout | psql \copy … from stdin`: PostgreSQL's own text pipe. */
export async function psqlPipe(s: Services, select: string, target: string, options = ''): Promise<number> {
  const out = psql(s, s.pg.sourceDb, `\\copy (${select}) to stdout${options}`);
  const into = psql(s, s.pg.targetDb, `\\copy ${target} from stdin${options}`);
  return (await shell(`${out} | ${into}`, { env: clientEnv(s), ...timeout })).seconds;
}

/** The same pipe in COPY's binary format, which our PostgreSQL → PostgreSQL copy uses for built-in types. */
export const psqlBinaryPipe = (s: Services, select: string, target: string): Promise<number> =>
  psqlPipe(s, select, target, ' with (format binary)');

/**
 * `mysql --quick -B | psql \copy … from stdin`: MySQL's own client streaming tab-separated text
 * (its escapes are COPY text's; NULL prints as `NULL`) into PostgreSQL's COPY, C at both ends.
 * What the machine does MySQL → PostgreSQL with no JavaScript in the way.
 */
export async function mysqlClientPipe(s: Services, table: string, target: string): Promise<number> {
  const out = mysqlCli(s, s.my.sourceDb, `SELECT * FROM \`${table}\``, '--quick --batch --skip-column-names');
  const into = psql(s, s.pg.targetDb, `\\copy ${target} from stdin with (null 'NULL')`);
  return (await shell(`${out} | ${into}`, { env: clientEnv(s), ...timeout })).seconds;
}

/** Exports rows as a TSV file with psql (PostgreSQL's COPY text is also MySQL's LOAD DATA default format). */
export async function exportTsv(s: Services, select: string, file: string): Promise<void> {
  await shell(psql(s, s.pg.sourceDb, `\\copy (${select}) to ${sq(file)}`), { env: clientEnv(s), ...timeout });
}

/** `LOAD DATA LOCAL INFILE` of a local file, through the mysql client. */
export async function loadDataLocal(s: Services, file: string, target: string): Promise<number> {
  const sql = `LOAD DATA LOCAL INFILE ${sq(file)} INTO TABLE ${target} CHARACTER SET utf8mb4`;
  return (await shell(mysqlCli(s, '', sql, '--local-infile=1'), { env: clientEnv(s), ...timeout })).seconds;
}

/** `mysqldump | mysql`: dump-and-restore with the defaults (extended inserts, one transaction). */
export async function mysqldumpPipe(s: Services, table: string, targetDb: string): Promise<number> {
  const { host, port, user } = s.my;
  const dump = `mysqldump --single-transaction -h ${host} -P ${port} -u ${user} ${s.my.sourceDb} ${table}`;
  return (await shell(`${dump} | ${mysqlCli(s, targetDb)}`, { env: clientEnv(s), ...timeout })).seconds;
}

/** `SELECT … INTO OUTFILE` then `LOAD DATA INFILE`: the server's own export and import, both timed. */
export async function outfileLoad(s: Services, source: string, target: string, dir: string): Promise<number> {
  const file = path.posix.join(dir, `bench-${process.pid}-${Date.now()}.tsv`);
  try {
    const sql =
      `SELECT * FROM ${source} INTO OUTFILE ${sq(file)} CHARACTER SET utf8mb4; ` +
      `LOAD DATA INFILE ${sq(file)} INTO TABLE ${target} CHARACTER SET utf8mb4`;
    return (await shell(mysqlCli(s, '', sql), { env: clientEnv(s), ...timeout })).seconds;
  } finally {
    rmSync(file, { force: true });
  }
}

/** Whether this pgloader build takes SBCL's `--dynamic-space-size` (its heap) as a runtime option. */
export async function pgloaderTakesHeapSize(s: Services): Promise<boolean> {
  try {
    await shell('pgloader --dynamic-space-size 4096 --version', { env: clientEnv(s), timeoutSeconds: 30 });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian's pgloader when it is missing, as scripts/services.sh installs what the services need. */
async function ensurePgloader(s: Services): Promise<void> {
  if (onPath('pgloader')) return;
  const sudo = process.getuid?.() === 0 ? '' : 'sudo -n ';
  const install = `${sudo}apt-get install -y -qq --no-install-recommends pgloader`;
  await shell(`${install} || (${sudo}apt-get update -qq && ${install})`, {
    env: clientEnv(s),
    timeoutSeconds: 600,
  }).catch((e: unknown) => {
    throw new Error(`pgloader is not installed and apt-get could not install it: ${String(e)}`);
  });
}

/**
 * pgloader MySQL → PostgreSQL of one table into `schema`, with its defaults. Its command file holds
 * both passwords, so it lives in a private directory that is removed afterwards.
 */
export async function pgloader(s: Services, table: string, schema: string, heapMb?: number): Promise<number> {
  await ensurePgloader(s);
  const dir = mkdtempSync('/tmp/mms-bench-pgloader-');
  chmodSync(dir, 0o700);
  const pw = (p: string): string => encodeURIComponent(p);
  const command = `LOAD DATABASE
  FROM mysql://${s.my.user}:${pw(s.my.password)}@${s.my.host}:${s.my.port}/${s.my.sourceDb}
  INTO postgresql://${s.pg.user}:${pw(s.pg.password)}@${s.pg.host}:${s.pg.port}/${s.pg.targetDb}
  INCLUDING ONLY TABLE NAMES MATCHING '${table}'
  ALTER SCHEMA '${s.my.sourceDb}' RENAME TO '${schema}';
`;
  const file = path.join(dir, 'load.pgloader');
  writeFileSync(file, command, { mode: 0o600 });
  try {
    const heap = heapMb ? `--dynamic-space-size ${heapMb} ` : '';
    return (await shell(`pgloader ${heap}--root-dir ${dir} ${file}`, { env: clientEnv(s), ...timeout }))
      .seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Splits a COPY text stream into lines; COPY escapes newlines inside values. */
async function* copyLines(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop() ?? '';
    yield* lines;
  }
  rest += decoder.end();
  if (rest) yield rest;
}

/**
 * PostgreSQL COPY read + Parquet encode in this process: one COPY of the whole table, decoded with
 * the project's COPY text decoder and encoded with the project's Parquet encoder (the same library
 * and settings as the S3 target), bytes counted and dropped. No Temporal, no chunks, no upload.
 */
export async function copyParquetInProcess(
  s: Services,
  schema: string,
  table: string,
): Promise<{ seconds: number; bytes: number; rows: number }> {
  const pool = openPostgresPool(
    {
      name: 'bench',
      config: {
        engine: 'postgres',
        host: s.pg.host,
        port: s.pg.port,
        database: s.pg.sourceDb,
        user: s.pg.user,
        lockTimeoutSeconds: 60,
        ssl: false,
        maxConnections: 2,
      },
      password: s.pg.password,
    },
    'mms-bench',
  );
  try {
    // Discovery gives the logical types the encoder needs; it is not timed.
    const page = await new PostgresSource(pool).discover(
      { schema, tables: [table], include: ['*'], exclude: [] },
      null,
      10,
    );
    const meta = page.tables[0];
    if (!meta) throw new Error(`${schema}.${table} not found`);
    const types: LogicalType[] = meta.columns.map((c) => c.type);
    const columns = meta.columns.map((c) => `"${c.name}"`).join(', ');
    const started = performance.now();
    const client = await pool.connect();
    let rows = 0;
    let bytes = 0;
    try {
      const stream = client.query(copyTo(`COPY (SELECT ${columns} FROM "${schema}"."${table}") TO STDOUT`));
      const decoded = (async function* (): AsyncGenerator<Row> {
        for await (const line of copyLines(stream)) {
          rows++;
          yield decodeCopyLine(line, types);
        }
      })();
      for await (const piece of parquetFormat.encode(meta.columns, decoded)) bytes += piece.length;
    } finally {
      client.release();
    }
    return { seconds: (performance.now() - started) / 1000, bytes, rows };
  } finally {
    await pool.end();
  }
}

/** COPY text of one value that mysql2 decoded with strings for dates and big numbers. */
function copyTextValue(value: string | number | object | null): string {
  if (value === null) return '\\N';
  return escapeCopyField(typeof value === 'object' ? JSON.stringify(value) : String(value));
}

/**
 * The plain Node pipe the issue compares with: a mysql2 row stream encoded to COPY text in 64 KB
 * pieces and written through pg-copy-streams, in this process. No Temporal, no chunks, no
 * checkpoints, no checks of the values; timed from the query to the end of the COPY.
 */
export async function mysql2CopyPipe(s: Services, table: string, target: string): Promise<number> {
  const source = mysql.createConnection({
    host: s.my.host,
    port: s.my.port,
    user: s.my.user,
    password: s.my.password,
    database: s.my.sourceDb,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const client = new pg.Client({
    host: s.pg.host,
    port: s.pg.port,
    user: s.pg.user,
    password: s.pg.password,
    database: s.pg.targetDb,
  });
  await client.connect();
  try {
    const started = performance.now();
    const rows = source.query({ sql: `SELECT * FROM \`${table}\``, rowsAsArray: true }).stream();
    const lines = (async function* (): AsyncGenerator<string> {
      let piece = '';
      for await (const row of rows as AsyncIterable<(string | number | object | null)[]>) {
        piece += row.map(copyTextValue).join('\t') + '\n';
        if (piece.length >= 65536) {
          yield piece;
          piece = '';
        }
      }
      if (piece) yield piece;
    })();
    await pipeline(Readable.from(lines), client.query(copyFrom(`COPY ${target} FROM STDIN`)));
    return (performance.now() - started) / 1000;
  } finally {
    source.destroy();
    await client.end();
  }
}
