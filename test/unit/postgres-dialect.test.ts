import { describe, expect, it } from 'vitest';
import {
  chunkBoundSql,
  copyInSql,
  copyOutSql,
  createTableSql,
  quoteIdent,
  quoteLiteral,
} from '../../src/connectors/postgres/postgres-dialect';
import type { ColumnMeta } from '../../src/core/table';

const ref = { schema: 'sales', name: 'Order "Lines"' };
const key = [
  { name: 'order_id', nativeType: 'bigint' },
  { name: 'line', nativeType: 'integer' },
];

describe('the PostgreSQL dialect', () => {
  it('quotes identifiers and literals so that no input can end them', () => {
    expect(quoteIdent('a"b; DROP TABLE x; --')).toBe('"a""b; DROP TABLE x; --"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(() => quoteIdent('nul\0byte')).toThrow();
  });

  it('finds a chunk bound ordering by the typed key columns, not their text', () => {
    expect(chunkBoundSql(ref, key, ['10', '2'], 4999)).toBe(
      'SELECT "order_id"::text AS k0, "line"::text AS k1 FROM "sales"."Order ""Lines""" ' +
        `WHERE ("order_id", "line") > ('10'::bigint, '2'::integer) ` +
        'ORDER BY "sales"."Order ""Lines"""."order_id", "sales"."Order ""Lines"""."line" LIMIT 1 OFFSET 4999',
    );
    expect(chunkBoundSql(ref, key, null, 0, true)).toContain('"line" DESC LIMIT 1 OFFSET 0');
  });

  it('copies exactly the rows of (after, upTo]', () => {
    expect(copyOutSql(ref, ['order_id', 'note'], key, ['1', '1'], ['9', '3'])).toBe(
      'COPY (SELECT "order_id", "note" FROM "sales"."Order ""Lines""" WHERE ' +
        `("order_id", "line") > ('1'::bigint, '1'::integer) AND ("order_id", "line") <= ('9'::bigint, '3'::integer)) TO STDOUT`,
    );
    expect(copyOutSql(ref, ['order_id'], key, null, ['9', '3'])).not.toContain(' > ');
    expect(copyInSql(ref, ['order_id', 'a b'])).toBe(
      'COPY "sales"."Order ""Lines""" ("order_id", "a b") FROM STDIN',
    );
  });

  it('creates tables with native types from PostgreSQL and mapped types from other engines', () => {
    const columns: ColumnMeta[] = [
      { name: 'id', nativeType: 'bigint', type: { kind: 'int64' }, nullable: false },
      { name: 'doc', nativeType: 'jsonb', type: { kind: 'json' }, nullable: true },
    ];
    expect(createTableSql(ref, columns, ['id'], true)).toBe(
      'CREATE TABLE "sales"."Order ""Lines""" (\n  "id" bigint NOT NULL,\n  "doc" jsonb,\n  PRIMARY KEY ("id")\n)',
    );
    expect(createTableSql(ref, columns, ['id'], false)).toContain('"doc" json,');
  });
});
