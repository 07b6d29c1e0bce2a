import { describe, expect, it } from 'vitest';
import {
  chunkBoundSql,
  copyInSql,
  copyOutSql,
  createEnumTypeSql,
  createTableSql,
  quoteIdent,
  quoteLiteral,
  typeNameOf,
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

describe('PostgreSQL enum types on a PostgreSQL target', () => {
  const mood: ColumnMeta = {
    name: 'mood',
    nativeType: 'src."Mood ""x"""',
    type: { kind: 'enum', values: ["it's", 'ok'] },
    nullable: true,
  };

  it('reads the bare type name of a qualified, quoted type', () => {
    expect(typeNameOf('src."Mood ""x"""')).toBe('Mood "x"');
    expect(typeNameOf('mood')).toBe('mood');
    expect(typeNameOf('"a.b".c')).toBe('c');
  });

  it('creates the type in the target schema, once, and gives the column that type', () => {
    expect(createEnumTypeSql('out', mood, 't', true)).toBe(
      `DO $mms$ BEGIN CREATE TYPE "out"."Mood ""x""" AS ENUM ('it''s', 'ok'); EXCEPTION WHEN duplicate_object OR unique_violation THEN ` +
        `IF (SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = '"out"."Mood ""x"""'::regtype) IS DISTINCT FROM ARRAY['it''s', 'ok']::text[] THEN ` +
        `RAISE EXCEPTION 'type % exists with other labels than (%)', '"out"."Mood ""x"""', '''it''''s'', ''ok''' USING ERRCODE = 'duplicate_object'; END IF; END $mms$`,
    );
    expect(createTableSql({ schema: 'out', name: 't' }, [mood], [], true)).toContain(
      '"mood" "out"."Mood ""x"""',
    );
    // Another engine's enum stays text, unless a cast rule makes it an enum.
    expect(createTableSql({ schema: 'out', name: 't' }, [mood], [], false)).toContain('"mood" text');
    expect(createEnumTypeSql('out', { ...mood, type: { kind: 'text' } }, 't', true)).toBeNull();
  });

  it('names the enum type of a column a cast rule makes an enum <table>_<column>, whatever the source', () => {
    const cast: ColumnMeta = {
      ...mood,
      nativeType: 'varchar(10)',
      cast: { from: { kind: 'string', length: 10 }, conversion: 'narrowing', rule: 0 },
    };
    expect(createEnumTypeSql('out', cast, 'orders', false)).toMatch(
      /^DO \$mms\$ BEGIN CREATE TYPE "out"."orders_mood" AS ENUM \('it''s', 'ok'\);/,
    );
    expect(createTableSql({ schema: 'out', name: 'orders' }, [cast], [], false)).toContain(
      '"mood" "out"."orders_mood"',
    );
    // A rule's targetType is taken as written: no type is made.
    const named: ColumnMeta = { ...cast, cast: { ...cast.cast!, targetType: 'text' } };
    expect(createEnumTypeSql('out', named, 'orders', false)).toBeNull();
    expect(createTableSql({ schema: 'out', name: 'orders' }, [named], [], false)).toContain('"mood" text');
  });
});
