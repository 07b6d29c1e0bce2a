import { describe, expect, it } from 'vitest';
import { isWholeTable, nextKeysetChunk, rowsPerChunk } from '../../src/core/chunking';
import { copyOutSql } from '../../src/connectors/postgres/postgres-dialect';
import type { TableMeta } from '../../src/core/table';

const table = (primaryKey: string[]): TableMeta => ({
  engine: 'postgres',
  ref: { schema: 's', name: 't' },
  columns: [{ name: 'id', nativeType: 'bigint', type: { kind: 'int64' }, nullable: false }],
  primaryKey,
  estimatedRows: 0,
  estimatedBytes: 0,
});

describe('keyset chunking', () => {
  it('ends a chunk maxRows-1 rows after the cursor, or at the last key when fewer remain', async () => {
    const asked: [string[] | null, number, boolean][] = [];
    const bound = (after: string[] | null, offset: number, descending: boolean) => {
      asked.push([after, offset, descending]);
      return Promise.resolve(offset === 99 ? null : ['250']);
    };
    expect(await nextKeysetChunk(table(['id']), ['200'], 100, bound)).toEqual({
      after: ['200'],
      upTo: ['250'],
    });
    expect(asked).toEqual([
      [['200'], 99, false],
      [['200'], 0, true],
    ]);
  });

  it('copies a keyless table as one whole chunk, and only once', async () => {
    const never = () => Promise.reject(new Error('a keyless table has no bound query'));
    const first = await nextKeysetChunk(table([]), null, 100, never);
    expect(first && isWholeTable(first)).toBe(true);
    expect(await nextKeysetChunk(table([]), first!.upTo, 100, never)).toBeNull();
    expect(copyOutSql({ schema: 's', name: 't' }, ['v'], [], null, first!.upTo)).toBe(
      'COPY (SELECT "v" FROM "s"."t") TO STDOUT',
    );
  });
});

describe('rows per chunk', () => {
  it('fits rows of the average size into the byte limit, never below one row', () => {
    const limits = { chunkRows: 50_000, chunkBytes: 64 * 1024 * 1024 };
    expect(rowsPerChunk(limits, { estimatedRows: 1_000, estimatedBytes: 10_000 * 1024 * 1024 })).toBe(6);
    expect(rowsPerChunk(limits, { estimatedRows: 2_000_000, estimatedBytes: 600 * 1024 * 1024 })).toBe(
      50_000,
    );
    expect(rowsPerChunk(limits, { estimatedRows: 1, estimatedBytes: 1024 ** 4 })).toBe(1);
    expect(rowsPerChunk(limits, { estimatedRows: 0, estimatedBytes: 0 })).toBe(50_000);
  });
});
