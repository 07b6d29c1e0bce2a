import type { ChunkRange } from '../../core/connector';
import type { LogicalKind, LogicalType } from '../../core/logical-types';
import type { ColumnMeta, TableRef } from '../../core/table';
import { keyComparison, qualifiedName, quoteIdent, quoteLiteral, type KeyColumn } from './postgres-dialect';
import { postgresToLogical } from './postgres-types';

/*
 * The checksum of core/checksum.ts computed inside PostgreSQL, so that verification reads no rows
 * over the wire. Each expression below prints exactly the canonical text the JS path prints for
 * the same value; the pool's session settings (DateStyle ISO, TimeZone UTC) are part of that
 * contract, and PostgresSource checks a probe hash before it trusts the server (a non-UTF8 database
 * fails it). Tests run both paths over the edge values and compare.
 */

/** Kinds whose canonical text is the value's own text, so any of them can stand for another. */
const textual: ReadonlySet<LogicalKind> = new Set(['string', 'text', 'enum', 'json']);

/**
 * The SQL for a column's canonical text, per canonical kind; `x` is the quoted column. A bare column
 * is cast to text, which prints it with its own output function, already the canonical text:
 * integers, text, json(b) and arrays as they are, fractions without trailing zeros, timestamptz in the
 * session zone (UTC) as `+00`, uuids in lowercase.
 */
const canonicalSql: Record<LogicalKind, (x: string) => string> = {
  boolean: (x) => `CASE WHEN ${x} THEN 't' WHEN NOT ${x} THEN 'f' END`,
  int16: (x) => x,
  int32: (x) => x,
  int64: (x) => x,
  // Adding +0 turns -0 into 0, as the JS path does.
  float32: (x) =>
    `CASE WHEN ${x} = 'NaN' THEN 'NaN' ELSE encode(float8send(${x}::float8 + 0::float8), 'hex') END`,
  float64: (x) =>
    `CASE WHEN ${x} = 'NaN' THEN 'NaN' ELSE encode(float8send(${x}::float8 + 0::float8), 'hex') END`,
  decimal: (x) => `trim_scale(${x})`,
  string: (x) => x,
  text: (x) => x,
  enum: (x) => x,
  json: (x) => x,
  array: (x) => x,
  bytes: (x) => `encode(${x}, 'hex')`,
  uuid: (x) => x,
  date: (x) => x,
  time: (x) => x,
  timestamp: (x) => x,
  timestamptz: (x) => x,
};

/**
 * The canonical text of a column of this table whose values are checksummed as `canonical`, or null
 * when the column's own type cannot print it the same way in SQL (then the rows are hashed in JS).
 */
export function canonicalColumnSql(column: ColumnMeta, canonical: LogicalType): string | null {
  // An enum's own type is named by the user; it prints its label, the canonical text.
  const own = column.type.kind === 'enum' ? column.type : postgresToLogical(column.nativeType);
  if (!own) return null;
  const alike = own.kind === canonical.kind || (textual.has(own.kind) && textual.has(canonical.kind));
  return alike ? canonicalSql[canonical.kind](quoteIdent(column.name)) : null;
}

/**
 * `SELECT rows, sum` over one key range, hashing each row as core/checksum.ts does: column i's
 * canonical text through `hashtextextended(…, i)` (i when NULL), XORed, and the XOR's text through
 * `hashtextextended(…, 0)`. Null when a column needs the JS path. Constants (a shard set's source
 * name) are text columns after the table's own.
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
  const columnHashes = all.map(
    (text, i) => `coalesce(hashtextextended((${text})::text, ${i + 1}), ${i + 1})`,
  );
  const rowHash = `hashtextextended((${columnHashes.join(' # ')})::text, 0)`;
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  return `SELECT count(*)::text AS rows, coalesce(sum(${rowHash}), 0)::text AS sum FROM ${qualifiedName(ref)}${where}`;
}
