import { ErrorCode, MigrationError } from '../../core/errors';
import {
  compareBounds,
  parseValueList,
  type BoundValue,
  type CompareLiterals,
  type LiteralPair,
  type PartitionLayout,
} from '../../core/partitions';
import type { ColumnMeta, TableMeta, TableRef } from '../../core/table';
import { columnDdlType, qualifiedName, quoteIdent, typedParam, type Statement } from './mysql-dialect';
import { fieldText, quoteLiteral } from './mysql-types';

/**
 * MySQL/MariaDB partitions as mms copies them: one task per RANGE or LIST partition, read and written
 * with `PARTITION (p)`. HASH and KEY partitions hold rows by hash, not by value, and subpartitions
 * split a partition further, so tables partitioned that way are refused: copy them whole.
 */

/** The partitions of some tables, in partition order; a table that is not partitioned has one row with no name. */
export const partitionsSql = `
SELECT TABLE_NAME AS tbl, PARTITION_NAME AS name, PARTITION_METHOD AS method, SUBPARTITION_METHOD AS sub_method,
       PARTITION_EXPRESSION AS expression, PARTITION_DESCRIPTION AS description,
       COALESCE(TABLE_ROWS, 0) AS est_rows, COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) AS est_bytes
FROM information_schema.PARTITIONS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?)
ORDER BY CAST(TABLE_NAME AS BINARY), PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION`;

/** One row of {@link partitionsSql}. */
export interface PartitionRow {
  tbl: string;
  name: string | null;
  method: string | null;
  sub_method: string | null;
  expression: string | null;
  description: string | null;
  est_rows: string | number;
  est_bytes: string | number;
}

/** The partitioning methods mms copies partition by partition. */
const copyableMethods = new Set(['RANGE', 'RANGE COLUMNS', 'LIST', 'LIST COLUMNS']);

/** One partition of a MySQL table, with its bound in MySQL's syntax and in neutral terms. */
export interface MysqlPartition {
  table: string;
  name: string;
  /** `RANGE`, `RANGE COLUMNS`, `LIST` or `LIST COLUMNS`. */
  method: string;
  /** The parent's partition key as CREATE TABLE writes it: `` RANGE COLUMNS(`at`) ``. */
  keyDef: string;
  /** The bound as CREATE TABLE writes it: `VALUES LESS THAN ('2024-02-01')`. */
  bound: string;
  layout: PartitionLayout;
  estimatedRows: number;
  estimatedBytes: number;
}

/** What a table is, as far as partitions go. */
export type PartitionedTable =
  { state: 'missing' } | { state: 'unpartitioned' } | { state: 'partitioned'; partitions: MysqlPartition[] };

/** The column names of a key expression made only of columns (`` `a`,`b` ``), or null for any other expression. */
export function plainColumns(expression: string): string[] | null {
  const columns: string[] = [];
  const pattern = /^\s*`((?:[^`]|``)*)`\s*(,|$)/;
  let rest = expression;
  while (rest.trim()) {
    const m = pattern.exec(rest);
    if (!m) return null;
    columns.push(m[1]!.replace(/``/g, '`'));
    rest = rest.slice(m[0].length);
  }
  return columns.length ? columns : null;
}

/**
 * Reads one table's rows of {@link partitionsSql} (in partition order): whether it is partitioned and
 * how, refusing subpartitions and HASH/KEY partitions with BAD_SPEC.
 */
export function partitionedTable(schema: string, table: string, rows: PartitionRow[]): PartitionedTable {
  // information_schema compares names case-insensitively; the table's own rows match exactly.
  const own = rows.filter((r) => r.tbl === table);
  if (own.length === 0) return { state: 'missing' };
  if (own.every((r) => r.name === null)) return { state: 'unpartitioned' };
  const label = `${schema}.${table}`;
  const first = own[0]!;
  if (first.sub_method) {
    throw new MigrationError(
      ErrorCode.BadSpec,
      `${label} is subpartitioned (${first.method} with ${first.sub_method} subpartitions): mms copies partitions of tables without subpartitions; copy the whole table with kind "tables"`,
      { table: label },
    );
  }
  const method = (first.method ?? '').toUpperCase();
  if (!copyableMethods.has(method)) {
    throw new MigrationError(
      ErrorCode.BadSpec,
      `${label} is partitioned by ${method}: those partitions hold rows by hash, not by value; only RANGE and LIST partitions can be chosen (copy the whole table with kind "tables")`,
      { table: label },
    );
  }
  const expression = first.expression ?? '';
  const columns = plainColumns(expression);
  const width = method.endsWith('COLUMNS') ? (columns?.length ?? 1) : 1;
  const isRange = method.startsWith('RANGE');
  let lower: BoundValue[] = Array<BoundValue>(width).fill({ unbounded: 'MINVALUE' });
  const partitions = own.map((r): MysqlPartition => {
    const description = r.description ?? '';
    const items = parseValueList(description, { backslashEscapes: true });
    const layout: PartitionLayout = { method: isRange ? 'range' : 'list', columns, expression };
    if (isRange) {
      layout.from = lower;
      layout.to = items as BoundValue[];
      lower = layout.to;
    } else {
      layout.values = items.map((item) => (Array.isArray(item) ? (item as BoundValue[]) : [item]));
    }
    return {
      table,
      name: r.name!,
      method,
      keyDef: `${method}(${expression})`,
      bound: isRange ? `VALUES LESS THAN (${description})` : `VALUES IN (${description})`,
      layout,
      estimatedRows: Number(r.est_rows),
      estimatedBytes: Number(r.est_bytes),
    };
  });
  return { state: 'partitioned', partitions };
}

/** The text kinds whose comparisons depend on a collation. */
const textKinds = new Set(['string', 'text', 'uuid']);

/**
 * The collation a text key column compares in on MySQL: the one in a MySQL column's native type, or
 * utf8mb4_bin for another engine's text, as createTableSql makes it; null for other columns.
 */
function keyCollation(column: ColumnMeta, sameEngine: boolean): string | null {
  if (!textKinds.has(column.type.kind)) return null;
  if (!sameEngine) return 'utf8mb4_bin';
  const collation = / COLLATE (\w+)$/.exec(column.nativeType)?.[1];
  return collation ?? null;
}

/**
 * The casts that make bound literals compare as values of the key: the column types for
 * `… COLUMNS` keys, text in the column's collation (a bound 'M' is not 'm' in utf8mb4_bin), and
 * integers for an expression key (MySQL RANGE and LIST expressions are integers). `sameEngine`: the
 * columns are MySQL's own (a MySQL source, or the target of one), not another engine's.
 */
export function keyCasts(layout: PartitionLayout, columns: ColumnMeta[], sameEngine = true): string[] {
  if (!layout.columns) return ['CAST(? AS SIGNED)'];
  return layout.columns.map((name) => {
    const column = columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!column) return '?';
    const collation = keyCollation(column, sameEngine);
    if (collation) return `CONVERT(? USING ${collation.split('_')[0]!}) COLLATE ${collation}`;
    return typedParam({ name, nativeType: column.nativeType, type: column.type });
  });
}

/** `SELECT (a > b) - (a < b), …`: literal pairs compared as key values, one column each. */
export function compareLiteralsSql(pairs: LiteralPair[], casts: string[]): Statement {
  const params: string[] = [];
  const terms = pairs.map((p, i) => {
    const cast = casts[p.column] ?? '?';
    params.push(p.a, p.b, p.a, p.b);
    return `(${cast} > ${cast}) - (${cast} < ${cast}) AS c${i}`;
  });
  return { sql: `SELECT ${terms.join(', ')}`, params };
}

/** Runs {@link compareLiteralsSql} with a query function, as a {@link CompareLiterals}. */
export function mysqlComparer(
  casts: string[],
  query: (statement: Statement) => Promise<unknown[]>,
): CompareLiterals {
  return async (pairs) => {
    const statement = compareLiteralsSql(pairs, casts);
    const row = (await query(statement))[0] as unknown[] | undefined;
    return pairs.map((_, i) => Number(row?.[i] ?? 0));
  };
}

/** The column types MySQL's RANGE COLUMNS and LIST COLUMNS partition by (MariaDB's too). */
const partitionableType =
  /^(?:tinyint|smallint|mediumint|int|integer|bigint|date|datetime|char|varchar|binary|varbinary)\b/i;
const integerType = /^(?:tinyint|smallint|mediumint|int|integer|bigint)\b/i;

/** A partition as a MySQL target creates it: key, bound, and the bound's values as MySQL holds them. */
export interface MysqlPartitionDef {
  keyDef: string;
  bound: string;
  layout: PartitionLayout;
}

/**
 * How a MySQL target partitions a partition: a MySQL source's own key and bound, or, for another
 * engine's RANGE or LIST partition keyed by plain columns (PostgreSQL), `RANGE COLUMNS` / `LIST COLUMNS`
 * over the same columns. A MySQL RANGE partition has only an upper bound (it starts where the one
 * below ends), so the source's lower bound is dropped; MAXVALUE stays MAXVALUE. Bound values become
 * the text rows of those columns become on MySQL (a timestamptz loses its `+00`: the DATETIME holds UTC).
 * What MySQL cannot express fails with BAD_SPEC naming the table: an expression key, a DEFAULT or HASH
 * partition, a key column of a type MySQL does not partition by, an upper bound with MINVALUE.
 */
export function mysqlPartitionOf(table: TableMeta, sameEngine: boolean): MysqlPartitionDef {
  const partition = table.partition!;
  if (sameEngine) return { keyDef: partition.keyDef, bound: partition.bound, layout: partition.layout! };
  const label = `${table.ref.schema}.${partition.parent}`;
  const refuse = (why: string): MigrationError =>
    new MigrationError(
      ErrorCode.BadSpec,
      `${label} (partition ${table.ref.partition ?? table.ref.name}) ${why}; copy the whole table with kind "tables"`,
      { table: label },
    );
  const layout = partition.layout;
  if (!layout)
    throw refuse(
      `is partitioned by ${partition.keyDef}: a MySQL target takes RANGE and LIST partitions only`,
    );
  if (!layout.columns)
    throw refuse(
      `is partitioned by the expression ${layout.expression}: a MySQL target partitions by plain columns only`,
    );
  const isRange = layout.method === 'range';
  if (isRange ? !layout.to : !layout.values)
    throw refuse('is the DEFAULT partition: MySQL partitions have no DEFAULT');
  const columns = layout.columns.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    if (!column) throw refuse(`has the key column ${name}, which is not copied`);
    const type = columnDdlType(column, table.primaryKey, false);
    if (!partitionableType.test(type))
      throw refuse(
        `has the key column ${name} of type ${column.nativeType}, ${type} on MySQL: MySQL partitions by integer, DATE, DATETIME, CHAR, VARCHAR, BINARY and VARBINARY columns only`,
      );
    return { column, integer: integerType.test(type) };
  });
  // The value as MySQL holds it (null: NULL, unbounded: MAXVALUE), and as SQL text.
  const convert = (value: BoundValue, index: number): BoundValue => {
    const { column, integer } = columns[index]!;
    if (value === null) return null;
    if (typeof value === 'object') {
      if (value.unbounded === 'MINVALUE')
        throw refuse(
          `ends at MINVALUE in column ${column.name}: a MySQL bound has MAXVALUE only, as an upper end`,
        );
      return value;
    }
    if (column.type.kind === 'boolean') return value === 'true' ? '1' : value === 'false' ? '0' : value;
    if (integer && !/^[-+]?\d+$/.test(value))
      throw refuse(`has the bound ${value} in the integer column ${column.name}`);
    return fieldText(value, column.type, column.name);
  };
  const render = (value: BoundValue, index: number): string => {
    if (value === null) return 'NULL';
    if (typeof value === 'object') return value.unbounded;
    return columns[index]!.integer ? value : quoteLiteral(value);
  };
  const key = layout.columns.map(quoteIdent).join(',');
  const keyDef = `${isRange ? 'RANGE' : 'LIST'} COLUMNS(${key})`;
  const neutral: PartitionLayout = { method: layout.method, columns: layout.columns, expression: key };
  if (isRange) {
    const to = layout.to!.map(convert);
    return {
      keyDef,
      bound: `VALUES LESS THAN (${to.map(render).join(',')})`,
      layout: { ...neutral, to },
    };
  }
  const values = layout.values!.map((tuple) => tuple.map(convert));
  const items = values.map((tuple) => {
    const text = tuple.map(render).join(',');
    return tuple.length === 1 ? text : `(${text})`;
  });
  return { keyDef, bound: `VALUES IN (${items.join(',')})`, layout: { ...neutral, values } };
}

/** Whitespace and case do not change a partition key: `RANGE COLUMNS(`at`)` = `range columns (`at`)`. */
const sameKey = (a: string, b: string): boolean =>
  a.replace(/\s+/g, '').toLowerCase() === b.replace(/\s+/g, '').toLowerCase();

/** `CREATE TABLE … PARTITION BY <key> (PARTITION p <bound>)`: a partitioned table with one partition. */
export function createPartitionedSql(
  createTableSql: string,
  keyDef: string,
  name: string,
  bound: string,
): string {
  return `${createTableSql}\nPARTITION BY ${keyDef} (PARTITION ${quoteIdent(name)} ${bound})`;
}

/** What adding one partition to an existing partitioned target takes. */
export interface PartitionChange {
  /** The statement, or null when the partition is there already with the same bound. */
  sql: string | null;
  /** Set when an existing partition was split, which may have moved rows into the new one. */
  reorganized: boolean;
}

/**
 * How a target that is partitioned already gets the source partition `name`:
 * - present with the same bound: nothing; with another bound: TARGET_CONFLICT;
 * - LIST: `ADD PARTITION` (values another partition holds fail with TARGET_CONFLICT);
 * - RANGE above every existing partition: `ADD PARTITION`;
 * - RANGE below some: MySQL only appends RANGE partitions, so the first partition above it is split with
 *   `REORGANIZE PARTITION q INTO (p, q)`; rows of q below p's bound (none, when q came from the same source) move to p.
 */
export async function partitionChange(
  parent: TableRef,
  target: MysqlPartition[],
  source: { name: string; keyDef: string; bound: string; layout: PartitionLayout },
  compare: CompareLiterals,
): Promise<PartitionChange> {
  const label = `${parent.schema}.${parent.name}`;
  const conflict = (message: string): MigrationError =>
    new MigrationError(ErrorCode.TargetConflict, `target ${label}: ${message}`, { table: label });
  const keyDef = target[0]?.keyDef ?? '';
  if (!sameKey(keyDef, source.keyDef))
    throw conflict(`is partitioned by ${keyDef}, the source by ${source.keyDef}`);
  const table = qualifiedName(parent);
  const definition = `PARTITION ${quoteIdent(source.name)} ${source.bound}`;
  const present = target.find((p) => p.name.toLowerCase() === source.name.toLowerCase());
  if (source.layout.method === 'list') {
    if (!present) return { sql: `ALTER TABLE ${table} ADD PARTITION (${definition})`, reorganized: false };
    if (JSON.stringify(present.layout.values) !== JSON.stringify(source.layout.values))
      throw conflict(`partition ${present.name} holds ${present.bound}, the source's ${source.bound}`);
    return { sql: null, reorganized: false };
  }
  const upper = source.layout.to ?? [];
  const verdicts = await compareBounds(
    target.map((p) => [upper, p.layout.to ?? []]),
    compare,
  );
  const same = target.find((_, i) => verdicts[i] === 0);
  if (present) {
    if (same !== present)
      throw conflict(`partition ${present.name} is ${present.bound}, the source's ${source.bound}`);
    return { sql: null, reorganized: false };
  }
  if (same) throw conflict(`partition ${same.name} already ends where ${source.name} ends (${same.bound})`);
  const above = target.find((_, i) => verdicts[i]! < 0);
  if (!above) return { sql: `ALTER TABLE ${table} ADD PARTITION (${definition})`, reorganized: false };
  return {
    sql: `ALTER TABLE ${table} REORGANIZE PARTITION ${quoteIdent(above.name)} INTO (${definition}, PARTITION ${quoteIdent(above.name)} ${above.bound})`,
    reorganized: true,
  };
}
