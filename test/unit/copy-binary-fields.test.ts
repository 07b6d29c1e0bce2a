import { describe, expect, it } from 'vitest';
import { binaryColumn } from '../../src/connectors/postgres/copy-binary-fields';
import type { LogicalKind } from '../../src/core/logical-types';

/** The bytes a target type's writer makes of a text, or null when it refuses the text. */
function written(type: string, kind: LogicalKind, text: string): string | null {
  const column = binaryColumn(type, false, kind);
  if (!column) throw new Error(`no writer for ${type} from ${kind}`);
  const input = Buffer.from(`#${text}#`, 'utf8');
  const out = Buffer.alloc(input.length + 16, 0xaa);
  const end = column.write(input, 1, input.length - 1, out, 2);
  return end === -1 ? null : out.toString('hex', 2, end);
}

describe('COPY binary values from their text', () => {
  it('writes integers big-endian, int8 exactly past 2^53, and refuses what does not fit', () => {
    expect(written('smallint', 'int16', '-32768')).toBe('8000');
    expect(written('smallint', 'int16', '32768')).toBeNull();
    expect(written('integer', 'int32', '-1')).toBe('ffffffff');
    expect(written('bigint', 'int64', '-2')).toBe('fffffffffffffffe');
    expect(written('bigint', 'int64', '4294967296')).toBe('0000000100000000');
    expect(written('bigint', 'int64', '9223372036854775807')).toBe('7fffffffffffffff');
    expect(written('bigint', 'int64', '-9223372036854775808')).toBe('8000000000000000');
    expect(written('bigint', 'int64', '9223372036854775808')).toBeNull();
    for (const bad of ['', '-', '1.0', '1e3', ' 1', '+1'])
      expect(written('integer', 'int32', bad)).toBeNull();
  });

  it('writes numerics as base-10000 digits with weight, sign and scale, zeros trimmed', () => {
    // 3 digits (0123 4567 8900), weight 1, negative, scale 4.
    expect(written('numeric(20,4)', 'decimal', '-1234567.8900')).toBe('0003000140000004007b11d722c4');
    // 0.0005: one digit (5) at weight -1, scale 4; 100: one digit at weight 0, scale 0.
    expect(written('numeric', 'decimal', '0.0005')).toBe('0001ffff000000040005');
    expect(written('numeric', 'decimal', '100')).toBe('00010000000000000064');
    // Zero has no digits and no sign, whatever its text.
    expect(written('numeric', 'decimal', '-0.00')).toBe('0000000000000002');
    expect(written('numeric', 'int64', '000')).toBe('0000000000000000');
    for (const bad of ['', '.5', '5.', '1.2.3', '1e5', 'NaN'])
      expect(written('numeric', 'decimal', bad)).toBeNull();
  });

  it('writes dates as days and timestamps as microseconds since 2000-01-01', () => {
    expect(written('date', 'date', '2000-01-01')).toBe('00000000');
    expect(written('date', 'date', '1999-12-31')).toBe('ffffffff');
    expect(written('date', 'date', '2024-02-29')).toBe((8825).toString(16).padStart(8, '0'));
    expect(written('timestamp(6) without time zone', 'timestamp', '2000-01-01 00:00:01.5')).toBe(
      (1_500_000).toString(16).padStart(16, '0'),
    );
    // 9999-12-31 23:59:59.999999 passes 2^53 microseconds: exact in int64.
    const last = (BigInt(Date.UTC(9999, 11, 31, 23, 59, 59) - Date.UTC(2000, 0, 1)) * 1000n + 999_999n)
      .toString(16)
      .padStart(16, '0');
    expect(written('timestamp(6) without time zone', 'timestamp', '9999-12-31 23:59:59.999999')).toBe(last);
    const first = BigInt.asUintN(64, BigInt(Date.UTC(1000, 0, 1) - Date.UTC(2000, 0, 1)) * 1000n)
      .toString(16)
      .padStart(16, '0');
    expect(written('timestamp(3) without time zone', 'timestamp', '1000-01-01 00:00:00')).toBe(first);
    expect(written('timestamp(6) with time zone', 'timestamptz', '2000-01-01 00:00:00+00')).toBe(
      '0'.repeat(16),
    );
    expect(written('time(6) without time zone', 'time', '24:00:00')).toBe(
      (86_400_000_000).toString(16).padStart(16, '0'),
    );
  });

  it('refuses dates and times that are none, so their checks or PostgreSQL see them', () => {
    for (const bad of [
      '0000-00-00',
      '2020-00-10',
      '2020-01-00',
      '0000-01-01',
      '2023-02-29',
      '2020-04-31',
      '2020-1-01',
    ])
      expect(written('date', 'date', bad)).toBeNull();
    for (const bad of [
      '0000-00-00 00:00:00',
      '2020-01-01 24:00:00',
      '2020-01-01 00:60:00',
      '2020-01-01 00:00:00.1234567',
      '2020-01-01 00:00:00.',
      '2020-01-01T00:00:00',
    ])
      expect(written('timestamp(6) without time zone', 'timestamp', bad)).toBeNull();
    expect(written('timestamp(6) with time zone', 'timestamptz', '2020-01-01 00:00:00')).toBeNull();
    for (const bad of ['24:00:01', '25:00:00', '-01:00:00', '838:59:59'])
      expect(written('time(6) without time zone', 'time', bad)).toBeNull();
  });

  it('writes floats, uuids, bytea, text and jsonb in their binary forms', () => {
    expect(written('double precision', 'float64', '-0')).toBe('8000000000000000');
    expect(written('real', 'float32', '1.5')).toBe('3fc00000');
    expect(written('uuid', 'uuid', '123E4567-e89b-12d3-a456-426614174000')).toBe(
      '123e4567e89b12d3a456426614174000',
    );
    expect(written('uuid', 'uuid', '123e4567e89b12d3a456426614174000')).toBeNull();
    expect(written('bytea', 'bytes', '\\x00FFab')).toBe('00ffab');
    expect(written('bytea', 'bytes', '\\x0')).toBeNull();
    expect(written('text', 'text', 'þ\t')).toBe(Buffer.from('þ\t').toString('hex'));
    expect(written('jsonb', 'json', '{}')).toBe('017b7d');
  });

  it('writes only the kinds whose text the column type reads', () => {
    expect(binaryColumn('integer', false, 'int64')).toBeNull();
    expect(binaryColumn('text', false, 'int32')).toBeNull();
    expect(binaryColumn('boolean', false, 'boolean')).toBeNull();
    expect(binaryColumn('mood', false, 'enum')).toBeNull();
    expect(binaryColumn('mood', true, 'enum')).not.toBeNull();
    expect(binaryColumn('integer[]', false, 'array')).toBeNull();
  });
});
