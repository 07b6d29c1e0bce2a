import { describe, expect, it } from 'vitest';
import {
  addChecksums,
  RowHasher,
  canonicalText,
  checksumOf,
  emptyChecksum,
  hashText,
  type Checksum,
} from '../../src/core/checksum';
import type { Row, Value } from '../../src/core/connector';
import type { LogicalType } from '../../src/core/logical-types';
import { edgeColumns, edgeRows } from '../fixtures/edge-values';

const t = (kind: LogicalType['kind']): LogicalType => ({ kind }) as LogicalType;
const same = (type: LogicalType, ...forms: Value[]): void => {
  const texts = forms.map((v) => canonicalText(v, type));
  expect(new Set(texts).size, `${JSON.stringify(texts)}`).toBe(1);
};
const types = edgeColumns.map((c) => c.type);

describe('canonical values', () => {
  it('compare decimals by value, whatever scale or padding the engine printed', () => {
    same(
      { kind: 'decimal', precision: 12, scale: 2 },
      '1.50',
      '1.5',
      '01.500000000000000000000000000000',
      '+1.5',
    );
    same(t('decimal'), '-0.00', '0', '0.000000000000000000', '-0');
    same(t('decimal'), '.5', '0.5', '0.50');
    same(t('decimal'), '100', '100.00');
    expect(canonicalText('-12.50', t('decimal'))).toBe('-12.5');
    expect(canonicalText('NaN', t('decimal'))).toBe('NaN');
  });

  it('drop trailing zeros of time and timestamp fractions, and read an ISO T as a space', () => {
    same(t('timestamp'), '2024-01-01 00:00:00.500000', '2024-01-01 00:00:00.5', '2024-01-01T00:00:00.50');
    same(t('timestamp'), '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00');
    same(t('timestamp'), '0044-03-15 12:00:00.100 BC', '0044-03-15 12:00:00.1 BC');
    same(t('time'), '12:34:56.500000', '12:34:56.5');
  });

  it('read every spelling of UTC in a timestamptz as +00, and convert other offsets to UTC', () => {
    same(
      t('timestamptz'),
      '2024-03-31 00:30:00+00',
      '2024-03-31 00:30:00+00:00',
      '2024-03-31T00:30:00Z',
      '2024-03-31 00:30:00.000000+0000',
      '2024-03-31 02:30:00+02',
      '2024-03-30 19:00:00-05:30',
    );
    same(t('timestamptz'), '2000-01-01 00:00:00.25+00', '2000-01-01 01:00:00.250+01:00');
    expect(canonicalText('infinity', t('timestamptz'))).toBe('infinity');
  });

  it('treat -0 as 0 and NaN as NaN, and read a float32 the same from any engine', () => {
    same(t('float64'), -0, 0, '-0', '0');
    same(t('float64'), NaN, 'NaN');
    same(t('float64'), Infinity, 'Infinity');
    // PostgreSQL prints a real as 1.1; MySQL's CAST(… AS DOUBLE) gives the exact float32.
    same(t('float32'), 1.1, Math.fround(1.1), 1.100000023841858);
    expect(canonicalText(0.1, t('float64'))).not.toBe(canonicalText(0.1 + Number.EPSILON / 8, t('float64')));
  });

  it('read booleans, int64, uuids and bytes the same in the forms different engines produce', () => {
    same(t('boolean'), true, 1, 't');
    same(t('boolean'), false, 0, 'f');
    same(t('int64'), 9223372036854775807n, '9223372036854775807');
    same(t('uuid'), 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    same(t('bytes'), Buffer.from([0, 255, 10]), '\\x00ff0a');
  });

  it('keep NULL apart from the empty string, and values apart from their columns', () => {
    const hasher = new RowHasher();
    const distinct = (rows: (string | null)[][]): number =>
      new Set(rows.map((r) => hasher.hash(r).join())).size;
    expect(
      distinct([
        ['', null],
        [null, ''],
        [null, null],
        ['', ''],
      ]),
    ).toBe(4);
    expect(
      distinct([
        ['a,b', null],
        ['a', 'b'],
        ['b', 'a'],
        ['ab', ''],
        ['', 'ab'],
      ]),
    ).toBe(5);
  });
});

describe('the row hash', () => {
  it('is PostgreSQL hashtextextended(text, seed), byte for byte, with and without a seed', () => {
    // Values printed by PostgreSQL 15 for SELECT hashtextextended(…, seed).
    expect(
      (
        [
          ['', 1],
          ['abc', 2],
          ['abcdefghijkl', 3],
          ['é😀 x', 9],
          ['xyz', 4294967297],
        ] as const
      ).map(([s, seed]) => hashText(s, seed).toString()),
    ).toEqual([
      '-150071773020461347',
      '792850575183825444',
      '4584400490450960132',
      '5969094519184048084',
      '-1841676115310227022',
    ]);
    // Values printed by PostgreSQL 15 for SELECT hashtextextended(…, 0).
    expect(
      ['', 'a', 'abc', 'abcdefghijkl', '(1,"x y",,é😀)', 'xyz'.repeat(37)].map((s) => hashText(s).toString()),
    ).toEqual([
      '-6939563903564495251',
      '3591986179850072241',
      '-6747756470228489321',
      '-7556637188122330412',
      '-8750442870407388392',
      '8917584153478369944',
    ]);
  });
});

describe('table checksums', () => {
  it('do not depend on row order', () => {
    expect(checksumOf([...edgeRows].reverse(), types)).toEqual(checksumOf(edgeRows, types));
  });

  it('change when one bit of one value changes', () => {
    const flipped = edgeRows.map((r): Row => [...r]);
    const raw = edgeColumns.findIndex((c) => c.name === 'raw');
    const bytes = Buffer.from(flipped[0]![raw] as Buffer);
    bytes[3] = bytes[3]! ^ 1;
    flipped[0]![raw] = bytes;
    expect(checksumOf(flipped, types)).not.toEqual(checksumOf(edgeRows, types));
  });

  it('change when a row is duplicated, dropped, or a value moves to another column', () => {
    const base = checksumOf(edgeRows, types);
    expect(checksumOf([...edgeRows, edgeRows[0]!], types)).not.toEqual(base);
    expect(checksumOf(edgeRows.slice(1), types)).not.toEqual(base);
    const text = [t('text'), t('text')];
    expect(checksumOf([['a', 'b']], text)).not.toEqual(checksumOf([['b', 'a']], text));
  });

  it('of key ranges add up to the checksum of the whole table', () => {
    const ranges = [edgeRows.slice(0, 3), edgeRows.slice(3, 5), edgeRows.slice(5)];
    const total = ranges
      .map((rows) => checksumOf(rows, types))
      .reduce((sum: Checksum, c) => addChecksums(sum, c), emptyChecksum);
    expect(total).toEqual(checksumOf(edgeRows, types));
  });
});
