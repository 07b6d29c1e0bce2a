import type { KeyTuple } from '../../core/connector';
import type { LogicalType } from '../../core/logical-types';
import { targetColumnTypeOf, type ColumnMeta, type TableRef } from '../../core/table';
import { keyColumnType, logicalToMysql, transferForm } from './mysql-types';

/** Quotes an identifier the MySQL way: in backticks, inner backticks doubled. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL byte');
  return `\`${name.replace(/`/g, '``')}\``;
}

/** `` `database`.`table` ``. */
export function qualifiedName(ref: TableRef): string {
  return `${quoteIdent(ref.schema)}.${quoteIdent(ref.name)}`;
}

/**
 * The rows of a table, or of one of its partitions: `` `db`.`t` PARTITION (`p`) ``. Reads see only that
 * partition, and writes of a row that belongs elsewhere fail instead of landing in a sibling.
 */
export function rowsOf(ref: TableRef): string {
  return ref.partition === undefined
    ? qualifiedName(ref)
    : `${qualifiedName(ref)} PARTITION (${quoteIdent(ref.partition)})`;
}

/** SQL text with its bound values, in placeholder order. */
export interface Statement {
  sql: string;
  params: string[];
}

/** The table our checkpoints live in, next to the data in the target database. */
export function checkpointTable(schema: string): TableRef {
  return { schema, name: '_mms_checkpoint' };
}

/** The column type a target gets: the native one for MySQL sources (unless a cast rule changed it), else the logical mapping. */
export function targetColumnType(column: ColumnMeta, sameEngine: boolean): string {
  return targetColumnTypeOf(column, sameEngine, logicalToMysql);
}

/** The type `CREATE TABLE` gives a column: a key column of text or blob becomes one InnoDB can index. */
export function columnDdlType(column: ColumnMeta, primaryKey: string[], sameEngine: boolean): string {
  const type = targetColumnType(column, sameEngine);
  return primaryKey.includes(column.name) ? keyColumnType(type) : type;
}

/**
 * `CREATE TABLE` for a target table. InnoDB, because a chunk and its checkpoint commit together;
 * utf8mb4_bin for mapped text, because other engines compare strings byte by byte, so keys that
 * differ only in case or accents stay distinct (same-engine columns keep their own collation).
 */
export function createTableSql(
  ref: TableRef,
  columns: ColumnMeta[],
  primaryKey: string[],
  sameEngine: boolean,
): string {
  const lines = columns.map((c) => {
    // Explicit NULL: with explicit_defaults_for_timestamp off a bare TIMESTAMP would be NOT NULL.
    return `  ${quoteIdent(c.name)} ${columnDdlType(c, primaryKey, sameEngine)}${c.nullable ? ' NULL' : ' NOT NULL'}`;
  });
  if (primaryKey.length > 0) lines.push(`  PRIMARY KEY (${primaryKey.map(quoteIdent).join(', ')})`);
  return `CREATE TABLE ${qualifiedName(ref)} (\n${lines.join(',\n')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}

/** `CREATE TABLE IF NOT EXISTS` for the checkpoint table. */
export function createCheckpointTableSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(checkpointTable(schema))} (
  task_id varchar(512) NOT NULL PRIMARY KEY,
  \`cursor\` longtext NULL,
  rows_read bigint NOT NULL DEFAULT 0,
  rows_written bigint NOT NULL DEFAULT 0,
  chunks int NOT NULL DEFAULT 0,
  baseline_rows bigint NOT NULL DEFAULT 0,
  completed_at datetime(6) NULL,
  updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}

/** A key column: its name, and the types that decide how its text is selected and bound. */
export interface KeyColumn {
  name: string;
  nativeType: string;
  type: LogicalType;
}

/**
 * How a key value becomes text (`select`) and how that text is bound back (`param`). Casting the
 * parameter to the column's type keeps the comparison exact (a string against a BIGINT would compare
 * as DOUBLE) and lets the optimizer use the index.
 */
function keyForm(key: KeyColumn): { select: (column: string) => string; param: string } {
  const plain = (column: string): string => column;
  const type = key.type;
  switch (type.kind) {
    case 'int16':
    case 'int32':
    case 'int64':
      return {
        select: plain,
        param: / unsigned/i.test(key.nativeType) ? 'CAST(? AS UNSIGNED)' : 'CAST(? AS SIGNED)',
      };
    case 'decimal':
      return { select: plain, param: `CAST(? AS DECIMAL(${type.precision ?? 65},${type.scale ?? 0}))` };
    case 'float32':
    case 'float64':
      return { select: (c) => `CAST(CAST(${c} AS DOUBLE) AS CHAR)`, param: 'CAST(? AS DOUBLE)' };
    case 'date':
      return { select: plain, param: 'CAST(? AS DATE)' };
    case 'time':
      return { select: plain, param: 'CAST(? AS TIME(6))' };
    case 'timestamp':
    case 'timestamptz':
      return { select: plain, param: 'CAST(? AS DATETIME(6))' };
    case 'bytes':
      return { select: (c) => `HEX(${c})`, param: 'UNHEX(?)' };
    // ORDER BY sorts an enum by its index, so the index is what the keyset compares.
    case 'enum':
      return { select: (c) => `(${c} + 0)`, param: 'CAST(? AS UNSIGNED)' };
    default:
      return { select: plain, param: '?' };
  }
}

/** A bound parameter cast to a key column's type, e.g. `CAST(? AS DATE)`. */
export function typedParam(key: KeyColumn): string {
  return keyForm(key).param;
}

/**
 * `key > values` or `key <= values`, expanded so that MySQL can range-scan the index:
 * `(a > ?) OR (a = ? AND b > ?)`. Values are bound, never inlined.
 */
export function keyComparison(key: KeyColumn[], op: '>' | '<=', values: KeyTuple): Statement {
  const strict = op === '>' ? '>' : '<';
  const params: string[] = [];
  const disjuncts = key.map((last, i) => {
    const terms = key.slice(0, i + 1).map((k, j) => {
      params.push(values[j] ?? '');
      const compare = j < i ? '=' : i === key.length - 1 ? op : strict;
      return `${quoteIdent(k.name)} ${compare} ${keyForm(k).param}`;
    });
    return `(${terms.join(' AND ')})`;
  });
  return { sql: disjuncts.length === 1 ? disjuncts[0]! : `(${disjuncts.join(' OR ')})`, params };
}

const orderBy = (ref: TableRef, key: KeyColumn[], descending = false): string =>
  key.map((k) => `${qualifiedName(ref)}.${quoteIdent(k.name)}${descending ? ' DESC' : ''}`).join(', ');

/**
 * The query that finds a chunk's upper key: the key `offset` rows after `after`.
 * Outputs are aliased k0, k1… and ORDER BY names the table's columns, so it sorts typed values.
 */
export function chunkBoundSql(
  ref: TableRef,
  key: KeyColumn[],
  after: KeyTuple | null,
  offset: number,
  descending = false,
): Statement {
  const select = key.map((k, i) => `${keyForm(k).select(quoteIdent(k.name))} AS k${i}`).join(', ');
  const where = after ? keyComparison(key, '>', after) : null;
  return {
    sql: `SELECT ${select} FROM ${rowsOf(ref)}${where ? ` WHERE ${where.sql}` : ''} ORDER BY ${orderBy(ref, key, descending)} LIMIT 1 OFFSET ${offset}`,
    params: where?.params ?? [],
  };
}

/** `SELECT … WHERE key in (after, upTo] ORDER BY key`, each column in its transfer form. */
export function selectChunkSql(
  ref: TableRef,
  columns: ColumnMeta[],
  key: KeyColumn[],
  after: KeyTuple | null,
  upTo: KeyTuple,
): Statement {
  return selectRangeSql(ref, transferSelect(columns), key, after, upTo);
}

/** `SELECT <select> … WHERE key in (after, upTo] ORDER BY key`. */
export function selectRangeSql(
  ref: TableRef,
  select: string,
  key: KeyColumn[],
  after: KeyTuple | null,
  upTo: KeyTuple,
): Statement {
  // An empty upper bound is a keyless table's single chunk: every row, in no particular order.
  const conditions = [
    after?.length ? keyComparison(key, '>', after) : null,
    upTo.length ? keyComparison(key, '<=', upTo) : null,
  ].filter((c): c is Statement => c !== null);
  const where = conditions.length ? ` WHERE ${conditions.map((c) => c.sql).join(' AND ')}` : '';
  const order = key.length ? ` ORDER BY ${orderBy(ref, key)}` : '';
  return {
    sql: `SELECT ${select} FROM ${rowsOf(ref)}${where}${order}`,
    params: conditions.flatMap((c) => c.params),
  };
}

/** `SELECT … WHERE key = values`: the row with one key, each column in its transfer form. */
export function selectRowSql(
  ref: TableRef,
  columns: ColumnMeta[],
  key: KeyColumn[],
  values: KeyTuple,
): Statement {
  const terms = key.map((k) => `${quoteIdent(k.name)} = ${keyForm(k).param}`);
  return {
    sql: `SELECT ${transferSelect(columns)} FROM ${rowsOf(ref)} WHERE ${terms.join(' AND ')}`,
    params: values,
  };
}

const transferSelect = (columns: ColumnMeta[]): string =>
  columns.map((c) => transferForm(c, true).read(quoteIdent(c.name))).join(', ');

/** A key column's value as the text keyset bounds use (e.g. an enum's index, a blob's hex). */
export function keyText(key: KeyColumn, column: string): string {
  return keyForm(key).select(column);
}

/** The expression a column loads through, or null when its field goes straight into the column. */
const loadExpression = (column: ColumnMeta, sameEngine: boolean, field: string): string | null => {
  const loaded = transferForm(column, sameEngine).load(field);
  return loaded === field ? null : loaded;
};

/**
 * `LOAD DATA LOCAL INFILE` of tab-separated lines in utf8mb4 ({@link loadDataParts}); columns
 * that need an expression (hex bytes, bits) go through a user variable and a SET clause.
 */
export function loadDataSql(ref: TableRef, columns: ColumnMeta[], sameEngine: boolean): string {
  const targets: string[] = [];
  const sets: string[] = [];
  columns.forEach((c, i) => {
    const expression = loadExpression(c, sameEngine, `@f${i}`);
    targets.push(expression ? `@f${i}` : quoteIdent(c.name));
    if (expression) sets.push(`${quoteIdent(c.name)} = ${expression}`);
  });
  return (
    `LOAD DATA LOCAL INFILE 'mms-chunk' INTO TABLE ${rowsOf(ref)} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets.join(', ')})` +
    (sets.length > 0 ? ` SET ${sets.join(', ')}` : '')
  );
}

/** A session's staging table for an upsert chunk: the target's columns, no keys, no partitions. */
export function createStageSql(stage: TableRef, ref: TableRef): string {
  return `CREATE TEMPORARY TABLE ${qualifiedName(stage)} ENGINE=InnoDB AS SELECT * FROM ${qualifiedName(ref)} LIMIT 0`;
}

/** Merges a staged chunk into the target by primary key: new keys are inserted, known keys updated. */
export function upsertSql(ref: TableRef, stage: TableRef, columns: string[], primaryKey: string[]): string {
  const list = columns.map(quoteIdent).join(', ');
  const updates = columns
    .filter((c) => !primaryKey.includes(c))
    .map((c) => `${quoteIdent(c)} = VALUES(${quoteIdent(c)})`);
  // A table of key columns only has nothing to update; a no-op assignment keeps the statement valid.
  const first = quoteIdent(primaryKey[0]!);
  const action = updates.length ? updates.join(', ') : `${first} = ${first}`;
  return `INSERT INTO ${rowsOf(ref)} (${list}) SELECT ${list} FROM ${qualifiedName(stage)} ON DUPLICATE KEY UPDATE ${action}`;
}

/** A multi-row `INSERT` with one placeholder per value, for servers that refuse LOAD DATA LOCAL. */
export function insertSql(ref: TableRef, columns: ColumnMeta[], sameEngine: boolean, rows: number): string {
  const row = `(${columns.map((c) => loadExpression(c, sameEngine, '?') ?? '?').join(', ')})`;
  return `INSERT INTO ${rowsOf(ref)} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES ${Array<string>(rows).fill(row).join(', ')}`;
}

const loadDataEscapes: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\0': '\\0',
};
const needsLoadDataEscape = /[\\\t\n\r\0]/;
const loadDataEscapable = /[\\\t\n\r\0]/g;

/** One LOAD DATA field's text, `\ TAB LF CR NUL` backslash-escaped; most values need nothing, so it tests first. */
export function escapeLoadDataField(text: string): string {
  return needsLoadDataEscape.test(text)
    ? text.replace(loadDataEscapable, (c) => loadDataEscapes[c] ?? c)
    : text;
}

/**
 * The parts of one LOAD DATA line, without its newline: each field `\ TAB LF CR NUL` backslash-escaped
 * (NULL as `\N`), with a tab between fields. Joined, they are the line.
 */
export function loadDataParts(fields: (string | null)[]): string[] {
  const parts: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) parts.push('\t');
    const field = fields[i] ?? null;
    parts.push(field === null ? '\\N' : escapeLoadDataField(field));
  }
  return parts;
}
