import { describe, expect, it } from 'vitest';
import { logicalToMysql, mysqlValueLimits } from '../../src/connectors/mysql/mysql-types';
import { postgresValueLimits } from '../../src/connectors/postgres/postgres-types';
import { valueLimitsOf } from '../../src/connectors/registry';
import { parquetValueLimits } from '../../src/connectors/s3/s3-types';
import { formatArrayLiteral, parseArrayLiteral, parseJson } from '../../src/core/array-values';
import { applyCasts, describeCast, type CastRule } from '../../src/core/casts';
import { ChunkEncoding, chooseEncoding, type Row, type Source, type Value } from '../../src/core/connector';
import { convertingSource, rowConversion } from '../../src/core/converting-source';
import { MigrationError } from '../../src/core/errors';
import { parseLogicalType, type LogicalType } from '../../src/core/logical-types';
import type { ColumnMeta, TableMeta } from '../../src/core/table';
import { conversion, fitDecimal, Unholdable } from '../../src/core/value-conversion';
import { parseJobSpec } from '../../src/spec/job-spec';
import { asyncRows, collect } from '../fixtures/edge-values';

const t = (text: string, labels?: string[]): LogicalType => parseLogicalType(text, labels)!;
const labels = ['new', 'paid', 'shipped'];

/** Converts one value from one logical type to another (as types); throws when there is no conversion. */
function castValue(from: LogicalType, to: LogicalType, value: NonNullable<Value>): Value | Unholdable {
  const found = conversion(from, to);
  if (!found) throw new Error('no conversion');
  return found.convert(value);
}
const kindOf = (from: LogicalType, to: LogicalType): string | undefined => conversion(from, to)?.kind;

/** Converts one value from one logical type to another; throws when there is no conversion. */
function convert(from: string, to: string, value: NonNullable<Value>): Value | Unholdable {
  const found = conversion(t(from), t(to));
  if (!found) throw new Error(`no conversion ${from} → ${to}`);
  return found.convert(value);
}

const column = (name: string, nativeType: string, type: LogicalType, nullable = true): ColumnMeta => ({
  name,
  nativeType,
  type,
  nullable,
});

/** A MySQL table: key id, a tinyint(1) flag, a JSON document, a double, a datetime. */
const myTable: TableMeta = {
  engine: 'mysql',
  ref: { schema: 'shop', name: 'orders' },
  columns: [
    column('id', 'int(11)', { kind: 'int32' }, false),
    column('flag', 'tinyint(1)', { kind: 'int16' }, false),
    column('doc', 'json', { kind: 'json' }),
    column('ratio', 'double', { kind: 'float64' }),
    column('at', 'datetime(6)', { kind: 'timestamp', precision: 6 }),
    column('note', 'varchar(20) COLLATE utf8mb4_general_ci', { kind: 'string', length: 20 }),
  ],
  primaryKey: ['id'],
  estimatedRows: 0,
  estimatedBytes: 0,
};

/** The MigrationError a call throws. */
function thrown(call: () => unknown): MigrationError {
  try {
    call();
  } catch (e) {
    if (e instanceof MigrationError) return e;
    throw e;
  }
  throw new Error('nothing was thrown');
}

describe('logical type names', () => {
  it.each([
    ['boolean', { kind: 'boolean' }],
    ['decimal(12,2)', { kind: 'decimal', precision: 12, scale: 2 }],
    ['decimal(5)', { kind: 'decimal', precision: 5, scale: 0 }],
    ['decimal', { kind: 'decimal' }],
    ['string(40)', { kind: 'string', length: 40 }],
    ['timestamp(3)', { kind: 'timestamp', precision: 3 }],
    ['timestamptz', { kind: 'timestamptz' }],
  ])('reads %s', (text, type) => expect(parseLogicalType(text)).toEqual(type));

  it.each(['varchar(3)', 'decimal(2,3)', 'decimal(0)', 'timestamp(7)', 'enum', 'int'])('refuses %s', (text) =>
    expect(parseLogicalType(text)).toBeNull(),
  );
});

describe('conversions between logical types', () => {
  it('classifies widening as exact, narrowing as narrowing, rounding as lossy', () => {
    const kind = (from: string, to: string): string | undefined => conversion(t(from), t(to))?.kind;
    expect(kind('int16', 'int64')).toBe('exact');
    expect(kind('json', 'text')).toBe('exact');
    expect(kind('date', 'timestamp')).toBe('exact');
    expect(kind('decimal(12,2)', 'decimal(14,4)')).toBe('exact');
    expect(kind('decimal(4,0)', 'int16')).toBe('exact');
    expect(kind('int64', 'int32')).toBe('narrowing');
    expect(kind('int16', 'boolean')).toBe('narrowing');
    expect(kind('text', 'json')).toBe('narrowing');
    expect(kind('decimal(12,4)', 'decimal(12,2)')).toBe('narrowing');
    expect(kind('text', 'string(10)')).toBe('narrowing');
    expect(kind('timestamp(6)', 'timestamp(0)')).toBe('narrowing');
    expect(kind('float64', 'float32')).toBe('lossy');
    expect(kind('decimal(10,2)', 'float64')).toBe('lossy');
    expect(kind('float64', 'decimal(20,4)')).toBe('lossy');
    expect(kind('timestamptz', 'timestamp')).toBe('lossy');
    expect(kind('timestamp', 'timestamptz')).toBe('lossy');
    expect(kind('bytes', 'int32')).toBeUndefined();
    expect(kind('date', 'boolean')).toBeUndefined();
  });

  it('turns 0 and 1 into booleans and refuses anything else, with true as the nearest', () => {
    expect(convert('int16', 'boolean', 0)).toBe(false);
    expect(convert('int16', 'boolean', 1)).toBe(true);
    expect(convert('int16', 'boolean', 2)).toEqual(new Unholdable('2 is not 0 or 1', true));
    expect(convert('text', 'boolean', 'Yes')).toBe(true);
    expect(convert('text', 'boolean', 'maybe')).toBeInstanceOf(Unholdable);
  });

  it('keeps JSON text byte for byte and checks text that becomes JSON', () => {
    expect(convert('json', 'text', '{"b" : 1}')).toBe('{"b" : 1}');
    expect(convert('text', 'json', '{"a": [1, 2.50]}')).toBe('{"a": [1, 2.50]}');
    expect(convert('text', 'json', '{a}')).toEqual(new Unholdable('text that is not valid JSON'));
    expect(convert('float64', 'json', NaN)).toBeInstanceOf(Unholdable);
    expect(convert('decimal', 'json', '1.50')).toBe('1.5');
  });

  it('checks integer ranges, with the bound as the nearest value', () => {
    expect(convert('int64', 'int32', 5n)).toBe(5);
    expect(convert('int64', 'int16', 40000n)).toEqual(
      new Unholdable('40000 is above the int16 range', 32767),
    );
    expect(convert('int16', 'int64', -3)).toBe(-3n);
    expect(convert('decimal(10,2)', 'int32', '12.00')).toBe(12);
    expect(convert('decimal(10,2)', 'int32', '-12.50')).toEqual(
      new Unholdable('-12.50 is not a whole number', -13),
    );
    expect(convert('float64', 'int16', Infinity)).toEqual(new Unholdable('Infinity has no int16', 32767));
    expect(convert('float64', 'int16', NaN)).toEqual(new Unholdable('NaN is not a whole number'));
    expect(convert('text', 'int64', ' 42 ')).toBe(42n);
  });

  it('fits decimals to precision and scale, rounding half away from zero for the nearest value', () => {
    expect(fitDecimal('123.45', { precision: 5, scale: 2 })).toBe('123.45');
    expect(fitDecimal('123.450', { precision: 5, scale: 2 })).toBe('123.450');
    expect(fitDecimal('-1.005', { precision: 5, scale: 2 })).toEqual(
      new Unholdable('-1.005 has more than 2 fraction digits (decimal(5,2))', '-1.01'),
    );
    expect(fitDecimal('1234.5', { precision: 5, scale: 2 })).toEqual(
      new Unholdable('1234.5 needs more than 3 integer digits (decimal(5,2))', '999.99'),
    );
    expect(fitDecimal('999.999', { precision: 5, scale: 2 })).toEqual(
      new Unholdable('999.999 needs more than 3 integer digits (decimal(5,2))', '999.99'),
    );
    expect(fitDecimal('NaN', {})).toBe('NaN');
    expect(fitDecimal('-Infinity', { precision: 3, scale: 1 })).toEqual(
      new Unholdable('-Infinity does not fit decimal(3,1)', '-99.9'),
    );
    expect(convert('float64', 'decimal(30,5)', 1e21)).toBe('1000000000000000000000');
    expect(convert('float64', 'decimal', 5e-7)).toBe('0.0000005');
  });

  it('rounds floats only in lossy casts, and refuses integers a float cannot hold exactly', () => {
    expect(convert('float64', 'float32', 1.1)).toBe(1.1);
    expect(convert('float64', 'float32', 1e39)).toEqual(
      new Unholdable('1e+39 is beyond the float32 range', 3.4028234663852886e38),
    );
    expect(convert('float32', 'float64', 1.1)).toBe(Math.fround(1.1));
    expect(convert('int64', 'float64', 2n ** 53n)).toBe(2 ** 53);
    expect(convert('int64', 'float64', 2n ** 53n + 1n)).toBeInstanceOf(Unholdable);
  });

  it('prints values as PostgreSQL prints them when they become text, and checks lengths in characters', () => {
    expect(convert('float64', 'text', -0)).toBe('-0');
    expect(convert('boolean', 'text', true)).toBe('true');
    expect(convert('int64', 'text', -(2n ** 63n))).toBe('-9223372036854775808');
    expect(convert('text', 'string(3)', '😀ab')).toBe('😀ab');
    expect(convert('text', 'string(3)', 'abcd')).toEqual(
      new Unholdable('a text of 4 characters exceeds string(3)', 'abc'),
    );
    expect(convert('bytes', 'text', Buffer.from('ü'))).toBe('ü');
    expect(convert('bytes', 'text', Buffer.from([0xff]))).toBeInstanceOf(Unholdable);
  });

  it('moves dates and timestamps between types, keeping BC and infinity', () => {
    expect(convert('date', 'timestamp', '0044-03-15 BC')).toBe('0044-03-15 00:00:00 BC');
    expect(convert('timestamp', 'date', '2024-01-02 00:00:00')).toBe('2024-01-02');
    expect(convert('timestamp', 'date', '2024-01-02 10:00:00')).toEqual(
      new Unholdable('2024-01-02 10:00:00 is not midnight', '2024-01-02'),
    );
    expect(convert('timestamptz', 'timestamp', '2024-03-31 01:30:00.5+00')).toBe('2024-03-31 01:30:00.5');
    expect(convert('timestamp', 'timestamptz', '0001-12-31 23:59:59 BC')).toBe('0001-12-31 23:59:59+00 BC');
    expect(convert('timestamp(6)', 'timestamp(3)', '2024-01-01 00:00:00.123000')).toBe(
      '2024-01-01 00:00:00.123',
    );
    expect(convert('timestamp(6)', 'timestamp(3)', '2024-01-01 00:00:00.123456')).toEqual(
      new Unholdable(
        '2024-01-01 00:00:00.123456 has more than 3 fractional digits',
        '2024-01-01 00:00:00.123',
      ),
    );
    expect(convert('text', 'timestamp', '2024-01-01T10:00:00')).toBe('2024-01-01 10:00:00');
    expect(convert('timestamptz', 'date', 'infinity')).toBe('infinity');
  });
});

describe('what target engines cannot hold', () => {
  const check = (
    limits: typeof mysqlValueLimits,
    type: string,
    value: NonNullable<Value>,
  ): Value | Unholdable => (limits.check(t(type)) ?? ((v: Value) => v))(value);

  it('MySQL: no NaN, infinities clamp to the largest value, -0 passes (equal to 0 by value)', () => {
    expect(check(mysqlValueLimits, 'float64', NaN)).toEqual(new Unholdable('NaN'));
    expect(check(mysqlValueLimits, 'float64', -Infinity)).toEqual(
      new Unholdable('-Infinity', -Number.MAX_VALUE),
    );
    expect(check(mysqlValueLimits, 'float32', Infinity)).toEqual(
      new Unholdable('Infinity', 3.4028234663852886e38),
    );
    expect(Object.is(check(mysqlValueLimits, 'float64', -0), -0)).toBe(true);
    expect(check(mysqlValueLimits, 'decimal(5,2)', 'Infinity')).toEqual(new Unholdable('Infinity', '999.99'));
    expect(check(mysqlValueLimits, 'decimal', 'NaN')).toEqual(new Unholdable('NaN'));
  });

  it('MySQL: years 1–9999, BC and later years clamp to the first or last instant', () => {
    expect(check(mysqlValueLimits, 'date', '0001-01-01')).toBe('0001-01-01');
    expect(check(mysqlValueLimits, 'date', '0044-03-15 BC')).toEqual(
      new Unholdable('0044-03-15 BC is before year 1', '0001-01-01'),
    );
    expect(check(mysqlValueLimits, 'timestamp(3)', '12000-01-01 00:00:00')).toEqual(
      new Unholdable('12000-01-01 00:00:00 is after 9999', '9999-12-31 23:59:59.999'),
    );
    expect(check(mysqlValueLimits, 'timestamptz', 'infinity')).toEqual(
      new Unholdable('infinity is after 9999', '9999-12-31 23:59:59.999999+00'),
    );
  });

  it('PostgreSQL: no NUL in text (clamp drops it), no zero dates, times within 00:00–24:00', () => {
    expect(check(postgresValueLimits, 'text', 'a\0b')).toEqual(new Unholdable('a NUL byte in text', 'ab'));
    expect(check(postgresValueLimits, 'date', '0000-00-00')).toEqual(
      new Unholdable('the zero date 0000-00-00'),
    );
    expect(check(postgresValueLimits, 'timestamp', '2024-02-00 10:00:00')).toBeInstanceOf(Unholdable);
    expect(check(postgresValueLimits, 'date', '2024-02-29')).toBe('2024-02-29');
    expect(check(postgresValueLimits, 'time', '24:00:00')).toBe('24:00:00');
    expect(check(postgresValueLimits, 'time', '838:59:59')).toEqual(
      new Unholdable('the time 838:59:59 is past 24:00:00', '24:00:00'),
    );
    expect(check(postgresValueLimits, 'time', '-01:00:00')).toEqual(
      new Unholdable('the negative time -01:00:00', '00:00:00'),
    );
    expect(check(postgresValueLimits, 'float64', NaN)).toBeNaN();
  });

  it('PostgreSQL: dates and timestamps within 4714-11-24 BC – 5874897 / 294276 AD, clamped to those ends; infinity it holds', () => {
    expect(check(postgresValueLimits, 'date', 'infinity')).toBe('infinity');
    expect(check(postgresValueLimits, 'date', '4714-11-24 BC')).toBe('4714-11-24 BC');
    expect(check(postgresValueLimits, 'date', '4714-11-23 BC')).toEqual(
      new Unholdable('4714-11-23 BC is before the first date PostgreSQL holds', '4714-11-24 BC'),
    );
    expect(check(postgresValueLimits, 'date', '5881580-07-11')).toEqual(
      new Unholdable('5881580-07-11 is after the last date PostgreSQL holds', '5874897-12-31'),
    );
    expect(check(postgresValueLimits, 'timestamp(3)', '294277-01-01 00:00:00')).toEqual(
      new Unholdable(
        '294277-01-01 00:00:00 is after the last timestamp PostgreSQL holds',
        '294276-12-31 23:59:59.999',
      ),
    );
    expect(check(postgresValueLimits, 'timestamptz', '290309-12-21 19:59:05.224192+00 BC')).toEqual(
      new Unholdable(
        '290309-12-21 19:59:05.224192+00 BC is before the first timestamptz PostgreSQL holds',
        '4714-11-24 00:00:00+00 BC',
      ),
    );
    expect(check(postgresValueLimits, 'timestamp', '12000-06-01 12:00:00')).toBe('12000-06-01 12:00:00');
  });

  it('object stores have limits per part format only (Parquet: see below)', () => {
    expect(valueLimitsOf('s3')).toBeUndefined();
    expect(valueLimitsOf('mysql')).toBe(mysqlValueLimits);
  });
});

describe('cast rules applied at discovery', () => {
  const apply = (rules: CastRule[], target = 'postgres'): TableMeta => applyCasts(myTable, rules, target);
  const col = (table: TableMeta, name: string): ColumnMeta => table.columns.find((c) => c.name === name)!;

  it('leaves tinyint(1) a number unless a rule asks for a boolean', () => {
    expect(col(apply([]), 'flag').type).toEqual({ kind: 'int16' });
    const cast = col(apply([{ type: 'TINYINT(1)', to: 'boolean' }]), 'flag');
    expect(cast).toMatchObject({
      nativeType: 'tinyint(1)',
      type: { kind: 'boolean' },
      cast: { from: { kind: 'int16' }, conversion: 'narrowing', rule: 0 },
    });
    expect(describeCast(cast)).toBe('int16 → boolean, narrowing, casts[0]');
  });

  it('matches by table.column glob and by native type without MySQL’s COLLATE, first rule first', () => {
    const table = apply([
      { column: 'orders.no*', to: 'text' },
      { type: 'varchar(20)', to: 'string(30)' },
      { type: 'json', to: 'text', targetType: 'mediumtext' },
    ]);
    expect(col(table, 'note').type).toEqual({ kind: 'text' });
    expect(col(table, 'doc')).toMatchObject({ type: { kind: 'text' }, cast: { targetType: 'mediumtext' } });
    expect(table.targetEngine).toBe('postgres');
    const byType = apply([{ type: 'varchar(20)', to: 'string(30)' }]);
    expect(col(byType, 'note').type).toEqual({ kind: 'string', length: 30 });
    expect(col(byType, 'note').cast?.conversion).toBe('exact');
  });

  it('refuses a lossy cast with a message naming table, column, source type and target type', () => {
    const error = thrown(() => apply([{ column: 'orders.ratio', to: 'float32' }]));
    expect(error.code).toBe('LOSSY_CONVERSION');
    expect(error.message).toBe(
      'shop.orders.ratio: casting double (float64) to float32 is lossy (it rounds each double to the nearest float32); allow it with "lossy: true" in casts[0]',
    );
    expect(
      col(apply([{ column: 'orders.ratio', to: 'float32', lossy: true }]), 'ratio').cast?.conversion,
    ).toBe('lossy');
  });

  it('refuses casts with no conversion, casts of key columns, and target types an object store has no DDL for', () => {
    expect(thrown(() => apply([{ column: 'orders.at', to: 'boolean' }])).code).toBe('UNSUPPORTED_TYPE');
    expect(thrown(() => apply([{ column: 'orders.id', to: 'int64' }])).code).toBe('BAD_SPEC');
    expect(thrown(() => apply([{ type: 'json', targetType: 'jsonb' }], 's3')).code).toBe('BAD_SPEC');
  });

  it('makes a column nullable when invalid values become NULL, and never a key', () => {
    const table = apply([{ column: 'orders.*', invalid: 'null' }], 'mysql');
    expect(col(table, 'flag')).toMatchObject({ invalid: 'null', nullable: true });
    expect(col(table, 'id')).toEqual(myTable.columns[0]);
  });

  it('matches a partition by its parent table name', () => {
    const partition: TableMeta = {
      ...myTable,
      ref: { schema: 'shop', name: 'orders_2024' },
      partition: { parent: 'orders', bound: '', keyDef: '' },
    };
    expect(applyCasts(partition, [{ column: 'orders.flag', to: 'boolean' }]).columns[1]?.type.kind).toBe(
      'boolean',
    );
  });
});

describe('values converted on the way', () => {
  const pgSource: TableMeta = {
    engine: 'postgres',
    ref: { schema: 'public', name: 'metrics' },
    columns: [
      column('id', 'bigint', { kind: 'int64' }, false),
      column('ratio', 'double precision', { kind: 'float64' }),
      column('body', 'text', { kind: 'text' }),
    ],
    primaryKey: ['id'],
    estimatedRows: 0,
    estimatedBytes: 0,
  };
  const run = (table: TableMeta, row: Row): Row => rowConversion(table, valueLimitsOf)!.convert([...row]);

  it('passes tables whose target holds every value, and same-engine tables without casts', () => {
    expect(rowConversion(pgSource, valueLimitsOf)).toBeNull();
    expect(rowConversion(applyCasts(pgSource, [], 'postgres'), valueLimitsOf)).toBeNull();
    expect(rowConversion(applyCasts(pgSource, [], 's3'), valueLimitsOf)).toBeNull();
  });

  it('refuses NaN into MySQL by default, naming table, column and both types', () => {
    const table = applyCasts(pgSource, [], 'mysql');
    expect(run(table, [1n, -0, 'x'])).toEqual([1n, -0, 'x']);
    const error = thrown(() => run(table, [1n, NaN, 'x']));
    expect(error.code).toBe('OUT_OF_RANGE');
    expect(error.context).toMatchObject({
      table: 'public.metrics',
      column: 'ratio',
      type: 'double precision',
    });
    expect(error.message).toContain('public.metrics.ratio (double precision → MySQL double): NaN');
    expect(error.message).toContain('{ column: "metrics.ratio", invalid: "null" }');
  });

  it('writes NULL or the nearest value only when a rule asks', () => {
    const nulls = applyCasts(pgSource, [{ column: 'metrics.ratio', invalid: 'null' }], 'mysql');
    expect(run(nulls, [1n, NaN, 'x'])).toEqual([1n, null, 'x']);
    const clamped = applyCasts(pgSource, [{ column: 'metrics.ratio', invalid: 'clamp' }], 'mysql');
    expect(run(clamped, [1n, Infinity, 'x'])).toEqual([1n, Number.MAX_VALUE, 'x']);
    expect(thrown(() => run(clamped, [1n, NaN, 'x'])).message).toContain('no nearest value to clamp to');
  });

  it('converts cast columns and undoes the casts for the source', () => {
    const table = applyCasts(
      myTable,
      [
        { type: 'tinyint(1)', to: 'boolean' },
        { type: 'json', to: 'text' },
      ],
      'postgres',
    );
    const plan = rowConversion(table, valueLimitsOf)!;
    expect(plan.sourceTable.columns[1]).toMatchObject({ type: { kind: 'int16' } });
    expect(plan.sourceTable.columns[1]?.cast).toBeUndefined();
    expect(plan.changesValues).toBe(true);
    expect(plan.convert([1, 1, '{"a": 1}', 0.5, '2024-01-01 00:00:00', 'n'])).toEqual([
      1,
      true,
      '{"a": 1}',
      0.5,
      '2024-01-01 00:00:00',
      'n',
    ]);
    expect(thrown(() => plan.convert([1, 2, null, null, null, null])).message).toMatch(
      /^shop\.orders\.flag \(tinyint\(1\) → PostgreSQL boolean\): 2 is not 0 or 1, .*add invalid: "null" \(or "clamp"\) to casts\[0\]$/,
    );
  });

  it('refuses MySQL zero dates into PostgreSQL, and NUL bytes unless clamped away', () => {
    const table = applyCasts(myTable, [{ column: 'orders.note', invalid: 'clamp' }], 'postgres');
    expect(thrown(() => run(table, [1, 0, null, 0, '0000-00-00 00:00:00', 'n'])).message).toMatch(
      /^shop\.orders\.at \(datetime\(6\) → PostgreSQL timestamp\(6\) without time zone\): the zero date/,
    );
    expect(run(table, [1, 0, null, 0, null, 'a\0b'])).toEqual([1, 0, null, 0, null, 'ab']);
  });

  it('reads cast tables through the source as their target holds them, hashing them in JS', async () => {
    const table = applyCasts(myTable, [{ type: 'tinyint(1)', to: 'boolean' }], 'postgres');
    const seen: TableMeta[] = [];
    const inner: Source = {
      encodings: [ChunkEncoding.PgCopyText, ChunkEncoding.Rows],
      discover: () => Promise.resolve({ tables: [], nextAfter: null }),
      nextChunk: () => Promise.resolve(null),
      count: () => Promise.resolve(1),
      close: () => Promise.resolve(),
      checksum: () => Promise.resolve({ rows: 1, hash: '0' }),
      read: (t) => {
        seen.push(t);
        const rows = asyncRows([[1, 2, null, null, null, null]]);
        return Promise.resolve({
          data: { encoding: ChunkEncoding.Rows, rows },
          rowsRead: () => 1,
          release: () => {},
        });
      },
    };
    const source = convertingSource(inner, valueLimitsOf);
    expect(chooseEncoding(inner, { encodings: inner.encodings }, table)).toBe(ChunkEncoding.Rows);
    const chunk = await source.read(table, { after: null, upTo: [] }, ChunkEncoding.Rows);
    if (chunk.data.encoding !== ChunkEncoding.Rows) throw new Error('rows expected');
    await expect(collect(chunk.data.rows)).rejects.toThrow(/2 is not 0 or 1/);
    expect(seen[0]?.columns[1]?.type).toEqual({ kind: 'int16' });
    expect(await source.checksum!(table, { after: null, upTo: [] }, [])).toBeNull();
    expect(await source.checksum!(myTable, { after: null, upTo: [] }, [])).toEqual({ rows: 1, hash: '0' });
  });
});

describe('cast rules in the job spec', () => {
  const minimal = { source: { connection: 'a' }, target: { connection: 'b' } };
  const issues = (casts: unknown[]): string[] => {
    const parsed = parseJobSpec({ ...minimal, casts });
    return parsed.ok ? [] : parsed.issues.map((i) => `${i.path}: ${i.message}`);
  };

  it('takes rules by column and by type, with defaults', () => {
    const parsed = parseJobSpec({ ...minimal, casts: [{ type: 'tinyint(1)', to: 'boolean' }] });
    expect(parsed.ok && parsed.spec.casts).toEqual([
      { type: 'tinyint(1)', to: 'boolean', lossy: false, invalid: 'error' },
    ]);
    expect(parseJobSpec(minimal).ok && parseJobSpec(minimal)).toMatchObject({ spec: { casts: [] } });
  });

  it('refuses rules that match nothing, do nothing or name no logical type', () => {
    expect(issues([{ to: 'text' }])).toEqual([
      'casts[0]: a cast rule needs "column" or "type" to match columns',
    ]);
    expect(issues([{ column: 'a.b' }])).toEqual([
      'casts[0]: a cast rule needs "to", "targetType" or "invalid"',
    ]);
    expect(issues([{ column: 'ab', to: 'text' }])[0]).toMatch(/^casts\[0\]\.column: must be "table.column"/);
    expect(issues([{ column: 'a.b', to: 'varchar(3)' }])[0]).toMatch(
      /^casts\[0\]\.to: must be a logical type/,
    );
    expect(issues([{ column: 'a.b', to: 'decimal(2,3)' }])).toEqual([
      'casts[0].to: a decimal needs 1 ≤ precision and scale ≤ precision',
    ]);
    expect(issues([{ column: 'a.b', targetType: 'text; DROP TABLE x' }])[0]).toMatch(
      /^casts\[0\]\.targetType/,
    );
  });

  it('takes enum labels and array types', () => {
    expect(issues([{ column: 'a.b', to: 'enum', values: ['x', 'y'] }])).toEqual([]);
    expect(issues([{ column: 'a.b', to: 'enum' }])).toEqual([]);
    expect(issues([{ type: '*[]', to: 'json' }])).toEqual([]);
    expect(issues([{ column: 'a.b', to: 'decimal(12,2)[]' }])).toEqual([]);
  });

  it('refuses labels without to: enum, labels given twice, and labels with NUL bytes', () => {
    expect(issues([{ column: 'a.b', to: 'text', values: ['x'] }])).toEqual([
      'casts[0].values: labels ("values") belong to to: enum',
    ]);
    expect(issues([{ column: 'a.b', to: 'enum', values: ['x', 'x'] }])).toEqual([
      'casts[0].values: the label "x" is given twice',
    ]);
    expect(issues([{ column: 'a.b', to: 'enum', values: ['x\0'] }])).toEqual([
      'casts[0].values[0]: a label cannot hold a NUL byte',
    ]);
    expect(issues([{ column: 'a.b', to: 'enum[]' }])[0]).toMatch(/^casts\[0\]\.to: must be a logical type/);
  });
});

/*
 * Casts to enums and arrays and the Parquet target's limits; the same paths run end to end in
 * test/e2e/type-casts.test.ts.
 */
describe('type names of enums and arrays', () => {
  it('reads arrays of scalar types and enums with labels', () => {
    expect(parseLogicalType('int32[]')).toEqual({ kind: 'array', element: { kind: 'int32' } });
    expect(parseLogicalType('decimal(12,2)[]')).toEqual({
      kind: 'array',
      element: { kind: 'decimal', precision: 12, scale: 2 },
    });
    expect(parseLogicalType('enum', ['a', 'b'])).toEqual({ kind: 'enum', values: ['a', 'b'] });
  });

  it.each(['enum', 'enum[]', 'text[][]', 'int[]', 'json []'])('refuses %s (an enum needs labels)', (text) =>
    expect(parseLogicalType(text)).toBeNull(),
  );
});

describe('casts to and from enums', () => {
  const status = t('enum', labels);

  it('classifies text → enum and a smaller enum as narrowing, a wider enum and enum → text as exact', () => {
    expect(kindOf(t('text'), status)).toBe('narrowing');
    expect(kindOf(t('string(20)'), status)).toBe('narrowing');
    expect(kindOf(t('enum', ['paid', 'new']), status)).toBe('exact');
    expect(kindOf(t('enum', ['new', 'lost']), status)).toBe('narrowing');
    expect(kindOf(status, t('text'))).toBe('exact');
    expect(kindOf(status, t('string(7)'))).toBe('exact');
    expect(kindOf(status, t('string(3)'))).toBe('narrowing');
    expect(kindOf(t('int32'), status)).toBeUndefined();
  });

  it('keeps labels as they are and refuses anything else, case and spaces included, with no nearest label', () => {
    expect(castValue(t('text'), status, 'paid')).toBe('paid');
    expect(castValue(t('text'), status, 'Paid')).toEqual(
      new Unholdable('"Paid" is not a label of enum(new,paid,shipped)'),
    );
    expect(castValue(t('text'), status, 'new ')).toBeInstanceOf(Unholdable);
    const many = t(
      'enum',
      Array.from({ length: 40 }, (_, i) => `label${i}`),
    );
    expect(castValue(t('text'), many, 'x')).toEqual(new Unholdable('"x" is not one of the 40 labels'));
  });

  it('refuses labels MySQL would change: it strips trailing spaces', () => {
    expect(logicalToMysql(status)).toBe("enum('new','paid','shipped')");
    expect(() => logicalToMysql(t('enum', ['a ', 'b']))).toThrow(/strips trailing spaces/);
  });
});

describe('array literals and lossless JSON', () => {
  it('reads and prints PostgreSQL array literals as array_out does', () => {
    const literal = '{{1,NULL},{"a b","q\\"u\\\\o"}}';
    expect(parseArrayLiteral(literal)).toEqual({
      items: [
        ['1', null],
        ['a b', 'q"u\\o'],
      ],
    });
    expect(formatArrayLiteral(parseArrayLiteral(literal)!.items)).toBe(literal);
    expect(formatArrayLiteral(['', 'NULL', 'null', 'x,y', '{', 'plain'])).toBe(
      '{"","NULL","null","x,y","{",plain}',
    );
    expect(parseArrayLiteral('[0:1]={7,8}')).toEqual({ items: ['7', '8'], bounds: '[0:1]' });
    expect(parseArrayLiteral('{}')).toEqual({ items: [] });
    expect(parseArrayLiteral('{1,2')).toBeNull();
    expect(parseArrayLiteral('not an array')).toBeNull();
  });

  it('reads JSON keeping every digit of its numbers and objects whole', () => {
    expect(parseJson('[9223372036854775807, {"a": [1]}, "s", true, null]')).toMatchObject({
      kind: 'array',
      items: [
        { kind: 'number', text: '9223372036854775807' },
        { kind: 'object', text: '{"a": [1]}' },
        { kind: 'string', value: 's' },
        { kind: 'boolean', text: 'true' },
        { kind: 'null' },
      ],
    });
    expect(parseJson('[1,')).toBeNull();
  });
});

describe('casts to and from arrays', () => {
  const ints = t('int32[]');

  it('converts arrays element by element, as exact, narrowing or lossy as their elements', () => {
    expect(kindOf(ints, t('int64[]'))).toBe('exact');
    expect(kindOf(t('int64[]'), t('int16[]'))).toBe('narrowing');
    expect(kindOf(t('float64[]'), t('float32[]'))).toBe('lossy');
    expect(kindOf(t('date[]'), t('boolean[]'))).toBeUndefined();
    expect(castValue(ints, t('int64[]'), '{{1,2},{NULL,4}}')).toBe('{{1,2},{NULL,4}}');
    expect(castValue(t('text[]'), t('int32[]'), '{" 7",8}')).toBe('{7,8}');
    expect(castValue(ints, t('text[]'), '[0:1]={7,8}')).toBe('[0:1]={7,8}');
  });

  it('names the first element that does not fit; the nearest array clamps every element that has a nearest value', () => {
    expect(castValue(t('int64[]'), t('int16[]'), '{1,40000,-40000}')).toEqual(
      new Unholdable('element 2: 40000 is above the int16 range', '{1,32767,-32768}'),
    );
    expect(castValue(t('text[]'), t('int16[]'), '{1,x,40000}')).toEqual(
      new Unholdable('element 2: "x" is not a whole number'),
    );
    expect(castValue(t('text[]'), t('string(2)[]'), '{ab,"abc"}')).toEqual(
      new Unholdable('element 2: a text of 3 characters exceeds string(2)', '{ab,ab}'),
    );
  });

  it('writes arrays as JSON arrays: numbers and booleans as JSON literals, other elements as strings', () => {
    expect(kindOf(ints, t('json'))).toBe('narrowing');
    expect(kindOf(t('bytes[]'), t('json'))).toBeUndefined();
    expect(castValue(ints, t('json'), '{{1,2},{3,NULL}}')).toBe('[[1,2],[3,null]]');
    expect(castValue(t('boolean[]'), t('json'), '{t,f}')).toBe('[true,false]');
    expect(castValue(t('text[]'), t('json'), '{"a \\"b\\"",NULL}')).toBe('["a \\"b\\"",null]');
    expect(castValue(t('decimal[]'), t('json'), '{1.50,-2}')).toBe('[1.50,-2]');
    expect(castValue(t('timestamptz[]'), t('json'), '{"2024-01-01 00:00:00+00"}')).toBe(
      '["2024-01-01 00:00:00+00"]',
    );
    expect(castValue(t('float64[]'), t('json'), '{1.5,NaN}')).toEqual(
      new Unholdable('element 2: JSON has no number NaN'),
    );
    expect(castValue(ints, t('json'), '[0:1]={7,8}')).toEqual(
      new Unholdable("the array's bounds [0:1] have no JSON form", '[7,8]'),
    );
  });

  it('reads JSON arrays into arrays only with the element type’s JSON form, rectangular, every digit kept', () => {
    const json = t('json');
    expect(kindOf(json, t('int64[]'))).toBe('narrowing');
    expect(kindOf(json, t('float64[]'))).toBe('lossy');
    expect(kindOf(json, t('bytes[]'))).toBeUndefined();
    expect(kindOf(t('text'), t('int32[]'))).toBeUndefined();
    expect(castValue(json, t('int64[]'), '[9223372036854775807, null, -1]')).toBe(
      '{9223372036854775807,NULL,-1}',
    );
    expect(castValue(json, t('int32[]'), '[[1, 2], [3, 4]]')).toBe('{{1,2},{3,4}}');
    expect(castValue(json, t('decimal(6,2)[]'), '[1.5, 1e2, 2E-1]')).toBe('{1.5,100,0.2}');
    expect(castValue(json, t('text[]'), '["a b", "NULL", ""]')).toBe('{"a b","NULL",""}');
    expect(castValue(json, t('json[]'), '[{"a": 1}, "x"]')).toBe('{"{\\"a\\": 1}","\\"x\\""}');
    expect(castValue(json, t('boolean[]'), '[true, false]')).toBe('{t,f}');
    expect(castValue(json, t('int16[]'), '[1, 40000]')).toEqual(
      new Unholdable('element 2: 40000 is above the int16 range', '{1,32767}'),
    );
    expect(castValue(json, t('text[]'), '["a", 5]')).toEqual(
      new Unholdable('element 2: 5 is not a JSON string'),
    );
    expect(castValue(json, t('int32[]'), '[[1, 2], [3]]')).toBeInstanceOf(Unholdable);
    expect(castValue(json, t('int32[]'), '[[1], 2]')).toBeInstanceOf(Unholdable);
    expect(castValue(json, t('int32[]'), '{"a": 1}')).toEqual(
      new Unholdable('the JSON object {"a": 1} is not an array'),
    );
  });
});

describe('what Parquet cannot hold', () => {
  const check = (type: string, value: NonNullable<Value>): Value | Unholdable =>
    (parquetValueLimits.check(t(type)) ?? ((v: Value) => v))(value);

  it('is the limits of S3 and local targets writing Parquet; CSV and JSONL hold every value', () => {
    expect(valueLimitsOf('s3', 'parquet')).toBe(parquetValueLimits);
    expect(valueLimitsOf('local', 'parquet')).toBe(parquetValueLimits);
    expect(valueLimitsOf('s3', 'csv')).toBeUndefined();
    expect(valueLimitsOf('local', 'jsonl')).toBeUndefined();
  });

  it('decimals of a DECIMAL(p,s) column: NaN has no nearest, infinities and extra digits clamp or round', () => {
    expect(check('decimal(5,2)', '1.5')).toBe('1.5');
    expect(check('decimal(5,2)', 'NaN')).toEqual(new Unholdable('NaN does not fit decimal(5,2)'));
    expect(check('decimal(5,2)', '-Infinity')).toEqual(
      new Unholdable('-Infinity does not fit decimal(5,2)', '-999.99'),
    );
    expect(check('decimal(5,2)', '1.005')).toEqual(
      new Unholdable('1.005 has more than 2 fraction digits (decimal(5,2))', '1.01'),
    );
    // An unbounded decimal is kept as its text.
    expect(check('decimal', 'NaN')).toBe('NaN');
  });

  it('dates and timestamps: ±infinity and years beyond INT32 days or INT64 microseconds clamp to the first or last one; zero dates have none', () => {
    expect(check('timestamp', '2024-01-01 00:00:00')).toBe('2024-01-01 00:00:00');
    expect(check('timestamp', '0044-03-15 12:00:00 BC')).toBe('0044-03-15 12:00:00 BC');
    expect(check('timestamptz', 'infinity')).toEqual(
      new Unholdable(
        'infinity is after the last timestamptz Parquet holds',
        '294247-01-10 04:00:54.775807+00',
      ),
    );
    expect(check('timestamp', '-infinity')).toEqual(
      new Unholdable(
        '-infinity is before the first timestamp Parquet holds',
        '290309-12-21 19:59:05.224192 BC',
      ),
    );
    expect(check('timestamp', '294276-12-31 23:59:59')).toEqual(
      new Unholdable(
        '294276-12-31 23:59:59 is after the last timestamp Parquet holds',
        '294247-01-10 04:00:54.775807',
      ),
    );
    expect(check('date', 'infinity')).toEqual(
      new Unholdable('infinity is after the last date Parquet holds', '5881580-07-11'),
    );
    expect(check('date', '-infinity')).toEqual(
      new Unholdable('-infinity is before the first date Parquet holds', '5877642-06-23 BC'),
    );
    expect(check('date', '5874897-12-31')).toBe('5874897-12-31');
    expect(check('date', '0000-00-00')).toEqual(new Unholdable('the zero date 0000-00-00'));
    expect(check('timestamp', '2024-02-00 10:00:00')).toBeInstanceOf(Unholdable);
  });

  it('times of day within 00:00:00–24:00:00', () => {
    expect(check('time', '24:00:00')).toBe('24:00:00');
    expect(check('time', '838:59:59')).toEqual(
      new Unholdable('the time 838:59:59 is past 24:00:00', '24:00:00'),
    );
  });
});

describe('rules for enums, arrays and Parquet targets', () => {
  const table: TableMeta = {
    engine: 'postgres',
    ref: { schema: 'public', name: 'orders' },
    columns: [
      column('id', 'integer', { kind: 'int32' }, false),
      column('status', 'text', { kind: 'text' }),
      column('mood', 'mood', { kind: 'enum', values: ['sad', 'ok'] }),
      column('tags', 'integer[]', t('int32[]')),
      column('amount', 'numeric(6,2)', { kind: 'decimal', precision: 6, scale: 2 }),
    ],
    primaryKey: ['id'],
    estimatedRows: 0,
    estimatedBytes: 0,
  };
  const col = (meta: TableMeta, name: string): ColumnMeta => meta.columns.find((c) => c.name === name)!;

  it('casts to an enum with the rule’s labels, or an enum column’s own; other columns need labels', () => {
    const cast = applyCasts(table, [
      { column: 'orders.status', to: 'enum', values: labels },
      { column: 'orders.mood', to: 'enum' },
      { column: 'orders.tags', to: 'json' },
    ]);
    expect(describeCast(col(cast, 'status'))).toBe('text → enum(new,paid,shipped), narrowing, casts[0]');
    expect(describeCast(col(cast, 'mood'))).toBe('enum(sad,ok) → enum(sad,ok), exact, casts[1]');
    expect(describeCast(col(cast, 'tags'))).toBe('int32[] → json, narrowing, casts[2]');
    const error = thrown(() => applyCasts(table, [{ column: 'orders.status', to: 'enum' }]));
    expect(error.code).toBe('BAD_SPEC');
    expect(error.message).toBe(
      'casts[0] casts public.orders.status (text) to enum without labels: list them in "values" (only an enum column has labels of its own)',
    );
  });

  it('holds values to Parquet’s limits for a Parquet target, naming the column and the Parquet type, and settles them by the rule', () => {
    const row = (): Row => [1, 'new', 'ok', '{1}', 'NaN'];
    const parquet = applyCasts(table, [], 's3', 'parquet');
    expect(parquet.targetFormat).toBe('parquet');
    const error = (() => {
      try {
        rowConversion(parquet, valueLimitsOf)!.convert(row());
      } catch (e) {
        return e as MigrationError;
      }
      throw new Error('converted');
    })();
    expect(error.code).toBe('OUT_OF_RANGE');
    expect(error.message).toBe(
      'public.orders.amount (numeric(6,2) → Parquet DECIMAL(6,2)): NaN does not fit decimal(6,2), which the target cannot hold; to write NULL or the nearest value instead, add { column: "orders.amount", invalid: "null" } (or "clamp") to casts',
    );
    const settled = applyCasts(table, [{ column: 'orders.amount', invalid: 'null' }], 's3', 'parquet');
    expect(rowConversion(settled, valueLimitsOf)!.convert(row())).toEqual([1, 'new', 'ok', '{1}', null]);
    // CSV holds NaN as its text: nothing to check.
    expect(rowConversion(applyCasts(table, [], 's3', 'csv'), valueLimitsOf)).toBeNull();
  });

  it('names an enum’s labels in the error for a value outside them', () => {
    const cast = applyCasts(table, [{ column: 'orders.status', to: 'enum', values: labels }], 'postgres');
    expect(() => rowConversion(cast, valueLimitsOf)!.convert([1, 'lost', null, null, null])).toThrow(
      'public.orders.status (text → PostgreSQL enum(new,paid,shipped)): "lost" is not a label of enum(new,paid,shipped), which the target cannot hold; to write NULL or the nearest value instead, add invalid: "null" (or "clamp") to casts[0]',
    );
  });
});
