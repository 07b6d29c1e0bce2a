import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryColumn } from '../../src/connectors/postgres/copy-binary-fields';
import { copyBinaryFromLines } from '../../src/connectors/postgres/copy-binary-lines';
import { binaryTarget } from '../../src/connectors/postgres/postgres-target';
import type { Row, Value, ValueCheck } from '../../src/core/connector';
import type { LogicalKind } from '../../src/core/logical-types';
import type { ColumnMeta, TableMeta } from '../../src/core/table';
import { fieldDecoder } from '../../src/connectors/mysql/mysql-types';
import { lineFieldDecoder } from '../../src/connectors/mysql/mysql-copy-lines';
import { asyncRows } from '../fixtures/edge-values';
import { joinedLine } from '../fixtures/joined-lines';
import { adminPool, services, uniqueName } from '../support/services';

/**
 * COPY binary from joined lines against a real PostgreSQL: every value the writers read must arrive as
 * the very value PostgreSQL's own text input makes of the same text.
 */
const db: pg.Pool = adminPool(services.pg.targetDb);
const schema = uniqueName('e2e_copy_binary');

/** Each column: its type, the logical kind of its values, and texts as a MySQL server writes them. */
const columns: { name: string; type: string; kind: LogicalKind; texts: string[] }[] = [
  { name: 'i2', type: 'smallint', kind: 'int16', texts: ['-32768', '32767', '0', '7'] },
  { name: 'i4', type: 'integer', kind: 'int32', texts: ['-2147483648', '2147483647', '0', '-42'] },
  {
    name: 'i8',
    type: 'bigint',
    kind: 'int64',
    texts: ['-9223372036854775808', '9223372036854775807', '9007199254740993', '-1', '123456789012345'],
  },
  {
    name: 'n',
    type: 'numeric(20,6)',
    kind: 'decimal',
    texts: ['0', '-0.000000', '12345678901234.123456', '0.000001', '-99999999999999.999999', '1.5', '10000'],
  },
  {
    name: 'nn',
    type: 'numeric',
    kind: 'decimal',
    texts: ['0.00000000000000000001', '123456789012345678901234567890.123456789', '-7', '0.1000', '00012.30'],
  },
  {
    name: 'f4',
    type: 'real',
    kind: 'float32',
    texts: ['1.5', '-0', '3.4028234663852886e38', '1.401298464324817e-45', '0.10000000149011612'],
  },
  {
    name: 'f8',
    type: 'double precision',
    kind: 'float64',
    texts: ['-0', '1.7976931348623157e308', '5e-324', '0.1', '123456.789', '-2.5e-10'],
  },
  { name: 'vc', type: 'varchar(10)', kind: 'string', texts: ['abc', '', 'þæ€𝄞', 'ten chars!'] },
  {
    name: 't',
    type: 'text',
    kind: 'text',
    texts: ['tab\there', 'line\nbreak\r', 'back\\slash \\N', 'unicode 𝄞 é', ''],
  },
  { name: 'ch', type: 'char(4)', kind: 'string', texts: ['ab', 'abcd', ''] },
  { name: 'j', type: 'json', kind: 'json', texts: ['{"a": [1, 2.50, "x\\ty"]}', '[]', '"s"', 'null'] },
  { name: 'jb', type: 'jsonb', kind: 'json', texts: ['{"b": 1, "a": 2}', '[1, {"x": null}]'] },
  { name: 'b', type: 'bytea', kind: 'bytes', texts: ['\\x', '\\x00FF10', '\\xdeadBEEF'] },
  {
    name: 'u',
    type: 'uuid',
    kind: 'uuid',
    texts: ['123e4567-e89b-12d3-a456-426614174000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'],
  },
  {
    name: 'd',
    type: 'date',
    kind: 'date',
    texts: ['2000-01-01', '1000-01-01', '9999-12-31', '2024-02-29', '1970-01-01', '1899-12-31'],
  },
  {
    name: 'ts',
    type: 'timestamp(6)',
    kind: 'timestamp',
    texts: [
      '2000-01-01 00:00:00',
      '9999-12-31 23:59:59.999999',
      '1000-01-01 00:00:00.000001',
      '2024-02-29 12:34:56.5',
      '1969-12-31 23:59:59.999999',
    ],
  },
  {
    name: 'ts0',
    type: 'timestamp(0)',
    kind: 'timestamp',
    texts: ['2020-01-01 00:00:00.5', '2020-01-01 00:00:00.499999', '2020-12-31 23:59:59.6'],
  },
  {
    name: 'tz',
    type: 'timestamptz',
    kind: 'timestamptz',
    texts: ['2020-06-01 12:00:00+00', '1000-01-01 00:00:00.25+00', '9999-12-31 23:59:59.999999+00'],
  },
  {
    name: 'tm',
    type: 'time(6)',
    kind: 'time',
    texts: ['00:00:00', '24:00:00', '23:59:59.999999', '12:00:00.1'],
  },
  { name: 'tm0', type: 'time(0)', kind: 'time', texts: ['23:59:59.6', '00:00:00.4'] },
  { name: 'e', type: 'mood', kind: 'enum', texts: ['ok', 'happy'] },
];

/** The texts of row `n`: each column's texts in turn, a NULL now and then (never in all columns at once). */
const rowTexts = (n: number): (string | null)[] =>
  columns.map((c, i) => ((n + i) % 11 === 0 ? null : c.texts[n % c.texts.length]!));

/** One field as COPY text writes it. */
const copyTextField = (text: string | null): string =>
  text === null
    ? '\\N'
    : text.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);

async function copyIn(sql: string, body: Iterable<string> | AsyncIterable<Buffer>): Promise<void> {
  const client = await db.connect();
  try {
    const copy = copyFrom(sql);
    client.query(copy as unknown as pg.Submittable);
    await pipeline(Readable.from(body), copy);
  } finally {
    client.release();
  }
}

/** The rows of a table as text, sorted, for comparing two tables value by value. */
const rowsOf = async (table: string): Promise<string[]> =>
  (
    await db.query<{ row: string }>(`SELECT whole::text AS row FROM ${schema}.${table} whole ORDER BY 1`)
  ).rows.map((r) => r.row);

beforeAll(async () => {
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TYPE ${schema}.mood AS ENUM ('sad', 'ok', 'happy')`);
  await db.query(`CREATE DOMAIN ${schema}.positive AS integer CHECK (VALUE > 0)`);
  const ddl = columns.map((c) => `${c.name} ${c.type === 'mood' ? `${schema}.mood` : c.type}`).join(', ');
  for (const table of ['by_text', 'by_binary']) await db.query(`CREATE TABLE ${schema}.${table} (${ddl})`);
});

afterAll(async () => {
  await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db.end();
});

describe('COPY binary from joined lines, into a real PostgreSQL', () => {
  it('stores every value as PostgreSQL reads the same text in COPY text', async () => {
    const rows = 3_000;
    const texts = Array.from({ length: rows }, (_, n) => rowTexts(n));
    await copyIn(`COPY ${schema}.by_text FROM STDIN`, [
      texts.map((row) => `${row.map(copyTextField).join('\t')}\n`).join(''),
    ]);
    // The writers are chosen by the catalog's type names (format_type), as the target chooses them.
    const client = await db.connect();
    const chosen = await binaryTarget(client, tableMeta(), { schema, name: 'by_binary' }).finally(() =>
      client.release(),
    );
    expect(chosen?.columns).toHaveLength(columns.length);
    const lines = texts.map((row) => joinedLine('L', ...row));
    await copyIn(
      `COPY ${schema}.by_binary FROM STDIN WITH (FORMAT binary)`,
      copyBinaryFromLines(
        {
          encoding: 'copy-text-lines',
          rows: asyncRows(lines),
          decoders: [],
          fetchRow: () => Promise.resolve(null),
        },
        chosen!,
      ),
    );
    const [byText, byBinary] = [await rowsOf('by_text'), await rowsOf('by_binary')];
    expect(byBinary).toHaveLength(rows);
    expect(byBinary).toEqual(byText);
  });
});

/** The table of {@link columns} as a MySQL source describes it. */
function tableMeta(extra: Partial<ColumnMeta> = {}): TableMeta {
  return {
    ref: { schema, name: 'by_binary' },
    engine: 'mysql',
    columns: columns.map((c) => ({
      name: c.name,
      nativeType: c.type,
      type:
        c.kind === 'enum'
          ? { kind: 'enum', values: ['sad', 'ok', 'happy'] }
          : ({ kind: c.kind } as ColumnMeta['type']),
      nullable: true,
      ...extra,
    })),
    primaryKey: [],
  } as unknown as TableMeta;
}

describe('lines COPY binary does not write as they are', () => {
  const kinds: ColumnMeta['type'][] = [
    { kind: 'int64' },
    { kind: 'text' },
    { kind: 'date' },
    { kind: 'time', precision: 6 },
  ];
  const names = ['id', 'body', 'day', 'at'];
  const ways = [
    binaryColumn('bigint', false, 'int64')!,
    binaryColumn('text', false, 'text')!,
    binaryColumn('date', false, 'date')!,
    binaryColumn('time(6) without time zone', false, 'time')!,
  ];

  it('checks and writes through their values the lines holding a NUL, a zero date, a tag, or a key', async () => {
    await db.query(`CREATE TABLE ${schema}.fallback (id bigint, body text, day date, at time(6))`);
    const seen: Value[] = [];
    const check: ValueCheck = (value) => {
      seen.push(value);
      if (typeof value === 'string' && value.includes('\0')) return value.replaceAll('\0', '');
      if (value === '0000-00-00') return null;
      return value === '-00:00:01' ? '00:00:00' : value;
    };
    const wide = 'w'.repeat(2 * 1024 * 1024);
    const input: Row[] = [];
    for (let i = 0; i < 3000; i++) input.push(joinedLine('L', `${i}`, `body ${i}`, '2020-01-02', '10:00:00'));
    input[1000] = joinedLine('L', '1000', 'nul\0byte', '2020-01-02', '10:00:00');
    input[2000] = joinedLine('L', '2000', 'zero', '0000-00-00', null);
    input[2500] = joinedLine('C', '2500', 'tagged', '2020-01-03', '-00:00:01');
    input[2998] = joinedLine('K', '2998');
    input[2999] = joinedLine('K', '2999');
    await copyIn(
      `COPY ${schema}.fallback FROM STDIN WITH (FORMAT binary)`,
      copyBinaryFromLines(
        {
          encoding: 'copy-text-lines',
          rows: asyncRows(input),
          decoders: kinds.map((type) => lineFieldDecoder({ name: '', nativeType: '', type, nullable: true })),
          checks: [undefined, check, check, check],
          fetchRow: ([key]) =>
            Promise.resolve(
              key === '2998'
                ? [2998n, wide, '2020-01-05', null]
                : [2999n, 'fetched\0', '2020-01-04', '01:02:03.5'],
            ),
        },
        { names, columns: ways },
      ),
    );
    const { rows } = await db.query<{
      id: string;
      body: string;
      day: string | null;
      at: string | null;
      length: number;
    }>(
      `SELECT id, CASE WHEN length(body) > 100 THEN '' ELSE body END AS body, length(body) AS length,
              day::text, at::text FROM ${schema}.fallback ORDER BY id`,
    );
    expect(rows).toHaveLength(3000);
    expect(rows[0]).toMatchObject({ id: '0', body: 'body 0', day: '2020-01-02', at: '10:00:00' });
    expect(rows[1000]).toMatchObject({ body: 'nulbyte', day: '2020-01-02' });
    expect(rows[2000]).toMatchObject({ body: 'zero', day: null, at: null });
    expect(rows[2500]).toMatchObject({ body: 'tagged', day: '2020-01-03', at: '00:00:00' });
    expect(rows[2998]).toMatchObject({ length: wide.length, day: '2020-01-05', at: null });
    expect(rows[2999]).toMatchObject({ body: 'fetched', day: '2020-01-04', at: '01:02:03.5' });
    // Only those lines' values reached the checks: 3 columns each for 3 lines, 2 fetched rows.
    expect(seen).toHaveLength(15);
  });

  it('fails a value PostgreSQL could not read either, naming its column', async () => {
    const lines = copyBinaryFromLines(
      {
        encoding: 'copy-text-lines',
        rows: asyncRows([joinedLine('L', '1', 'x', '2023-02-30', null)]),
        decoders: kinds.map((type) => fieldDecoder(type)),
        fetchRow: () => Promise.resolve(null),
      },
      { names, columns: ways },
    );
    await expect(
      copyIn(`COPY ${schema}.fallback FROM STDIN WITH (FORMAT binary)`, lines),
    ).rejects.toMatchObject({
      code: 'OUT_OF_RANGE',
      message: 'column day: PostgreSQL cannot take the value 2023-02-30',
    });
  });

  it('goes COPY text for a column of another type, a domain, a cast or a shard constant', async () => {
    await db.query(`CREATE TABLE ${schema}.choice (id bigint, n ${schema}.positive, body text)`);
    const client = await db.connect();
    try {
      const meta = (type: ColumnMeta['type'], extra: Partial<TableMeta> = {}, cast = false): TableMeta =>
        ({
          ref: { schema, name: 'choice' },
          engine: 'mysql',
          columns: [
            { name: 'id', nativeType: 'bigint', type: { kind: 'int64' }, nullable: false },
            {
              name: 'n',
              nativeType: 'int',
              type,
              nullable: true,
              ...(cast ? { cast: { type, from: type } } : {}),
            },
            { name: 'body', nativeType: 'text', type: { kind: 'text' }, nullable: true },
          ],
          primaryKey: ['id'],
          ...extra,
        }) as unknown as TableMeta;
      const ref = { schema, name: 'choice' };
      expect(await binaryTarget(client, meta({ kind: 'int32' }), ref)).toBeNull();
      await db.query(`ALTER TABLE ${schema}.choice ALTER COLUMN n TYPE integer`);
      expect((await binaryTarget(client, meta({ kind: 'int32' }), ref))?.columns).toHaveLength(3);
      expect(await binaryTarget(client, meta({ kind: 'int64' }), ref)).toBeNull();
      expect(await binaryTarget(client, meta({ kind: 'int32' }, {}, true), ref)).toBeNull();
      expect(
        await binaryTarget(
          client,
          meta({ kind: 'int32' }, { constantColumns: [{ name: 'body', value: 's' }] }),
          ref,
        ),
      ).toBeNull();
    } finally {
      client.release();
    }
  });
});
