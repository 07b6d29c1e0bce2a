import type { ChunkRange } from '../../core/connector';
import type { LogicalKind, LogicalType } from '../../core/logical-types';
import type { ColumnMeta, TableRef } from '../../core/table';
import { keyComparison, qualifiedName, quoteIdent, quoteLiteral, type KeyColumn } from './postgres-dialect';
import { postgresToLogical } from './postgres-types';

/*
 * The checksum of core/checksum.ts computed inside PostgreSQL, so that verification reads no rows
 * over the wire. Each expression below prints exactly the canonical text the JS path prints for
 * the same value; the pool's session settings (DateStyle ISO, TimeZone UTC) and a UTF8 database
 * are part of that contract. Tests run both paths over the edge values and compare.
 */

/** Kinds whose canonical text is the value's own text, so any of them can stand for another. */
const textual: ReadonlySet<LogicalKind> = new Set(['string', 'text', 'enum', 'json']);

/** The SQL for a column's canonical text, per canonical kind; `x` is the quoted column. */
const canonicalSql: Record<LogicalKind, (x: string) => string> = {
  boolean: (x) => `CASE WHEN ${x} THEN 't' WHEN NOT ${x} THEN 'f' END`,
  int16: (x) => `${x}::text`,
  int32: (x) => `${x}::text`,
  int64: (x) => `${x}::text`,
  // Adding +0 turns -0 into 0, as the JS path does.
  float32: (x) =>
    `CASE WHEN ${x} = 'NaN' THEN 'NaN' ELSE encode(float8send(${x}::float8 + 0::float8), 'hex') END`,
  float64: (x) =>
    `CASE WHEN ${x} = 'NaN' THEN 'NaN' ELSE encode(float8send(${x}::float8 + 0::float8), 'hex') END`,
  decimal: (x) => `trim_scale(${x})::text`,
  string: (x) => `${x}::text`,
  text: (x) => `${x}::text`,
  enum: (x) => `${x}::text`,
  json: (x) => `${x}::text`,
  array: (x) => `${x}::text`,
  bytes: (x) => `encode(${x}, 'hex')`,
  uuid: (x) => `${x}::text`,
  date: (x) => `${x}::text`,
  // PostgreSQL already prints fractions without trailing zeros and timestamptz in the session zone (UTC) as +00.
  time: (x) => `${x}::text`,
  timestamp: (x) => `${x}::text`,
  timestamptz: (x) => `${x}::text`,
};

/**
 * The canonical text of a column of this table whose values are checksummed as `canonical`, or null
 * when the column's own type cannot print it the same way in SQL (then the rows are hashed in JS).
 */
export function canonicalColumnSql(column: ColumnMeta, canonical: LogicalType): string | null {
  const own = postgresToLogical(column.nativeType);
  if (!own) return null;
  const alike = own.kind === canonical.kind || (textual.has(own.kind) && textual.has(canonical.kind));
  return alike ? canonicalSql[canonical.kind](quoteIdent(column.name)) : null;
}

/**
 * `SELECT rows, sum` over one key range: each row's canonical texts go through `ROW(…)::text`, the
 * record format the JS path imitates, then MD5. Null when a column needs the JS path. Constants (a
 * shard set's source name) are text literals after the real columns.
 */
export function checksumSql(
  ref: TableRef,
  columns: ColumnMeta[],
  types: LogicalType[],
  key: KeyColumn[],
  range: ChunkRange,
  constants: string[] = [],
): string | null {
  const texts = columns.map((c, i) => canonicalColumnSql(c, types[i]!));
  if (texts.some((t) => t === null)) return null;
  const all = [...(texts as string[]), ...constants.map((c) => `${quoteLiteral(c)}::text`)];
  // A keyless table's single chunk (an empty upper bound) is the whole table.
  const conditions = range.upTo.length ? [keyComparison(key, '<=', range.upTo)] : [];
  if (range.after?.length) conditions.unshift(keyComparison(key, '>', range.after));
  const rowHash = `('x' || left(md5(ROW(${all.join(', ')})::text), 16))::bit(64)::bigint`;
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  return `SELECT count(*)::text AS rows, coalesce(sum(${rowHash}), 0)::text AS sum FROM ${qualifiedName(ref)}${where}`;
}
