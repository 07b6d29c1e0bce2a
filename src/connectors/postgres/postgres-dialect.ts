import { createHash } from 'node:crypto';
import { ErrorCode, MigrationError } from '../../core/errors';
import type { BoundValue } from '../../core/partitions';
import {
  tableLabel,
  targetColumnTypeOf,
  type ColumnMeta,
  type TableMeta,
  type TableRef,
} from '../../core/table';
import type { KeyTuple } from '../../core/connector';
import { logicalToPostgres } from './postgres-types';

/** Quotes an identifier the PostgreSQL way: in double quotes, inner quotes doubled. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal (standard_conforming_strings on): in single quotes, inner quotes doubled. */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('literal contains a NUL byte');
  return `'${value.replace(/'/g, "''")}'`;
}

/** PostgreSQL keeps the first 63 bytes of a longer identifier (NAMEDATALEN - 1), silently. */
export const maxIdentifierBytes = 63;
/** A shortened name ends in `_` and this many hex digits of the SHA-256 of the whole name. */
const nameHashDigits = 12;

/**
 * `<table>_<partition>`, or when that is longer than PostgreSQL's 63 bytes, its first characters (cut
 * on a character boundary) + `_` + 12 hex digits of the SHA-256 of the whole name: the same name every
 * time, readable, and distinct for distinct names (two would have to share 48 bits of their hashes).
 */
export function partitionTableName(table: string, partition: string): string {
  const full = `${table}_${partition}`;
  if (Buffer.byteLength(full) <= maxIdentifierBytes) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, nameHashDigits);
  let prefix = '';
  let bytes = 0;
  for (const char of full) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxIdentifierBytes - nameHashDigits - 1) break;
    prefix += char;
  }
  return `${prefix}_${hash}`;
}

/**
 * The table that holds a ref's rows. A partition that is not a table of its own in its source engine
 * (MySQL) is the table `<table>_<partition>` here (shortened past 63 bytes: {@link partitionTableName}),
 * attached to `<table>`.
 */
export function relationRef(ref: TableRef): TableRef {
  return ref.partition === undefined
    ? ref
    : { schema: ref.schema, name: partitionTableName(ref.name, ref.partition) };
}

/** `"schema"."table"`. */
export function qualifiedName(ref: TableRef): string {
  const { schema, name } = relationRef(ref);
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** The table our checkpoints live in, next to the data in the target schema. */
export function checkpointTable(schema: string): TableRef {
  return { schema, name: '_mms_checkpoint' };
}

/** The column type a target gets: the native one for PostgreSQL sources (unless a cast rule changed it), else the logical mapping. */
export function targetColumnType(column: ColumnMeta, sameEngine: boolean): string {
  return targetColumnTypeOf(column, sameEngine, logicalToPostgres);
}

/** `CREATE TABLE` for a target table. */
export function createTableSql(
  ref: TableRef,
  columns: ColumnMeta[],
  primaryKey: string[],
  sameEngine: boolean,
): string {
  const lines = columns.map((c) => {
    const type = enumTypeIn(ref.schema, c, ref.name, sameEngine) ?? targetColumnType(c, sameEngine);
    return `  ${quoteIdent(c.name)} ${type}${c.nullable ? '' : ' NOT NULL'}`;
  });
  if (primaryKey.length > 0) lines.push(`  PRIMARY KEY (${primaryKey.map(quoteIdent).join(', ')})`);
  return `CREATE TABLE ${qualifiedName(ref)} (\n${lines.join(',\n')}\n)`;
}

/** The bare name of a type as `format_type()` prints it, qualified or not: `s."My Type"` → `My Type`. */
export function typeNameOf(nativeType: string): string {
  const last = /(?:^|\.)("(?:[^"]|"")*"|[^."]+)$/.exec(nativeType)?.[1] ?? nativeType;
  return last.startsWith('"') ? last.slice(1, -1).replace(/""/g, '"') : last;
}

/**
 * Where an enum column's type lives on a PostgreSQL target, in the target schema (so a target in
 * another database or schema holds it too): a PostgreSQL source's enum under its source name; a
 * column a cast rule makes an enum (without a `targetType`) under `<table>_<column>`, as pgloader
 * names them. Null for other columns: another engine's enum no rule casts stays text.
 */
export function enumTypeIn(
  schema: string,
  column: ColumnMeta,
  table: string,
  sameEngine: boolean,
): string | null {
  if (column.type.kind !== 'enum' || column.cast?.targetType) return null;
  if (column.cast) return `${quoteIdent(schema)}.${quoteIdent(`${table}_${column.name}`)}`;
  return sameEngine ? `${quoteIdent(schema)}.${quoteIdent(typeNameOf(column.nativeType))}` : null;
}

/**
 * Creates an enum column's type (see {@link enumTypeIn}) in the target schema. A type already there
 * (or made by a parallel task) stays when it has the same labels in the same order; with other
 * labels the statement fails (42710, TARGET_CONFLICT) rather than write into a different type.
 */
export function createEnumTypeSql(
  schema: string,
  column: ColumnMeta,
  table: string,
  sameEngine: boolean,
): string | null {
  const type = enumTypeIn(schema, column, table, sameEngine);
  if (!type || column.type.kind !== 'enum') return null;
  const labels = column.type.values.map(quoteLiteral).join(', ');
  const existing = `(SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = ${quoteLiteral(type)}::regtype)`;
  return (
    `DO $mms$ BEGIN CREATE TYPE ${type} AS ENUM (${labels}); ` +
    `EXCEPTION WHEN duplicate_object OR unique_violation THEN ` +
    `IF ${existing} IS DISTINCT FROM ARRAY[${labels}]::text[] THEN ` +
    `RAISE EXCEPTION 'type % exists with other labels than (%)', ${quoteLiteral(type)}, ${quoteLiteral(labels)} USING ERRCODE = 'duplicate_object'; ` +
    `END IF; END $mms$`
  );
}

/** `CREATE TABLE … PARTITION OF parent FOR VALUES …` for one partition. */
export function createPartitionSql(ref: TableRef, parent: string, bound: string): string {
  return `CREATE TABLE ${qualifiedName(ref)} PARTITION OF ${qualifiedName({ schema: ref.schema, name: parent })} ${bound}`;
}

/** A bound value as PostgreSQL writes it in `FOR VALUES …`. */
function boundLiteral(value: BoundValue): string {
  if (value === null) return 'NULL';
  return typeof value === 'string' ? quoteLiteral(value) : value.unbounded;
}

/**
 * The partition key and bound a PostgreSQL target gives a partition: a PostgreSQL source's own, or
 * those of another engine's RANGE or LIST partition keyed by plain columns (MySQL's RANGE partitions
 * end where the next begins, so each runs from the previous bound, or MINVALUE, to its own).
 * Null when the table is not a partition or its source cannot describe it; BAD_SPEC when the key cannot be mapped.
 */
export function partitionClauses(
  table: TableMeta,
  sameEngine: boolean,
): { keyDef: string; bound: string } | null {
  const partition = table.partition;
  if (!partition) return null;
  if (sameEngine) return { keyDef: partition.keyDef, bound: partition.bound };
  const layout = partition.layout;
  if (!layout) return null;
  const label = tableLabel(table.ref);
  if (!layout.columns) {
    throw new MigrationError(
      ErrorCode.BadSpec,
      `${label} is partitioned by the expression ${layout.expression}: a PostgreSQL target partitions by plain columns only; copy the whole table with kind "tables"`,
      { table: label },
    );
  }
  const key = layout.columns.map(quoteIdent).join(', ');
  // A layout without a bound is a DEFAULT partition (a PostgreSQL one, described in neutral terms).
  if (layout.method === 'range' ? !layout.to : !layout.values)
    return { keyDef: `${layout.method.toUpperCase()} (${key})`, bound: 'DEFAULT' };
  if (layout.method === 'range') {
    const from = (layout.from ?? []).map(boundLiteral).join(', ');
    const to = (layout.to ?? []).map(boundLiteral).join(', ');
    return { keyDef: `RANGE (${key})`, bound: `FOR VALUES FROM (${from}) TO (${to})` };
  }
  if (layout.columns.length !== 1) {
    throw new MigrationError(
      ErrorCode.BadSpec,
      `${label} is LIST-partitioned by ${layout.columns.length} columns: PostgreSQL LIST partitions have one column; copy the whole table with kind "tables"`,
      { table: label },
    );
  }
  const values = (layout.values ?? []).map((tuple) => boundLiteral(tuple[0] ?? null));
  return { keyDef: `LIST (${key})`, bound: `FOR VALUES IN (${values.join(', ')})` };
}

/** `INSERT … SELECT … ON CONFLICT (key) DO UPDATE`: an upsert of staged rows by primary key. */
export function upsertSql(ref: TableRef, stage: string, columns: string[], primaryKey: string[]): string {
  const list = columns.map(quoteIdent).join(', ');
  const updates = columns
    .filter((c) => !primaryKey.includes(c))
    .map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
  const action = updates.length ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING';
  return `INSERT INTO ${qualifiedName(ref)} (${list}) SELECT ${list} FROM ${quoteIdent(stage)} ON CONFLICT (${primaryKey.map(quoteIdent).join(', ')}) ${action}`;
}

/** `CREATE TABLE IF NOT EXISTS` for the checkpoint table. */
export function createCheckpointTableSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(checkpointTable(schema))} (
  task_id text PRIMARY KEY,
  cursor jsonb,
  rows_read bigint NOT NULL DEFAULT 0,
  rows_written bigint NOT NULL DEFAULT 0,
  chunks integer NOT NULL DEFAULT 0,
  baseline_rows bigint NOT NULL DEFAULT 0,
  completed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
)`;
}

/** A key column with the type its values are cast to in comparisons. */
export interface KeyColumn {
  name: string;
  nativeType: string;
}

const columnList = (key: KeyColumn[]): string => key.map((k) => quoteIdent(k.name)).join(', ');

/** `(k1, k2) > ('v1'::t1, 'v2'::t2)`, with literals inlined because COPY takes no parameters. */
export function keyComparison(key: KeyColumn[], op: '>' | '<=', values: KeyTuple): string {
  const literals = key.map((k, i) => `${quoteLiteral(values[i] ?? '')}::${k.nativeType}`);
  return `(${columnList(key)}) ${op} (${literals.join(', ')})`;
}

/**
 * The query that finds a chunk's upper key: the key `offset` rows after `after`.
 * Output columns are aliased k0, k1… so that ORDER BY sorts the typed columns, not their text.
 */
export function chunkBoundSql(
  ref: TableRef,
  key: KeyColumn[],
  after: KeyTuple | null,
  offset: number,
  descending = false,
): string {
  const select = key.map((k, i) => `${quoteIdent(k.name)}::text AS k${i}`).join(', ');
  const where = after ? ` WHERE ${keyComparison(key, '>', after)}` : '';
  const order = key
    .map((k) => `${qualifiedName(ref)}.${quoteIdent(k.name)}${descending ? ' DESC' : ''}`)
    .join(', ');
  return `SELECT ${select} FROM ${qualifiedName(ref)}${where} ORDER BY ${order} LIMIT 1 OFFSET ${offset}`;
}

/** `COPY (SELECT … WHERE key in (after, upTo]) TO STDOUT`; constants become extra text columns after the real ones. */
export function copyOutSql(
  ref: TableRef,
  columns: string[],
  key: KeyColumn[],
  after: KeyTuple | null,
  upTo: KeyTuple,
  constants: string[] = [],
  binary = false,
): string {
  // An empty upper bound is a keyless table's single chunk: every row.
  const conditions = upTo.length ? [keyComparison(key, '<=', upTo)] : [];
  if (after?.length) conditions.unshift(keyComparison(key, '>', after));
  const select = [...columns.map(quoteIdent), ...constants.map((c) => `${quoteLiteral(c)}::text`)].join(', ');
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  return `COPY (SELECT ${select} FROM ${qualifiedName(ref)}${where}) TO STDOUT${binary ? binaryFormat : ''}`;
}

const binaryFormat = ' WITH (FORMAT binary)';

/** `COPY "s"."t" (cols) FROM STDIN`, in the binary format when asked. */
export function copyInSql(ref: TableRef, columns: string[], binary = false): string {
  return `COPY ${qualifiedName(ref)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN${binary ? binaryFormat : ''}`;
}
