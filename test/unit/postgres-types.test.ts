import { describe, expect, it } from 'vitest';
import { logicalToPostgres, postgresToLogical } from '../../src/connectors/postgres/postgres-types';

describe('PostgreSQL type mapping', () => {
  it.each([
    ['boolean', { kind: 'boolean' }],
    ['smallint', { kind: 'int16' }],
    ['integer', { kind: 'int32' }],
    ['bigint', { kind: 'int64' }],
    ['real', { kind: 'float32' }],
    ['double precision', { kind: 'float64' }],
    ['numeric(12,2)', { kind: 'decimal', precision: 12, scale: 2 }],
    ['numeric(38,18)', { kind: 'decimal', precision: 38, scale: 18 }],
    ['numeric', { kind: 'decimal', precision: undefined, scale: undefined }],
    ['character varying(40)', { kind: 'string', length: 40 }],
    ['text', { kind: 'text' }],
    ['bytea', { kind: 'bytes' }],
    ['date', { kind: 'date' }],
    ['time(3) without time zone', { kind: 'time', precision: 3 }],
    ['timestamp without time zone', { kind: 'timestamp', precision: 6 }],
    ['timestamp(6) with time zone', { kind: 'timestamptz', precision: 6 }],
    ['jsonb', { kind: 'json' }],
    ['uuid', { kind: 'uuid' }],
    ['integer[]', { kind: 'array', element: { kind: 'int32' } }],
  ])('maps %s to its logical type', (native, logical) => {
    expect(postgresToLogical(native)).toEqual(logical);
  });

  it('leaves types it does not know unmapped instead of guessing', () => {
    expect(postgresToLogical('interval')).toBeNull();
    expect(postgresToLogical('mood')).toBeNull();
  });

  it('generates a PostgreSQL type for every logical type that maps back to the same logical type', () => {
    const natives = [
      'boolean',
      'smallint',
      'integer',
      'bigint',
      'real',
      'double precision',
      'numeric(12,2)',
      'character varying(40)',
      'text',
      'bytea',
      'date',
      'time(6) without time zone',
      'timestamp(6) without time zone',
      'timestamp(3) with time zone',
      'uuid',
    ];
    for (const native of natives) {
      const logical = postgresToLogical(native)!;
      expect(postgresToLogical(logicalToPostgres(logical))).toEqual(logical);
    }
  });

  it('writes json as json so the source text is kept byte for byte', () => {
    expect(logicalToPostgres({ kind: 'json' })).toBe('json');
  });
});
