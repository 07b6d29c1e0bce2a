import { describe, expect, it } from 'vitest';
import { binaryCopyFits } from '../../src/connectors/postgres/postgres-types';
import { ChunkEncoding, chunkEncoding, type Source, type Target } from '../../src/core/connector';
import type { TableMeta } from '../../src/core/table';

const table = (nativeTypes: string[], constants = false): TableMeta => ({
  engine: 'postgres',
  ref: { schema: 's', name: 't' },
  columns: nativeTypes.map((nativeType, i) => ({
    name: `c${i}`,
    nativeType,
    type: { kind: 'text' },
    nullable: true,
  })),
  primaryKey: ['c0'],
  estimatedRows: 0,
  estimatedBytes: 0,
  ...(constants ? { constantColumns: [{ name: 'shard', value: 's.t' }] } : {}),
});
const all = [ChunkEncoding.PgCopyBinary, ChunkEncoding.PgCopyText, ChunkEncoding.Rows];
/** A PostgreSQL-like source: COPY binary only where binaryCopyFits says so. */
const source: Pick<Source, 'encodings' | 'encodingsOf'> = {
  encodings: all,
  encodingsOf: (t) => (binaryCopyFits(t) ? all : all.filter((e) => e !== ChunkEncoding.PgCopyBinary)),
};
const target = (takes = all): Pick<Target, 'encodings' | 'encodingsFor'> => ({
  encodings: all,
  encodingsFor: () => Promise.resolve(takes),
});
const ref = { schema: 's', name: 't' };

describe('choosing a chunk encoding', () => {
  it('takes COPY binary for built-in types only, and only where the target table takes it', async () => {
    const builtin = table([
      'bigint',
      'numeric(12,2)',
      'timestamp(6) without time zone',
      'jsonb',
      'character varying(40)',
    ]);
    expect(await chunkEncoding(source, target(), builtin, ref)).toBe('pg-copy-binary');
    expect(await chunkEncoding(source, target(), table(['bigint', 'integer[]']), ref)).toBe('pg-copy-text');
    expect(await chunkEncoding(source, target(), table(['bigint', 's.mood']), ref)).toBe('pg-copy-text');
    const withoutBinary = all.filter((e) => e !== ChunkEncoding.PgCopyBinary);
    expect(await chunkEncoding(source, target(withoutBinary), builtin, ref)).toBe('pg-copy-text');
  });

  it('needs an encoding every table read offers, and for COPY binary the task table’s very types', async () => {
    const shape = table(['bigint', 'integer']);
    expect(await chunkEncoding(source, target(), shape, ref, [shape, table(['bigint', 'integer'])])).toBe(
      'pg-copy-binary',
    );
    // A member whose column is wider, or one with a shard column's constant: COPY text converts them.
    expect(await chunkEncoding(source, target(), shape, ref, [shape, table(['bigint', 'bigint'])])).toBe(
      'pg-copy-text',
    );
    expect(await chunkEncoding(source, target(), shape, ref, [table(['bigint', 'integer'], true)])).toBe(
      'pg-copy-text',
    );
  });
});
