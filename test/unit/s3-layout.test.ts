import { describe, expect, it } from 'vitest';
import type { ColumnMeta } from '../../src/core/table';
import { hiveKeysFor, hiveShape, withFolderValues } from '../../src/connectors/s3/s3-hive';
import {
  checkpointKey,
  fromKeySegment,
  hiveEscape,
  hiveFolder,
  hiveUnescape,
  keySegment,
  manifestKey,
  parseHiveFolder,
  partKey,
  tablePrefix,
} from '../../src/connectors/s3/s3-layout';
import { inValueRange } from '../../src/connectors/s3/s3-source';

const orders = { schema: 'sales', name: 'orders' };

describe('partKey', () => {
  it('names chunk 7 of a task part-<task hash>-000007 in the table folder', () => {
    expect(partKey(orders, 'job-1/sales.orders', 7, 'parquet')).toMatch(
      /^sales\/orders\/part-[0-9a-f]{8}-000007\.parquet$/,
    );
  });

  it('gives the same key for the same task and chunk, so a rewritten chunk overwrites its part', () => {
    expect(partKey(orders, 'job-1/sales.orders', 3, 'csv')).toBe(
      partKey(orders, 'job-1/sales.orders', 3, 'csv'),
    );
  });

  it('gives different tasks different keys, so an append never overwrites an earlier job’s parts', () => {
    expect(partKey(orders, 'job-1/sales.orders', 0, 'csv')).not.toBe(
      partKey(orders, 'job-2/sales.orders', 0, 'csv'),
    );
  });

  it('puts the part of a Hive folder inside it', () => {
    const folder = hiveFolder(['year', 'region', 'odd=key'], ['2024', 'eu/west & more', 'é']);
    expect(partKey(orders, 't', 0, 'jsonl', folder)).toMatch(
      /^sales\/orders\/year=2024\/region=eu%2Fwest & more\/odd%3Dkey=é\/part-[0-9a-f]{8}-000000\.jsonl$/,
    );
  });

  it('keeps chunk numbers past 999,999 whole', () => {
    expect(partKey(orders, 't', 1_234_567, 'csv')).toMatch(/-1234567\.csv$/);
  });
});

describe('key segments', () => {
  it.each(['orders', 'Mixed Case "quoted"', 'a/b', '100%', '.', '..', 'x.y', 'ünï😀'])(
    'turn the name %j into exactly one path segment and back',
    (name) => {
      const segment = keySegment(name);
      expect(segment).not.toContain('/');
      expect(['.', '..']).not.toContain(segment);
      expect(fromKeySegment(segment)).toBe(name);
    },
  );

  it('keep ordinary names readable', () => {
    expect(tablePrefix({ schema: 'public', name: 'Mixed Case "quoted"' })).toBe(
      'public/Mixed Case "quoted"/',
    );
  });

  it('leave a folder name that is not percent-encoded as it is', () => {
    expect(fromKeySegment('50%off')).toBe('50%off');
  });
});

describe('Hive folders', () => {
  it('escape exactly the characters Hive escapes, as %XX, and leave the rest readable', () => {
    expect(hiveEscape('a/b=c:d%e#f?g*h"i\'j\\k{l[m]n^o\x01p\x7f')).toBe(
      'a%2Fb%3Dc%3Ad%25e%23f%3Fg%2Ah%22i%27j%5Ck%7Bl%5Bm%5Dn%5Eo%01p%7F',
    );
    expect(hiveEscape('eu west-1 é 😀 + & ~')).toBe('eu west-1 é 😀 + & ~');
  });

  it.each([
    'eu',
    '',
    'a/b',
    '100%',
    '=',
    '%2F',
    '2024-01-01 10:00:00.5',
    'é😀',
    '__HIVE_DEFAULT_PARTITION__x',
  ])('turn the value %j into one folder and back', (value) => {
    const folder = hiveFolder(['k'], [value]);
    expect(folder.slice(0, -1)).not.toContain('/');
    expect(parseHiveFolder(folder)).toEqual([{ key: 'k', value }]);
    expect(hiveUnescape(hiveEscape(value))).toBe(value);
  });

  it('keep a text spelled like the NULL token a text', () => {
    const folder = hiveFolder(['k'], ['__HIVE_DEFAULT_PARTITION__']);
    expect(folder).toBe('k=%5F_HIVE_DEFAULT_PARTITION__/');
    expect(parseHiveFolder(folder)).toEqual([{ key: 'k', value: '__HIVE_DEFAULT_PARTITION__' }]);
  });

  it('write NULL as __HIVE_DEFAULT_PARTITION__ and the empty string as an empty value', () => {
    const folder = hiveFolder(['region', 'day'], [null, '']);
    expect(folder).toBe('region=__HIVE_DEFAULT_PARTITION__/day=/');
    expect(parseHiveFolder(folder)).toEqual([
      { key: 'region', value: null },
      { key: 'day', value: '' },
    ]);
  });

  it('nest several keys outermost first, and refuse a segment without =', () => {
    expect(parseHiveFolder('year=2024/month=3/')).toEqual([
      { key: 'year', value: '2024' },
      { key: 'month', value: '3' },
    ]);
    expect(() => parseHiveFolder('year2024/')).toThrow(/not a Hive folder/);
  });

  it('keep one manifest and one checkpoint per partition task in the table folder', () => {
    const p = { ...orders, partition: 'p2024/01' };
    expect(tablePrefix(p)).toBe('sales/orders/');
    expect(manifestKey(orders)).toBe('sales/orders/_manifest.json');
    expect(manifestKey(p)).toBe('sales/orders/_manifest.p2024%2F01.json');
    expect(checkpointKey(p)).toBe('sales/orders/_mms_checkpoint.p2024%2F01.json');
  });
});

const column = (name: string, kind: string): ColumnMeta =>
  ({ name, nativeType: kind, type: { kind }, nullable: true }) as ColumnMeta;
const columns = [
  column('id', 'int64'),
  column('region', 'text'),
  column('day', 'date'),
  column('n', 'int32'),
];
const table = {
  engine: 'postgres',
  ref: orders,
  columns,
  primaryKey: ['id'],
  estimatedRows: 0,
  estimatedBytes: 0,
};

describe('the folder keys of a task', () => {
  it('are the partitionBy columns, checked against the table', () => {
    expect(hiveKeysFor({ table, partitionBy: ['region', 'day'] })).toEqual(['region', 'day']);
    expect(() => hiveKeysFor({ table, partitionBy: ['nope'] })).toThrow(
      'target.partitionBy: sales.orders has no column "nope" (its columns: id, region, day, n)',
    );
    expect(() => hiveKeysFor({ table, partitionBy: ['day', 'day'] })).toThrow(/twice/);
    expect(() => hiveKeysFor({ table, partitionBy: ['id', 'region', 'day', 'n'] })).toThrow(/every column/);
    expect(hiveKeysFor({ table })).toEqual([]);
    const withBytes = { ...table, columns: [...columns, column('raw', 'bytes')] };
    expect(() => hiveKeysFor({ table: withBytes, partitionBy: ['raw'] })).toThrow(
      'target.partitionBy: sales.orders.raw is bytes, which does not name folders',
    );
  });

  it('are a LIST partition key by default, and partition=<name> for RANGE partitions', () => {
    const list = {
      ...table,
      partition: { parent: 'orders', keyDef: 'LIST (region)', bound: "FOR VALUES IN ('eu', 'uk')" },
    };
    expect(hiveKeysFor({ table: list })).toEqual(['region']);
    // A DEFAULT partition of a LIST table is split by the same key as its siblings.
    expect(hiveKeysFor({ table: { ...list, partition: { ...list.partition, bound: 'DEFAULT' } } })).toEqual([
      'region',
    ]);
    const range = {
      ...table,
      partition: {
        parent: 'orders',
        keyDef: 'RANGE (day)',
        bound: "FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')",
      },
    };
    expect(hiveKeysFor({ table: range })).toEqual(['partition']);
    expect(hiveKeysFor({ table: range, partitionBy: ['day'] })).toEqual(['day']);
    const clash = { ...range, columns: [...columns, column('partition', 'text')] };
    expect(() => hiveKeysFor({ table: clash })).toThrow(/column named "partition"/);
  });
});

describe('rows of a part', () => {
  it('get their folder values back in their columns, typed', () => {
    const shape = hiveShape(columns, ['region', 'day']);
    expect(shape.dataColumns.map((c) => c.name)).toEqual(['id', 'n']);
    const row = withFolderValues(shape, columns, { region: 'eu', day: '2024-03-01' });
    expect(row([7n, 3])).toEqual([7n, 'eu', '2024-03-01', 3]);
    expect(withFolderValues(shape, columns, { region: null, day: '2024-03-01' })([1n, null])).toEqual([
      1n,
      null,
      '2024-03-01',
      null,
    ]);
    const byId = hiveShape(columns, ['id']);
    expect(withFolderValues(byId, columns, { id: '9007199254740993' })(['x', null, 1])[0]).toBe(
      9007199254740993n,
    );
  });
});

describe('folder values in a range', () => {
  const int = { kind: 'int64' } as const;
  it('compare as values of the column type: [from, to)', () => {
    expect(inValueRange('9', int, { from: '10' }, 't')).toBe(false);
    expect(inValueRange('10', int, { from: '10', to: '11' }, 't')).toBe(true);
    expect(inValueRange('11', int, { from: '10', to: '11' }, 't')).toBe(false);
    expect(inValueRange('-5', int, { to: '-4' }, 't')).toBe(true);
    expect(
      inValueRange('2.50', { kind: 'decimal', precision: 5, scale: 2 }, { from: '2.5', to: '10' }, 't'),
    ).toBe(true);
    expect(inValueRange('eu', { kind: 'text' }, { from: 'de', to: 'fr' }, 't')).toBe(true);
    expect(inValueRange('2024-03-01', { kind: 'date' }, { from: '2024-02-15', to: '2024-03-02' }, 't')).toBe(
      true,
    );
    expect(inValueRange(null, int, {}, 't')).toBe(false);
  });

  it('refuse a bound that is not a value of the type with BAD_SPEC', () => {
    expect(() => inValueRange('1', int, { from: 'abc' }, 'lake.events')).toThrow(
      '"abc" is not a value of lake.events\'s folder column (int64)',
    );
  });
});
