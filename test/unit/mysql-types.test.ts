import { describe, expect, it } from 'vitest';
import {
  fieldText,
  keyColumnType,
  logicalToMysql,
  mysqlToLogical,
  parseEnumValues,
  valueReader,
} from '../../src/connectors/mysql/mysql-types';
import type { LogicalType } from '../../src/core/logical-types';

/** The `code` of what a call throws, so tests assert on codes rather than messages. */
function thrownCode(call: () => unknown): unknown {
  try {
    call();
  } catch (e) {
    return (e as { code?: unknown }).code;
  }
  return undefined;
}

describe('MySQL type mapping to logical types', () => {
  it.each([
    ['tinyint(4)', { kind: 'int16' }],
    ['tinyint(1)', { kind: 'int16' }],
    ['tinyint(3) unsigned', { kind: 'int16' }],
    ['smallint(6)', { kind: 'int16' }],
    ['smallint(5) unsigned', { kind: 'int32' }],
    ['mediumint(9)', { kind: 'int32' }],
    ['int(11)', { kind: 'int32' }],
    ['int', { kind: 'int32' }],
    ['int(10) unsigned', { kind: 'int64' }],
    ['int unsigned zerofill', { kind: 'int64' }],
    ['bigint(20)', { kind: 'int64' }],
    ['bigint(20) unsigned', { kind: 'decimal', precision: 20, scale: 0 }],
    ['float', { kind: 'float32' }],
    ['float(7,3)', { kind: 'float32' }],
    ['double', { kind: 'float64' }],
    ['double(10,2) unsigned', { kind: 'float64' }],
    ['decimal(12,2)', { kind: 'decimal', precision: 12, scale: 2 }],
    ['decimal(65,30)', { kind: 'decimal', precision: 65, scale: 30 }],
    ['char(36)', { kind: 'string', length: 36 }],
    ['varchar(40)', { kind: 'string', length: 40 }],
    ['varchar(40) COLLATE utf8mb4_unicode_ci', { kind: 'string', length: 40 }],
    ['tinytext', { kind: 'text' }],
    ['text', { kind: 'text' }],
    ['mediumtext', { kind: 'text' }],
    ['longtext COLLATE utf8mb4_bin', { kind: 'text' }],
    ['binary(16)', { kind: 'bytes' }],
    ['varbinary(255)', { kind: 'bytes' }],
    ['tinyblob', { kind: 'bytes' }],
    ['blob', { kind: 'bytes' }],
    ['longblob', { kind: 'bytes' }],
    ['date', { kind: 'date' }],
    ['time', { kind: 'time', precision: 0 }],
    ['time(3)', { kind: 'time', precision: 3 }],
    ['datetime', { kind: 'timestamp', precision: 0 }],
    ['datetime(6)', { kind: 'timestamp', precision: 6 }],
    ['timestamp', { kind: 'timestamptz', precision: 0 }],
    ['timestamp(6)', { kind: 'timestamptz', precision: 6 }],
    ['json', { kind: 'json' }],
    ['uuid', { kind: 'uuid' }],
    ["enum('a','b') COLLATE utf8mb4_unicode_ci", { kind: 'enum', values: ['a', 'b'] }],
  ])('maps %s to its logical type', (native, logical) => {
    expect(mysqlToLogical(native)).toEqual(logical);
  });

  it('keeps tinyint(1) a number instead of guessing a boolean', () => {
    expect(mysqlToLogical('tinyint(1)')).toEqual({ kind: 'int16' });
  });

  it('leaves set, bit, year and geometries unmapped instead of guessing', () => {
    for (const native of ["set('x','y')", 'bit(1)', 'bit(64)', 'year(4)', 'geometry', 'point', 'inet6']) {
      expect(mysqlToLogical(native)).toBeNull();
    }
  });

  it('reads enum labels with doubled quotes, backslashes and commas exactly', () => {
    expect(parseEnumValues("'a''b','c\\\\d','x,y','','É'")).toEqual(["a'b", 'c\\d', 'x,y', '', 'É']);
  });
});

describe('logical types to MySQL column types', () => {
  it.each<[LogicalType, string]>([
    [{ kind: 'boolean' }, 'tinyint(1)'],
    [{ kind: 'int16' }, 'smallint'],
    [{ kind: 'int32' }, 'int'],
    [{ kind: 'int64' }, 'bigint'],
    [{ kind: 'float32' }, 'float'],
    [{ kind: 'float64' }, 'double'],
    [{ kind: 'decimal', precision: 12, scale: 2 }, 'decimal(12,2)'],
    [{ kind: 'decimal' }, 'decimal(65,30)'],
    [{ kind: 'string', length: 40 }, 'varchar(40)'],
    [{ kind: 'string', length: 16_383 }, 'varchar(16383)'],
    [{ kind: 'string', length: 16_384 }, 'mediumtext'],
    [{ kind: 'string', length: 10_000_000 }, 'longtext'],
    [{ kind: 'string' }, 'longtext'],
    [{ kind: 'text' }, 'longtext'],
    [{ kind: 'bytes' }, 'longblob'],
    [{ kind: 'date' }, 'date'],
    [{ kind: 'time', precision: 3 }, 'time(3)'],
    [{ kind: 'timestamp', precision: 6 }, 'datetime(6)'],
    [{ kind: 'timestamp' }, 'datetime(6)'],
    [{ kind: 'timestamptz', precision: 0 }, 'datetime(0)'],
    [{ kind: 'json' }, 'json'],
    [{ kind: 'uuid' }, 'char(36)'],
    [{ kind: 'enum', values: ["it's", 'a\\b'] }, "enum('it''s','a\\\\b')"],
  ])('maps %j to %s', (logical, native) => {
    expect(logicalToMysql(logical)).toBe(native);
  });

  it('maps a generated type back to the same logical type, except where MySQL has no own type', () => {
    const sameBack: LogicalType[] = [
      { kind: 'int16' },
      { kind: 'int32' },
      { kind: 'int64' },
      { kind: 'float32' },
      { kind: 'float64' },
      { kind: 'decimal', precision: 38, scale: 18 },
      { kind: 'string', length: 40 },
      { kind: 'text' },
      { kind: 'bytes' },
      { kind: 'date' },
      { kind: 'time', precision: 6 },
      { kind: 'timestamp', precision: 3 },
      { kind: 'json' },
      { kind: 'enum', values: ['x', "y'z"] },
    ];
    for (const logical of sameBack) expect(mysqlToLogical(logicalToMysql(logical))).toEqual(logical);
    // These have no MySQL type of their own: the value survives, the logical type narrows.
    expect(mysqlToLogical(logicalToMysql({ kind: 'boolean' }))).toEqual({ kind: 'int16' });
    expect(mysqlToLogical(logicalToMysql({ kind: 'uuid' }))).toEqual({ kind: 'string', length: 36 });
    expect(mysqlToLogical(logicalToMysql({ kind: 'timestamptz', precision: 6 }))).toEqual({
      kind: 'timestamp',
      precision: 6,
    });
  });

  it('refuses arrays and decimals wider than MySQL can hold with UNSUPPORTED_TYPE', () => {
    expect(thrownCode(() => logicalToMysql({ kind: 'array', element: { kind: 'int32' } }))).toBe(
      'UNSUPPORTED_TYPE',
    );
    expect(thrownCode(() => logicalToMysql({ kind: 'decimal', precision: 70, scale: 2 }))).toBe(
      'UNSUPPORTED_TYPE',
    );
    expect(thrownCode(() => logicalToMysql({ kind: 'decimal', precision: 40, scale: 31 }))).toBe(
      'UNSUPPORTED_TYPE',
    );
  });

  it('gives primary-key text and blob columns a type InnoDB can index', () => {
    expect(keyColumnType('longtext')).toBe('varchar(768)');
    expect(keyColumnType('text COLLATE utf8mb4_bin')).toBe('varchar(768) COLLATE utf8mb4_bin');
    expect(keyColumnType('longblob')).toBe('varbinary(3072)');
    expect(keyColumnType('varchar(40)')).toBe('varchar(40)');
    expect(keyColumnType('bigint')).toBe('bigint');
  });
});

describe('MySQL values in their lossless JS forms', () => {
  it('reads what mysql2 returns into the documented Value forms', () => {
    expect(valueReader({ kind: 'int64' })('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(valueReader({ kind: 'int64' })(4294967295)).toBe(4294967295n);
    expect(valueReader({ kind: 'int16' })(1)).toBe(1);
    expect(valueReader({ kind: 'decimal' })('-12.50')).toBe('-12.50');
    expect(valueReader({ kind: 'float32' })('0.3333333432674408')).toBe(0.33333334);
    expect(valueReader({ kind: 'float64' })('90.66666666666667')).toBe(90.66666666666667);
    expect(valueReader({ kind: 'float32' })(16777216)).toBe(16777216);
    expect(valueReader({ kind: 'float64' })(0.1)).toBe(0.1);
    expect(valueReader({ kind: 'timestamp' })('2024-01-02 03:04:05.500000')).toBe('2024-01-02 03:04:05.5');
    expect(valueReader({ kind: 'timestamp' })('2024-01-02 03:04:05.000000')).toBe('2024-01-02 03:04:05');
    expect(valueReader({ kind: 'timestamp' })('2024-01-02 03:04:05.120300')).toBe('2024-01-02 03:04:05.1203');
    expect(valueReader({ kind: 'timestamp' })('2024-01-02 03:04:10')).toBe('2024-01-02 03:04:10');
    expect(valueReader({ kind: 'timestamptz' })('2024-01-02 03:04:50')).toBe('2024-01-02 03:04:50+00');
    expect(valueReader({ kind: 'time' })('-838:59:59')).toBe('-838:59:59');
    expect(valueReader({ kind: 'timestamptz' })('1970-01-01 00:00:01.000100')).toBe(
      '1970-01-01 00:00:01.0001+00',
    );
    expect(valueReader({ kind: 'bytes' })(Buffer.from([0, 255]))).toEqual(Buffer.from([0, 255]));
    expect(valueReader({ kind: 'text' })(2024)).toBe('2024');
    expect(valueReader({ kind: 'json' })(null)).toBeNull();
  });

  it('writes values as the text MySQL parses back into the column', () => {
    expect(fieldText(Buffer.from([0, 9, 255]), { kind: 'bytes' }, 'b')).toBe('0009ff');
    expect(fieldText(true, { kind: 'boolean' }, 'b')).toBe('1');
    expect(fieldText(-9223372036854775808n, { kind: 'int64' }, 'b')).toBe('-9223372036854775808');
    expect(fieldText('2024-03-31 00:30:01.25+00', { kind: 'timestamptz' }, 't')).toBe(
      '2024-03-31 00:30:01.25',
    );
    expect(fieldText('a+00', { kind: 'text' }, 't')).toBe('a+00');
    expect(fieldText(null, { kind: 'text' }, 't')).toBeNull();
  });

  it('refuses NaN and infinities, which MySQL cannot store, with OUT_OF_RANGE', () => {
    for (const value of [NaN, Infinity, -Infinity]) {
      expect(thrownCode(() => fieldText(value, { kind: 'float64' }, 'ratio'))).toBe('OUT_OF_RANGE');
    }
  });
});
