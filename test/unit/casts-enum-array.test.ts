import { describe, expect, it } from 'vitest';
import { logicalToMysql } from '../../src/connectors/mysql/mysql-types';
import { valueLimitsOf } from '../../src/connectors/registry';
import { parquetValueLimits } from '../../src/connectors/s3/s3-types';
import { formatArrayLiteral, parseArrayLiteral, parseJson } from '../../src/core/array-values';
import { applyCasts, describeCast } from '../../src/core/casts';
import type { Row, Value } from '../../src/core/connector';
import { rowConversion } from '../../src/core/converting-source';
import { MigrationError } from '../../src/core/errors';
import { parseLogicalType, type LogicalType } from '../../src/core/logical-types';
import type { ColumnMeta, TableMeta } from '../../src/core/table';
import { conversion, Unholdable } from '../../src/core/value-conversion';
import { parseJobSpec } from '../../src/spec/job-spec';

/**
 * The pure logic behind casts to enums and arrays and the Parquet target's limits: classification,
 * label checks, element-wise conversion with nearest values, and the errors naming table, column and
 * types. The same paths run end to end in test/e2e/type-casts.test.ts.
 */
const t = (text: string, labels?: string[]): LogicalType => parseLogicalType(text, labels)!;
const labels = ['new', 'paid', 'shipped'];

function convert(from: LogicalType, to: LogicalType, value: NonNullable<Value>): Value | Unholdable {
  const found = conversion(from, to);
  if (!found) throw new Error('no conversion');
  return found.convert(value);
}
const kind = (from: LogicalType, to: LogicalType): string | undefined => conversion(from, to)?.kind;

function thrown(call: () => unknown): MigrationError {
  try {
    call();
  } catch (e) {
    if (e instanceof MigrationError) return e;
    throw e;
  }
  throw new Error('nothing was thrown');
}

const column = (name: string, nativeType: string, type: LogicalType, nullable = true): ColumnMeta => ({
  name,
  nativeType,
  type,
  nullable,
});

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
    expect(kind(t('text'), status)).toBe('narrowing');
    expect(kind(t('string(20)'), status)).toBe('narrowing');
    expect(kind(t('enum', ['paid', 'new']), status)).toBe('exact');
    expect(kind(t('enum', ['new', 'lost']), status)).toBe('narrowing');
    expect(kind(status, t('text'))).toBe('exact');
    expect(kind(status, t('string(7)'))).toBe('exact');
    expect(kind(status, t('string(3)'))).toBe('narrowing');
    expect(kind(t('int32'), status)).toBeUndefined();
  });

  it('keeps labels as they are and refuses anything else, case and spaces included, with no nearest label', () => {
    expect(convert(t('text'), status, 'paid')).toBe('paid');
    expect(convert(t('text'), status, 'Paid')).toEqual(
      new Unholdable('"Paid" is not a label of enum(new,paid,shipped)'),
    );
    expect(convert(t('text'), status, 'new ')).toBeInstanceOf(Unholdable);
    const many = t(
      'enum',
      Array.from({ length: 40 }, (_, i) => `label${i}`),
    );
    expect(convert(t('text'), many, 'x')).toEqual(new Unholdable('"x" is not one of the 40 labels'));
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
    expect(kind(ints, t('int64[]'))).toBe('exact');
    expect(kind(t('int64[]'), t('int16[]'))).toBe('narrowing');
    expect(kind(t('float64[]'), t('float32[]'))).toBe('lossy');
    expect(kind(t('date[]'), t('boolean[]'))).toBeUndefined();
    expect(convert(ints, t('int64[]'), '{{1,2},{NULL,4}}')).toBe('{{1,2},{NULL,4}}');
    expect(convert(t('text[]'), t('int32[]'), '{" 7",8}')).toBe('{7,8}');
    expect(convert(ints, t('text[]'), '[0:1]={7,8}')).toBe('[0:1]={7,8}');
  });

  it('names the first element that does not fit; the nearest array clamps every element that has a nearest value', () => {
    expect(convert(t('int64[]'), t('int16[]'), '{1,40000,-40000}')).toEqual(
      new Unholdable('element 2: 40000 is above the int16 range', '{1,32767,-32768}'),
    );
    expect(convert(t('text[]'), t('int16[]'), '{1,x,40000}')).toEqual(
      new Unholdable('element 2: "x" is not a whole number'),
    );
    expect(convert(t('text[]'), t('string(2)[]'), '{ab,"abc"}')).toEqual(
      new Unholdable('element 2: a text of 3 characters exceeds string(2)', '{ab,ab}'),
    );
  });

  it('writes arrays as JSON arrays: numbers and booleans as JSON literals, other elements as strings', () => {
    expect(kind(ints, t('json'))).toBe('narrowing');
    expect(kind(t('bytes[]'), t('json'))).toBeUndefined();
    expect(convert(ints, t('json'), '{{1,2},{3,NULL}}')).toBe('[[1,2],[3,null]]');
    expect(convert(t('boolean[]'), t('json'), '{t,f}')).toBe('[true,false]');
    expect(convert(t('text[]'), t('json'), '{"a \\"b\\"",NULL}')).toBe('["a \\"b\\"",null]');
    expect(convert(t('decimal[]'), t('json'), '{1.50,-2}')).toBe('[1.50,-2]');
    expect(convert(t('timestamptz[]'), t('json'), '{"2024-01-01 00:00:00+00"}')).toBe(
      '["2024-01-01 00:00:00+00"]',
    );
    expect(convert(t('float64[]'), t('json'), '{1.5,NaN}')).toEqual(
      new Unholdable('element 2: JSON has no number NaN'),
    );
    expect(convert(ints, t('json'), '[0:1]={7,8}')).toEqual(
      new Unholdable("the array's bounds [0:1] have no JSON form", '[7,8]'),
    );
  });

  it('reads JSON arrays into arrays only with the element type’s JSON form, rectangular, every digit kept', () => {
    const json = t('json');
    expect(kind(json, t('int64[]'))).toBe('narrowing');
    expect(kind(json, t('float64[]'))).toBe('lossy');
    expect(kind(json, t('bytes[]'))).toBeUndefined();
    expect(kind(t('text'), t('int32[]'))).toBeUndefined();
    expect(convert(json, t('int64[]'), '[9223372036854775807, null, -1]')).toBe(
      '{9223372036854775807,NULL,-1}',
    );
    expect(convert(json, t('int32[]'), '[[1, 2], [3, 4]]')).toBe('{{1,2},{3,4}}');
    expect(convert(json, t('decimal(6,2)[]'), '[1.5, 1e2, 2E-1]')).toBe('{1.5,100,0.2}');
    expect(convert(json, t('text[]'), '["a b", "NULL", ""]')).toBe('{"a b","NULL",""}');
    expect(convert(json, t('json[]'), '[{"a": 1}, "x"]')).toBe('{"{\\"a\\": 1}","\\"x\\""}');
    expect(convert(json, t('boolean[]'), '[true, false]')).toBe('{t,f}');
    expect(convert(json, t('int16[]'), '[1, 40000]')).toEqual(
      new Unholdable('element 2: 40000 is above the int16 range', '{1,32767}'),
    );
    expect(convert(json, t('text[]'), '["a", 5]')).toEqual(
      new Unholdable('element 2: 5 is not a JSON string'),
    );
    expect(convert(json, t('int32[]'), '[[1, 2], [3]]')).toBeInstanceOf(Unholdable);
    expect(convert(json, t('int32[]'), '[[1], 2]')).toBeInstanceOf(Unholdable);
    expect(convert(json, t('int32[]'), '{"a": 1}')).toEqual(
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

describe('enum and array rules in the job spec', () => {
  const minimal = { source: { connection: 'a' }, target: { connection: 'b' } };
  const issues = (casts: unknown[]): string[] => {
    const parsed = parseJobSpec({ ...minimal, casts });
    return parsed.ok ? [] : parsed.issues.map((i) => `${i.path}: ${i.message}`);
  };

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
