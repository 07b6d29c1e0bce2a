import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyLinesFit } from '../../src/connectors/mysql/mysql-copy-lines';
import { quoteIdent } from '../../src/connectors/mysql/mysql-dialect';
import { decodeCopyLine, escapeCopyField } from '../../src/connectors/postgres/postgres-copy-text';
import { copyTextFromFields, copyTextFromLines } from '../../src/connectors/postgres/copy-text-fields';
import { postgresValueLimits } from '../../src/connectors/postgres/postgres-types';
import { rowConversion } from '../../src/core/converting-source';
import { openMysqlPool } from '../../src/connectors/mysql/mysql-pool';
import { MysqlSource } from '../../src/connectors/mysql/mysql-source';
import { MysqlTarget } from '../../src/connectors/mysql/mysql-target';
import type { RowDataPacket } from 'mysql2';
import {
  verbatimTextKinds,
  type Checkpoint,
  type ChunkEncoding,
  type ChunkStream,
  type Row,
  type Value,
  type ValueCheck,
} from '../../src/core/connector';
import { ErrorCode, MigrationError } from '../../src/core/errors';
import type { ColumnMeta, TableMeta } from '../../src/core/table';
import { createMysqlMixedTable, createMysqlNativeTable } from '../fixtures/my-mixed';
import { mysqlAdminPool, mysqlConnection, mysqlSettings, readAll, rowsChunk } from '../support/mysql';
import { uniqueName } from '../support/services';

const admin = mysqlAdminPool();
const sourceDb = mysqlSettings.sourceDb;
const targetDb = uniqueName('it_my_target');
const prefix = uniqueName('it_my');
const name = (table: string): string => `${prefix}_${table}`;
const internal = `_mms_${prefix}`;
const src = (table: string): string => `${quoteIdent(sourceDb)}.${quoteIdent(name(table))}`;

const source = new MysqlSource(openMysqlPool(mysqlConnection({ database: sourceDb })));
const target = new MysqlTarget(openMysqlPool(mysqlConnection({ database: sourceDb })));
const insertTarget = new MysqlTarget(
  openMysqlPool(mysqlConnection({ database: sourceDb }), { localInfile: false }),
);
const targetSource = new MysqlSource(openMysqlPool(mysqlConnection({ database: sourceDb })));

/** Drains a row stream. */
async function readRows(rows: AsyncIterable<Row>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

/** Discovers one source table by name. */
/** A PostgreSQL table `public.<name>` keyed by `id`, without statistics, as a job hands it to a MySQL target. */
function postgresTable(name: string, columns: ColumnMeta[]): TableMeta {
  return {
    engine: 'postgres',
    ref: { schema: 'public', name },
    columns,
    primaryKey: ['id'],
    estimatedRows: 0,
    estimatedBytes: 0,
  };
}

async function meta(table: string, from = source, schema = sourceDb): Promise<TableMeta> {
  const page = await from.discover({ schema, tables: [table], include: ['*'], exclude: [] }, null, 10);
  const found = page.tables[0];
  if (!found) throw new Error(`table ${schema}.${table} not discovered`);
  return found;
}

/** Copies a table chunk by chunk through the Source/Target interfaces, as copyTable does. */
async function copy(
  table: TableMeta,
  to: MysqlTarget,
  targetName: string,
  chunkRows: number,
  encoding: ChunkEncoding = 'rows',
): Promise<Checkpoint> {
  const targetRef = { schema: targetDb, name: targetName };
  const taskId = `it/${targetName}`;
  let { checkpoint } = await to.prepare({
    taskId,
    table,
    targetRef,
    writeMode: 'overwrite',
    createMode: 'recreate',
  });
  for (;;) {
    const range = await source.nextChunk(table, checkpoint.cursor, chunkRows);
    if (!range) break;
    const chunk = await source.read(table, range, encoding);
    checkpoint = await to.writeChunk({ taskId, table, targetRef, range, previous: checkpoint, chunk });
  }
  await to.analyze(targetRef);
  return checkpoint;
}

const edgeRows = `
  (1, -9223372036854775808, 18446744073709551615, 4294967295, -99999999999999999999.999999999999999999,
   99999999999999999999999999999999999.999999999999999999999999999999, 0.33333334, 0.1,
   '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000001', '-838:59:59.000000', '1000-01-01',
   '{"b" : 1,  "a": [1, 2.50, 12345678901234567890]}', 1, 'tab\\there\\nnew\\\\line\\r 😀', 'x', 'ok'),
  (2, 9223372036854775807, 0, 0, 99999999999999999999.999999999999999999,
   -99999999999999999999999999999999999.999999999999999999999999999999, 16777216, -1.7976931348623157e308,
   '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', '838:59:59.000000', '9999-12-31',
   '[]', 0, '\\\\N', 'y', 'sad'),
  (3, 0, NULL, NULL, 0.000000000000000001, NULL, NULL, 5e-324, '2024-02-29 12:00:00.500000', NULL,
   '00:00:00.000001', NULL, 'null', 127, '', NULL, NULL)`;

beforeAll(async () => {
  await admin.query(`CREATE DATABASE ${quoteIdent(targetDb)}`);
  await admin.query(`CREATE TABLE ${src('edges')} (
    id int PRIMARY KEY, i64 bigint, u64 bigint unsigned, u32 int unsigned, dec38 decimal(38,18),
    dec65 decimal(65,30), f float, d double, at datetime(6), at_tz timestamp(6) NULL, tm time(6), day date,
    doc json, flag tinyint(1), body text, code char(1), mood enum('sad','ok'), bytes blob
  )`);
  await admin.query(`INSERT INTO ${src('edges')} (id, i64, u64, u32, dec38, dec65, f, d, at, at_tz, tm, day, doc, flag,
    body, code, mood) VALUES ${edgeRows}`);
  // Every byte value, in order, in one blob.
  await admin.query(`UPDATE ${src('edges')} SET bytes = UNHEX(?) WHERE id = 1`, [
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex'),
  ]);
  await createMysqlMixedTable(admin, sourceDb, name('mixed'), 3_000);
  await createMysqlNativeTable(admin, sourceDb, name('native'));
  // A composite key whose first column is called k1: the bound query's output aliases must not capture it.
  await admin.query(
    `CREATE TABLE ${src('pairs')} (k1 int, label varchar(10), v int, PRIMARY KEY (k1, label))`,
  );
  const pairs = [];
  for (let a = 1; a <= 10; a++)
    for (const b of ['a', 'B', 'c', 'D', 'e', 'F', 'g']) pairs.push([a, b, a * 100]);
  await admin.query(`INSERT INTO ${src('pairs')} VALUES ?`, [pairs]);
  // Doubles as a key and as values: thirds have 16-17 significant digits that a lax parser rounds.
  await admin.query(`CREATE TABLE ${src('thirds')} (k double PRIMARY KEY, f float, d double)`);
  await admin.query(`INSERT INTO ${src('thirds')} VALUES ?`, [
    Array.from({ length: 300 }, (_, i) => [(i + 1) / 3, (i + 1) / 7, (i + 1) * 1e-7 + 0.1]),
  ]);
  // What a check of PostgreSQL's limits changes, in the forms MySQL holds it, and a value too long for a line.
  await admin.query(`CREATE TABLE ${src('oddities')} (
    id int PRIMARY KEY, day date NULL, at datetime(6) NULL, at_tz timestamp(0) NULL, tm time NULL,
    body longtext NULL, name varchar(20) CHARACTER SET latin1 NULL, note varchar(40) NULL
  )`);
  // Row 1 is tagged by the server (25:00), 3 fetched by its key, the others found by the worker's search.
  await admin.query(`INSERT INTO ${src('oddities')} VALUES
    (1, '0000-00-00', '0000-00-00 00:00:00', NULL, '25:00:00', CONCAT('nul', CHAR(0)), 'café', 'a-00, 0000- in text'),
    (2, '2020-00-15', '2020-05-00 10:00:00', '2020-01-01 00:00:00', '12:00:00', 'tab\there', 'plain', 'note'),
    (3, '2024-02-29', '2024-02-29 12:00:00.5', '2038-01-19 03:14:07', '24:00:00', REPEAT('x', 300000), NULL, NULL),
    (4, '2024-01-01', NULL, NULL, NULL, CONCAT('nul', CHAR(0), 'byte'), 'ç', NULL),
    (5, '0000-05-05', '2024-01-01 00:00:00', NULL, '01:00:00', 'back\\\\slash', NULL, NULL)`);
  await admin.query(`CREATE TABLE ${quoteIdent(sourceDb)}.${quoteIdent(internal)} (id int PRIMARY KEY)`);
  await admin.query(`CREATE TABLE ${src('nokey')} (v int)`);
  await admin.query(`CREATE VIEW ${src('view')} AS SELECT 1 AS one`);
});

afterAll(async () => {
  await Promise.all([source.close(), target.close(), insertTarget.close(), targetSource.close()]);
  await admin.query(`DROP TABLE IF EXISTS ${quoteIdent(sourceDb)}.${quoteIdent(internal)}`);
  for (const table of ['edges', 'mixed', 'native', 'pairs', 'nokey', 'thirds', 'oddities']) {
    await admin.query(`DROP TABLE IF EXISTS ${src(table)}`);
  }
  await admin.query(`DROP VIEW IF EXISTS ${src('view')}`);
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(targetDb)}`);
  await admin.end();
});

describe('MysqlSource against MariaDB', () => {
  it('discovers base tables with native and logical types, keys and estimates, skipping its own tables', async () => {
    const all = await source.discover(
      { schema: sourceDb, include: ['*'], exclude: [name('nokey')] },
      null,
      1000,
    );
    const names = all.tables.map((t) => t.ref.name);
    expect(names.filter((n) => n.includes(prefix)).sort()).toEqual(
      ['edges', 'mixed', 'native', 'oddities', 'pairs', 'thirds'].map(name),
    );
    expect(names.filter((n) => n.startsWith('_mms_'))).toEqual([]);
    expect(names).not.toContain(name('view'));
    const mixed = all.tables.find((t) => t.ref.name === name('mixed'))!;
    expect(mixed.engine).toBe('mysql');
    expect(mixed.primaryKey).toEqual(['id']);
    expect(mixed.estimatedRows).toBeGreaterThan(1_000);
    expect(mixed.estimatedBytes).toBeGreaterThan(0);
    const columns = Object.fromEntries(mixed.columns.map((c) => [c.name, c]));
    expect(columns.flag).toMatchObject({
      nativeType: 'tinyint(1)',
      type: { kind: 'int16' },
      nullable: false,
    });
    expect(columns.uqty?.type).toEqual({ kind: 'int64' });
    expect(columns.big?.type).toEqual({ kind: 'decimal', precision: 20, scale: 0 });
    expect(columns.name).toMatchObject({ type: { kind: 'string', length: 40 }, nullable: false });
    expect(columns.name?.nativeType).toMatch(/^varchar\(40\) COLLATE utf8mb4_/);
    expect(columns.doc).toMatchObject({ nativeType: 'json', type: { kind: 'json' } });
    expect(columns.at_tz).toMatchObject({ type: { kind: 'timestamptz', precision: 6 }, nullable: true });
    expect(columns.kind?.type).toEqual({ kind: 'enum', values: ['red', 'green', 'blue'] });
    expect(columns.raw?.type).toEqual({ kind: 'bytes' });

    const native = all.tables.find((t) => t.ref.name === name('native'))!;
    expect(native.columns.filter((c) => c.unmapped).map((c) => c.name)).toEqual([
      'tags',
      'bits',
      'y',
      'spot',
    ]);
    expect(all.tables.find((t) => t.ref.name === name('pairs'))?.primaryKey).toEqual(['k1', 'label']);
  });

  it('pages through tables by name', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = await source.discover(
        { schema: sourceDb, include: [`${prefix}_*`], exclude: [] },
        after,
        2,
      );
      seen.push(...page.tables.map((t) => t.ref.name));
      after = page.nextAfter;
    } while (after !== null);
    expect(seen.filter((n) => n.startsWith(prefix)).sort()).toEqual(
      ['edges', 'mixed', 'native', 'nokey', 'oddities', 'pairs', 'thirds'].map(name).sort(),
    );
  });

  it('bounds chunks over a composite key and reads each row exactly once, in key order', async () => {
    const table = await meta(name('pairs'));
    const chunks: Row[][] = [];
    let after: string[] | null = null;
    for (;;) {
      const range = await source.nextChunk(table, after, 8);
      if (!range) break;
      const chunk = await source.read(table, range, 'rows');
      if (chunk.data.encoding !== 'rows') throw new Error('expected rows');
      const rows: Row[] = [];
      for await (const row of chunk.data.rows) rows.push(row);
      expect(chunk.rowsRead()).toBe(rows.length);
      expect(rows.at(-1)?.slice(0, 2).map(String)).toEqual(range.upTo);
      chunks.push(rows);
      after = range.upTo;
    }
    expect(chunks.map((c) => c.length)).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 6]);
    const all = chunks.flat();
    // The collation is case-insensitive: a, B, c, D… is key order for MySQL.
    const expected = [...Array(10).keys()].flatMap((a) =>
      ['a', 'B', 'c', 'D', 'e', 'F', 'g'].map((b) => [a + 1, b, (a + 1) * 100]),
    );
    expect(all).toEqual(expected);
    expect(chunks[0]?.at(-1)?.slice(0, 2)).toEqual([2, 'a']);
  });

  it('bounds chunks over a double key and reads every double and float exactly', async () => {
    const rows = await readAll(source, await meta(name('thirds')), 7);
    expect(rows.map(([k, f, d]) => [k, Math.fround(f as number), d])).toEqual(
      Array.from({ length: 300 }, (_, i) => [(i + 1) / 3, Math.fround((i + 1) / 7), (i + 1) * 1e-7 + 0.1]),
    );
    expect(rows[271]?.[0]).toBe(90.66666666666667);
    // float32 values come as the shortest decimal that is the same float, as PostgreSQL prints `real`.
    expect(rows[0]?.[1]).toBe(0.14285715);
  });

  it('reads every value in its documented lossless Value form', async () => {
    const table = await meta(name('edges'));
    const rows = await readAll(source, table);
    const byName = (row: Row | undefined): Record<string, unknown> =>
      Object.fromEntries(table.columns.map((c, i) => [c.name, row?.[i]]));
    const [first, second, third] = rows.map(byName);
    expect(first).toEqual({
      id: 1,
      i64: -9223372036854775808n,
      u64: '18446744073709551615',
      u32: 4294967295n,
      dec38: '-99999999999999999999.999999999999999999',
      dec65: '99999999999999999999999999999999999.999999999999999999999999999999',
      f: 0.33333334,
      d: 0.1,
      at: '1000-01-01 00:00:00',
      at_tz: '1970-01-01 00:00:01.000001+00',
      tm: '-838:59:59',
      day: '1000-01-01',
      doc: '{"b" : 1,  "a": [1, 2.50, 12345678901234567890]}',
      flag: 1,
      body: 'tab\there\nnew\\line\r 😀',
      code: 'x',
      mood: 'ok',
      bytes: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    });
    expect(second).toMatchObject({
      i64: 9223372036854775807n,
      u64: '0',
      u32: 0n,
      dec38: '99999999999999999999.999999999999999999',
      dec65: '-99999999999999999999999999999999999.999999999999999999999999999999',
      f: 16777216,
      d: -1.7976931348623157e308,
      at: '9999-12-31 23:59:59.999999',
      at_tz: '2038-01-19 03:14:07.999999+00',
      tm: '838:59:59',
      day: '9999-12-31',
      doc: '[]',
      flag: 0,
      body: '\\N',
      bytes: null,
    });
    expect(third).toMatchObject({
      dec38: '0.000000000000000001',
      d: 5e-324,
      at: '2024-02-29 12:00:00.5',
      flag: 127,
    });
    expect(third?.tm).toBe('00:00:00.000001');
    expect(typeof first?.flag).toBe('number');
  });

  it('hands over text fields: the protocol bytes, verbatim kinds as their text, decoded as rows are', async () => {
    const table = await meta(name('edges'));
    const rows = await readAll(source, table);
    const range = await source.nextChunk(table, null, 1_000);
    const chunk = await source.read(table, range!, 'text-fields');
    if (chunk.data.encoding !== 'text-fields') throw new Error('expected text fields');
    const { decoders } = chunk.data;
    const fieldRows = await readRows(chunk.data.rows);
    chunk.release();
    expect(fieldRows).toHaveLength(rows.length);
    expect(decoders).toHaveLength(table.columns.length);
    fieldRows.forEach((fields, r) => {
      fields.forEach((field, i) => {
        const value = rows[r]![i]!;
        if (field === null) return expect(value).toBeNull();
        expect(Buffer.isBuffer(field)).toBe(true);
        expect(decoders[i]!(field as Buffer)).toEqual(value);
        const kind = table.columns[i]!.type.kind;
        // Verbatim kinds: a string's exact UTF-8 bytes, a number's digits.
        if (verbatimTextKinds.has(kind)) {
          const text = (field as Buffer).toString('utf8');
          if (typeof value === 'string') expect(text).toBe(value);
          else expect(BigInt(text)).toBe(BigInt(value as number | bigint));
        }
      });
    });
    expect(rows.length).toBeGreaterThan(2);
  });

  it('has the server write COPY text lines that PostgreSQL reads as the values of the text-fields path', async () => {
    const tags = new Set<string>();
    const tagsOf = async function* (rows: AsyncIterable<Row>): AsyncGenerator<Row> {
      for await (const row of rows) {
        tags.add(String.fromCharCode((row[0] as Buffer)[0]!));
        yield row;
      }
    };
    const copyText = async (pieces: AsyncIterable<Buffer>): Promise<string> =>
      Buffer.concat((await readRows(pieces as AsyncIterable<Row>)) as unknown as Buffer[]).toString('utf8');
    let oddities: Row[] = [];
    for (const each of ['edges', 'mixed', 'pairs', 'thirds', 'oddities']) {
      const found = await meta(name(each));
      // Written to PostgreSQL, every value it cannot hold becoming NULL. The statistics of three rows,
      // one of 300 KB, would call the table wide; it is read as one of ordinary rows.
      const table: TableMeta = {
        ...found,
        estimatedBytes: found.estimatedRows * 200,
        targetEngine: 'postgres',
        columns: found.columns.map((c) => ({ ...c, invalid: 'null' as const })),
      };
      expect(source.encodingsOf(table)).toContain('copy-text-lines');
      const checks = rowConversion(table, () => postgresValueLimits)?.checks;
      const types = table.columns.map((c) => c.type);
      const range = (await source.nextChunk(table, null, 10_000))!;
      const fields = await source.read(table, range, 'text-fields');
      const lines = await source.read(table, range, 'copy-text-lines');
      if (fields.data.encoding !== 'text-fields' || lines.data.encoding !== 'copy-text-lines')
        throw new Error('expected text fields and lines');
      const expected = await copyText(
        copyTextFromFields(fields.data.rows, types, fields.data.decoders, checks),
      );
      const got = await copyText(
        copyTextFromLines({ ...lines.data, rows: tagsOf(lines.data.rows), checks }, types),
      );
      fields.release();
      lines.release();
      // Values as PostgreSQL reads them: a fraction's trailing zeros (which MySQL prints) make no
      // difference, nor do the digits of a float past those that tell it from its neighbours.
      const asRead = (v: Value, kind: string): Value => {
        if (typeof v === 'string' && /^time/.test(kind))
          return v.replace(/(\.\d*?)0+(?=$|\+)/, '$1').replace(/\.(?=$|\+)/, '');
        return kind === 'float32' && typeof v === 'number' ? Math.fround(v) : v;
      };
      const decoded = (text: string): Row[] =>
        text
          .split('\n')
          .slice(0, -1)
          .map((line) => decodeCopyLine(line, types).map((v, i) => asRead(v, types[i]!.kind)));
      expect(decoded(got)).toEqual(decoded(expected));
      expect(decoded(got).length).toBe(Number((await source.count(table)).toString()));
      if (each === 'oddities') oddities = decoded(got);
    }
    // Wide rows (over 16 KB on average) are read as text fields, which send long values on in slices.
    const wide = { ...(await meta(name('edges'))), estimatedRows: 10, estimatedBytes: 10 << 20 };
    expect(source.encodingsOf(wide)).toEqual(['text-fields', 'rows']);
    // Every kind of line came by: plain (L), tagged for its checks (C), and fetched by its key (K).
    expect([...tags].sort()).toEqual(['C', 'K', 'L']);
    const column = (i: number): Value[] => oddities.map((r) => r[i] ?? null);
    expect(column(0)).toEqual([1, 2, 3, 4, 5]);
    expect(column(1)).toEqual([null, null, '2024-02-29', '2024-01-01', null]);
    expect(column(2)).toEqual([null, null, '2024-02-29 12:00:00.5', null, '2024-01-01 00:00:00']);
    expect(column(3)).toEqual([null, '2020-01-01 00:00:00+00', '2038-01-19 03:14:07+00', null, null]);
    expect(column(4)).toEqual([null, '12:00:00', '24:00:00', null, '01:00:00']);
    expect(column(5)).toEqual([null, 'tab\there', 'x'.repeat(300_000), null, 'back\\slash']);
    expect(column(6)).toEqual(['café', 'plain', null, 'ç', null]);
    expect(column(7)).toEqual(['a-00, 0000- in text', 'note', null, null, null]);
  });

  it('survives a chunk whose query fails before anyone reads it, and one released unread', async () => {
    const table = await meta(name('mixed'));
    const unread = await source.read(table, { after: null, upTo: ['5'] }, 'rows');
    const gone = await source.read(
      { ...table, ref: { schema: sourceDb, name: name('gone') } },
      { after: null, upTo: ['5'] },
      'rows',
    );
    unread.release(new Error('the target failed first'));
    // The failed query's error must wait for the reader instead of crashing the process.
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (gone.data.encoding !== 'rows') throw new Error('expected rows');
    await expect(readRows(gone.data.rows)).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
    const range = (await source.nextChunk(table, null, 2_000))!;
    const again = await source.read(table, range, 'rows');
    if (again.data.encoding !== 'rows') throw new Error('expected rows');
    expect(await readRows(again.data.rows)).toHaveLength(2_000);
  });

  it('fails a chunk whose connection is killed mid-read, or released by an abandoned attempt, instead of hanging', async () => {
    await admin.query(`CREATE TABLE ${src('long')} (id int PRIMARY KEY, body varchar(300) NOT NULL)`);
    await admin.query(
      `INSERT INTO ${src('long')} SELECT seq, REPEAT('x', 300) FROM ${quoteIdent(sourceDb)}.seq_1_to_200000`,
    );
    const table = await meta(name('long'));
    const range = { after: null, upTo: ['200000'] };
    /** Reads a few rows, then lets `interrupt` strike, then reads on; how long the failure took to show. */
    const readInterrupted = async (interrupt: (chunk: ChunkStream) => Promise<void>) => {
      const chunk = await source.read(table, range, 'rows');
      if (chunk.data.encoding !== 'rows') throw new Error('expected rows');
      const rows = chunk.data.rows[Symbol.asyncIterator]();
      for (let i = 0; i < 10; i++) await rows.next();
      await interrupt(chunk);
      const started = Date.now();
      const drained = (async () => {
        for (let r = await rows.next(); !r.done; r = await rows.next());
      })();
      await expect(drained).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
      expect(chunk.rowsRead()).toBeLessThan(200_000);
      return Date.now() - started;
    };
    const killed = await readInterrupted(async () => {
      const [list] = await admin.query<RowDataPacket[]>(
        `SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO NOT LIKE '%PROCESSLIST%'`,
        [`%${name('long')}%`],
      );
      expect(list).toHaveLength(1);
      await admin.query(`KILL CONNECTION ${Number(list[0]!.ID)}`);
    });
    const abandoned = await readInterrupted((chunk) => {
      chunk.release(new MigrationError(ErrorCode.ConnectionLost, 'attempt abandoned'));
      return Promise.resolve();
    });
    expect(killed).toBeLessThan(10_000);
    expect(abandoned).toBeLessThan(10_000);
    // The pool still serves whole chunks afterwards.
    expect(await source.count(table)).toBe(200_000);
  });

  it('counts rows, and reads a table without a primary key as one whole chunk', async () => {
    expect(await source.count(await meta(name('mixed')))).toBe(3_002);
    const nokey = await meta(name('nokey'));
    const whole = await source.nextChunk(nokey, null, 10);
    expect(whole).toEqual({ after: null, upTo: [] });
    expect(await source.nextChunk(nokey, whole!.upTo, 10)).toBeNull();
    expect(await readAll(source, nokey, 10)).toHaveLength(await source.count(nokey));
  });

  it('reads as the read-only user mms_reader', async () => {
    const reader = new MysqlSource(openMysqlPool(mysqlConnection({ database: sourceDb, reader: true })));
    try {
      const table = await meta(name('mixed'), reader);
      expect(table.columns.find((c) => c.name === 'doc')?.type).toEqual({ kind: 'json' });
      const rows = await readAll(reader, table, 1_000);
      expect(rows).toHaveLength(3_002);
      expect(rows).toEqual(await readAll(source, await meta(name('mixed'))));
      expect(await reader.count(table)).toBe(3_002);
      await expect(reader.count({ ...table, ref: { schema: 'mysql', name: 'user' } })).rejects.toMatchObject({
        code: 'PERMISSION_DENIED',
      });
    } finally {
      await reader.close();
    }
  });

  it('classifies a wrong password, a missing database and a missing table', async () => {
    const wrong = new MysqlSource(openMysqlPool(mysqlConnection({ password: 'not-the-password' })));
    await expect(
      wrong.discover({ schema: sourceDb, include: ['*'], exclude: [] }, null, 1),
    ).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
    await wrong.close();
    const missingDb = new MysqlSource(openMysqlPool(mysqlConnection({ database: uniqueName('no_such_db') })));
    await expect(
      missingDb.discover({ schema: sourceDb, include: ['*'], exclude: [] }, null, 1),
    ).rejects.toMatchObject({ code: 'DATABASE_MISSING' });
    await missingDb.close();
    const table = await meta(name('mixed'));
    await expect(
      source.count({ ...table, ref: { schema: sourceDb, name: 'no_such_table' } }),
    ).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
    });
  });
});

describe('MysqlTarget against MariaDB', () => {
  it('writes a chunk with its checkpoint in one step and reads the checkpoint back', async () => {
    const table = await meta(name('pairs'));
    const targetRef = { schema: targetDb, name: 'pairs_once' };
    const taskId = 'it/pairs_once';
    const prepared = await target.prepare({
      taskId,
      table,
      targetRef,
      writeMode: 'overwrite',
      createMode: 'ifMissing',
    });
    expect(prepared.checkpoint).toEqual({
      taskId,
      cursor: null,
      rowsRead: 0,
      rowsWritten: 0,
      chunks: 0,
      baselineRows: 0,
      completed: false,
    });
    expect(prepared.statements.some((s) => s.startsWith('CREATE TABLE `'))).toBe(true);
    const range = (await source.nextChunk(table, null, 20))!;
    const written = await target.writeChunk({
      taskId,
      table,
      targetRef,
      range,
      previous: prepared.checkpoint,
      chunk: await source.read(table, range, 'rows'),
    });
    expect(written).toMatchObject({ cursor: ['3', 'F'], rowsRead: 20, rowsWritten: 20, chunks: 1 });
    expect(await target.readCheckpoint(taskId, targetRef)).toEqual(written);
    expect(await target.count(targetRef)).toBe(20);

    // Preparing again resumes: the committed rows and the checkpoint stay.
    const again = await target.prepare({
      taskId,
      table,
      targetRef,
      writeMode: 'overwrite',
      createMode: 'recreate',
    });
    expect(again.checkpoint).toEqual(written);
    expect(await target.count(targetRef)).toBe(20);
    await target.markComplete(taskId, targetRef);
    expect(await target.readCheckpoint(taskId, targetRef)).toMatchObject({ completed: true, chunks: 1 });
  });

  it('refuses a stale previous checkpoint with CHECKPOINT_CONFLICT and commits none of its rows', async () => {
    const table = await meta(name('pairs'));
    const targetRef = { schema: targetDb, name: 'pairs_stale' };
    const taskId = 'it/pairs_stale';
    const { checkpoint } = await target.prepare({
      taskId,
      table,
      targetRef,
      writeMode: 'overwrite',
      createMode: 'ifMissing',
    });
    const first = (await source.nextChunk(table, null, 10))!;
    await target.writeChunk({
      taskId,
      table,
      targetRef,
      range: first,
      previous: checkpoint,
      chunk: await source.read(table, first, 'rows'),
    });
    const second = (await source.nextChunk(table, first.upTo, 10))!;
    // A worker presumed dead still holds the checkpoint from before the first chunk.
    await expect(
      target.writeChunk({
        taskId,
        table,
        targetRef,
        range: second,
        previous: checkpoint,
        chunk: await source.read(table, second, 'rows'),
      }),
    ).rejects.toMatchObject({ code: 'CHECKPOINT_CONFLICT', retryable: true });
    expect(await target.count(targetRef)).toBe(10);
    expect(await target.readCheckpoint(taskId, targetRef)).toMatchObject({ chunks: 1, rowsWritten: 10 });
  });

  it.each([
    ['LOAD DATA LOCAL INFILE', target],
    ['multi-row INSERT (LOAD DATA refused)', insertTarget],
  ])(
    'copies MySQL → MySQL through %s with every value unchanged, as rows, text fields and joined lines',
    async (_path, to) => {
      const label = to === target ? 'load' : 'insert';
      for (const [table, chunkRows] of [
        ['edges', 2],
        ['mixed', 700],
        ['native', 2],
        ['thirds', 50],
        ['pairs', 30],
        // Zero dates, a time past 24:00 (its line tagged C), NUL bytes, latin1 and a row fetched by its key (K).
        ['oddities', 2],
      ] as const) {
        const found = await meta(name(table));
        // Five rows, one of 300 KB, would make `oddities` a table of wide rows, never read as lines.
        const meta1 = table === 'oddities' ? { ...found, estimatedBytes: found.estimatedRows * 200 } : found;
        const expected = await readAll(source, meta1);
        // Text fields for every table, joined lines for every one they fit (all but the unmapped types of `native`).
        const encodings: ChunkEncoding[] =
          table === 'native' ? ['rows', 'text-fields'] : ['rows', 'text-fields', 'copy-text-lines'];
        expect(copyLinesFit(meta1)).toBe(table !== 'native');
        for (const encoding of encodings) {
          const copiedName = `${table}_${label}_${encoding.split('-').pop()!}`;
          const checkpoint = await copy(meta1, to, copiedName, chunkRows, encoding);
          expect(checkpoint).toMatchObject({ rowsRead: expected.length, rowsWritten: expected.length });
          const copied = await meta(copiedName, targetSource, targetDb);
          expect(copied.columns.map((c) => c.nativeType)).toEqual(meta1.columns.map((c) => c.nativeType));
          expect(copied.primaryKey).toEqual(meta1.primaryKey);
          expect(await readAll(targetSource, copied)).toEqual(expected);
        }
      }
      const [spot] = await admin.query(
        `SELECT ST_AsText(spot) AS wkt, ST_SRID(spot) AS srid FROM ${quoteIdent(targetDb)}.${quoteIdent(`native_${label}_rows`)} WHERE id = 1`,
      );
      expect(spot).toEqual([{ wkt: 'POINT(1.5 -2.25)', srid: 4326 }]);
    },
  );

  it.each([
    ['LOAD DATA LOCAL INFILE', target],
    ['multi-row INSERT', insertTarget],
  ])(
    'fails a chunk whose value does not fit with OUT_OF_RANGE through %s, committing nothing',
    async (_path, to) => {
      const label = to === target ? 'load' : 'insert';
      const table = postgresTable('narrow', [
        { name: 'id', nativeType: 'integer', type: { kind: 'int32' }, nullable: false },
        {
          name: 'n',
          nativeType: 'numeric(5,2)',
          type: { kind: 'decimal', precision: 5, scale: 2 },
          nullable: true,
        },
        { name: 'x', nativeType: 'double precision', type: { kind: 'float64' }, nullable: true },
      ]);
      const targetRef = { schema: targetDb, name: `narrow_${label}` };
      const taskId = `it/narrow_${label}`;
      const { checkpoint } = await to.prepare({
        taskId,
        table,
        targetRef,
        writeMode: 'overwrite',
        createMode: 'ifMissing',
      });
      const write = (rows: Row[]) =>
        to.writeChunk({
          taskId,
          table,
          targetRef,
          range: { after: null, upTo: ['2'] },
          previous: checkpoint,
          chunk: rowsChunk(rows),
        });
      await expect(
        write([
          [1, '1.00', 0],
          [2, '123456.00', 0],
        ]),
      ).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      await expect(write([[1, '1.00', NaN]])).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      expect(await to.count(targetRef)).toBe(0);
      expect(await to.readCheckpoint(taskId, targetRef)).toMatchObject({ chunks: 0 });
    },
  );

  it.each([
    ['LOAD DATA LOCAL INFILE', target],
    ['multi-row INSERT (LOAD DATA refused)', insertTarget],
  ])(
    'takes PostgreSQL COPY text through %s, cut anywhere, checking values, committing nothing on a refused one',
    async (_path, to) => {
      const label = to === target ? 'load' : 'insert';
      const table = postgresTable('copied', [
        { name: 'id', nativeType: 'integer', type: { kind: 'int32' }, nullable: false },
        { name: 'body', nativeType: 'text', type: { kind: 'text' }, nullable: true },
        { name: 'flag', nativeType: 'boolean', type: { kind: 'boolean' }, nullable: true },
        { name: 'raw', nativeType: 'bytea', type: { kind: 'bytes' }, nullable: true },
        {
          name: 'at',
          nativeType: 'timestamp(6) with time zone',
          type: { kind: 'timestamptz', precision: 6 },
          nullable: true,
        },
      ]);
      const targetRef = { schema: targetDb, name: `copied_${label}` };
      const taskId = `it/copied_${label}`;
      let { checkpoint } = await to.prepare({
        taskId,
        table,
        targetRef,
        writeMode: 'overwrite',
        createMode: 'ifMissing',
      });
      // COPY TO's text of three rows; the year check of MySQL targets, as a job's source hands it over, makes infinity NULL.
      const lines = [
        [
          '1',
          String.raw`tab\there \\ \f\v\b 😀`,
          't',
          String.raw`\\x00ff5c0a`,
          '2024-03-31 01:30:00.000123+00',
        ],
        ['2', String.raw`\N`, 'f', String.raw`\\x`, String.raw`\N`],
        ['3', '', String.raw`\N`, String.raw`\N`, 'infinity'],
      ];
      const bytes = Buffer.from(lines.map((fields) => `${fields.join('\t')}\n`).join(''));
      const yearCheck: ValueCheck = (value) => (value === 'infinity' ? null : value);
      /** The chunk cut every 5 bytes (inside escapes and inside the emoji), or only its first `bytesSent`. */
      const copyChunk = (check: ValueCheck, bytesSent = bytes.length): ChunkStream => {
        const sent = bytes.subarray(0, bytesSent);
        const pieces = Array.from({ length: Math.ceil(sent.length / 5) }, (_, i) =>
          sent.subarray(i * 5, i * 5 + 5),
        );
        return {
          data: {
            encoding: 'pg-copy-text',
            stream: Readable.from(pieces),
            checks: [undefined, undefined, undefined, undefined, check],
          },
          rowsRead: () => 3,
          release: () => undefined,
        };
      };
      const write = (chunk: ChunkStream) =>
        to.writeChunk({
          taskId,
          table,
          targetRef,
          range: { after: null, upTo: ['3'] },
          previous: checkpoint,
          chunk,
        });
      // A check that refuses a value fails the chunk, and so does a stream that ends short of its rows: nothing is committed.
      const refuse: ValueCheck = () => {
        throw new MigrationError(ErrorCode.OutOfRange, 'public.copied.at: not here', { column: 'at' });
      };
      await expect(write(copyChunk(refuse))).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      await expect(write(copyChunk(yearCheck, bytes.indexOf('\n') + 1))).rejects.toThrow(
        /read 3 rows but wrote 1/,
      );
      expect(await to.readCheckpoint(taskId, targetRef)).toMatchObject({ chunks: 0 });
      expect(await to.count(targetRef)).toBe(0);

      checkpoint = await write(copyChunk(yearCheck));
      expect(checkpoint).toMatchObject({ chunks: 1, rowsRead: 3, rowsWritten: 3 });
      const [rows] = await admin.query<RowDataPacket[]>(
        `SELECT id, HEX(body) AS body, flag, HEX(raw) AS raw, CAST(at AS CHAR) AS at FROM ${quoteIdent(targetDb)}.${quoteIdent(targetRef.name)} ORDER BY id`,
      );
      expect(rows.map((r) => ({ ...r }))).toEqual([
        {
          id: 1,
          body: Buffer.from('tab\there \\ \f\v\b 😀').toString('hex').toUpperCase(),
          flag: 1,
          raw: '00FF5C0A',
          at: '2024-03-31 01:30:00.000123',
        },
        { id: 2, body: null, flag: 0, raw: '', at: null },
        { id: 3, body: '', flag: null, raw: null, at: null },
      ]);
    },
  );

  it('writes values wider than a LOAD DATA piece exactly, from rows and from COPY text', async () => {
    const table = postgresTable('wide', [
      { name: 'id', nativeType: 'integer', type: { kind: 'int32' }, nullable: false },
      { name: 'body', nativeType: 'text', type: { kind: 'text' }, nullable: true },
      { name: 'tail', nativeType: 'text', type: { kind: 'text' }, nullable: true },
    ]);
    // Over two 256 KB slices, with escapes on the way. A slice boundary (262,144 characters) falls
    // inside an emoji both in the field alone (rows, sent part by part) and in its line ('1\t' first).
    const wide = (seed: string): string => 'x'.repeat(262_141) + '😀😀' + `${seed}\t\\😀é\n`.repeat(50_000);
    // COPY text's wide lines go out as the bytes they came in, but for the one with a form feed and a
    // vertical tab, which LOAD DATA reads differently and so go the text way.
    const rows: Row[] = [
      [1, wide('a'), 'short\ttail'],
      [2, 'narrow', wide('b')],
      [3, wide('c'), null],
      [4, `${wide('d')}\f\v`, 'ff'],
    ];
    // As PostgreSQL's COPY TO writes them: form feeds and vertical tabs as escapes too.
    const copyField = (value: Row[number]): string =>
      value === null
        ? '\\N'
        : typeof value === 'number'
          ? String(value)
          : escapeCopyField(String(value)).replace(/\f/g, '\\f').replace(/\v/g, '\\v');
    const copyText = Buffer.from(rows.map((row) => `${row.map(copyField).join('\t')}\n`).join(''));
    for (const [label, chunk] of [
      ['rows', rowsChunk(rows)],
      [
        'copy',
        {
          data: {
            encoding: 'pg-copy-text',
            // Pieces of 64 KB, as COPY sends them.
            stream: Readable.from(
              Array.from({ length: Math.ceil(copyText.length / 65_536) }, (_, i) =>
                copyText.subarray(i * 65_536, (i + 1) * 65_536),
              ),
            ),
          },
          rowsRead: () => rows.length,
          release: () => undefined,
        } satisfies ChunkStream,
      ],
    ] as const) {
      const targetRef = { schema: targetDb, name: `wide_${label}` };
      const taskId = `it/wide_${label}`;
      const { checkpoint } = await target.prepare({
        taskId,
        table,
        targetRef,
        writeMode: 'overwrite',
        createMode: 'ifMissing',
      });
      await target.writeChunk({
        taskId,
        table,
        targetRef,
        range: { after: null, upTo: ['4'] },
        previous: checkpoint,
        chunk,
      });
      const [stored] = await admin.query<RowDataPacket[]>(
        `SELECT id, MD5(body) AS body, MD5(tail) AS tail FROM ${quoteIdent(targetDb)}.${quoteIdent(targetRef.name)} ORDER BY id`,
      );
      const md5 = (value: Row[number]): string | null =>
        value === null ? null : createHash('md5').update(String(value)).digest('hex');
      expect(stored.map((r) => ({ ...r }))).toEqual(
        rows.map((row) => ({ id: row[0], body: md5(row[1]!), tail: md5(row[2]!) })),
      );
    }
  });

  it('refuses unmapped types from another engine with UNSUPPORTED_TYPE and creates nothing', async () => {
    const table = postgresTable('odd', [
      { name: 'id', nativeType: 'integer', type: { kind: 'int32' }, nullable: false },
      { name: 'span', nativeType: 'interval', type: { kind: 'text' }, nullable: true, unmapped: true },
    ]);
    const request = { taskId: 'it/odd', table, targetRef: { schema: targetDb, name: 'odd' } } as const;
    await expect(
      target.prepare({ ...request, writeMode: 'overwrite', createMode: 'ifMissing' }),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED_TYPE',
    });
    const tags: ColumnMeta = {
      name: 'tags',
      nativeType: 'integer[]',
      type: { kind: 'array', element: { kind: 'int32' } },
      nullable: true,
    };
    const arrays: TableMeta = { ...table, columns: [table.columns[0]!, tags] };
    await expect(
      target.prepare({ ...request, table: arrays, writeMode: 'overwrite', createMode: 'ifMissing' }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED_TYPE' });
  });

  it('truncates on overwrite, counts a baseline on append, and refuses a missing table with createMode never', async () => {
    const table = await meta(name('pairs'));
    const targetRef = { schema: targetDb, name: 'pairs_modes' };
    await admin.query(
      `CREATE TABLE ${quoteIdent(targetDb)}.pairs_modes (k1 int, label varchar(10), v int, PRIMARY KEY (k1, label))`,
    );
    await admin.query(`INSERT INTO ${quoteIdent(targetDb)}.pairs_modes VALUES (99, 'z', 0), (98, 'z', 0)`);
    const append = await target.prepare({
      taskId: 'it/modes/append',
      table,
      targetRef,
      writeMode: 'append',
      createMode: 'ifMissing',
    });
    expect(append.checkpoint.baselineRows).toBe(2);
    const overwrite = await target.prepare({
      taskId: 'it/modes/overwrite',
      table,
      targetRef,
      writeMode: 'overwrite',
      createMode: 'ifMissing',
    });
    expect(overwrite.statements).toContain(`TRUNCATE TABLE ${quoteIdent(targetDb)}.\`pairs_modes\``);
    expect(await target.count(targetRef)).toBe(0);
    await expect(
      target.prepare({
        taskId: 'it/modes/never',
        table,
        targetRef: { schema: targetDb, name: 'absent' },
        writeMode: 'overwrite',
        createMode: 'never',
      }),
    ).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
  });

  it('upserts by primary key: new keys are inserted, known keys take the new values, other rows stay', async () => {
    const table = await meta(name('pairs'));
    const targetRef = { schema: targetDb, name: 'pairs_upsert' };
    await admin.query(
      `CREATE TABLE ${quoteIdent(targetDb)}.pairs_upsert (k1 int, label varchar(10), v int, PRIMARY KEY (k1, label))`,
    );
    await admin.query(`INSERT INTO ${quoteIdent(targetDb)}.pairs_upsert VALUES (1, 'a', -1), (99, 'z', 0)`);
    const taskId = 'it/modes/upsert';
    const { checkpoint } = await target.prepare({
      taskId,
      table,
      targetRef,
      writeMode: 'upsert',
      createMode: 'ifMissing',
    });
    expect(await target.count(targetRef)).toBe(2);
    const range = { after: null, upTo: ['2', 'b'] };
    const rows = [
      [1, 'a', 10],
      [2, 'b', 20],
    ];
    const written = await target.writeChunk({
      taskId,
      table,
      targetRef,
      range,
      previous: checkpoint,
      chunk: rowsChunk(rows),
      writeMode: 'upsert',
    });
    expect(written).toMatchObject({ chunks: 1, rowsRead: 2, rowsWritten: 2 });
    const [stored] = await admin.query<RowDataPacket[]>(
      `SELECT k1, label, v FROM ${quoteIdent(targetDb)}.pairs_upsert ORDER BY k1`,
    );
    expect(stored.map((r) => [Number(r.k1), String(r.label), Number(r.v)])).toEqual([
      [1, 'a', 10],
      [2, 'b', 20],
      [99, 'z', 0],
    ]);
  });
});
