import { describe, expect, it } from 'vitest';
import { fromKeySegment, keySegment, partKey, tablePrefix } from '../../src/connectors/s3/s3-layout';

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

  it('puts partition values in Hive-style k=v folders, URL-encoded', () => {
    const key = partKey(orders, 't', 0, 'jsonl', { year: '2024', region: 'eu/west & more', 'odd=key': 'é' });
    expect(key).toMatch(
      /^sales\/orders\/year=2024\/region=eu%2Fwest%20%26%20more\/odd%3Dkey=%C3%A9\/part-[0-9a-f]{8}-000000\.jsonl$/,
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
