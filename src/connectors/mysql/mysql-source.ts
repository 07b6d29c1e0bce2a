import type mysql from 'mysql2';
import {
  ChunkEncoding,
  type ChunkRange,
  type ChunkStream,
  type DiscoverPage,
  type KeyTuple,
  type Row,
  type Value,
  type Source,
  type TableSelection,
} from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import { approximateRowBytes, nextKeysetChunk } from '../../core/chunking';
import {
  intersectingRanges,
  rangeWidthProblem,
  selectsByValue,
  type ValueRange,
} from '../../core/partitions';
import { matchesSelection } from '../../core/selection';
import { tableLabel, type ColumnMeta, type TableMeta } from '../../core/table';
import { copyLinesFit, lineFieldDecoder, selectCopyLinesSql } from './mysql-copy-lines';
import {
  chunkBoundSql,
  quoteIdent,
  rowsOf,
  selectChunkSql,
  selectRowSql,
  type KeyColumn,
  type Statement,
} from './mysql-dialect';
import { readableBatches, rowsFromBatches } from '../../core/row-batches';
import { classifyMysqlError } from './mysql-errors';
import {
  keyCasts,
  mysqlComparer,
  partitionedTable,
  partitionsSql,
  type MysqlPartition,
  type PartitionRow,
} from './mysql-partitions';
import { fieldDecoder, mysqlToLogical, valueReader } from './mysql-types';

/** Our own bookkeeping tables are never migrated. */
const isInternalTable = (name: string): boolean => name.startsWith('_mms_');

// information_schema compares names case-insensitively; paging compares their bytes, as table names are.
const listTablesSql = (byName: boolean): string => `
SELECT TABLE_NAME AS name, COALESCE(TABLE_ROWS, 0) AS est_rows,
       COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) AS est_bytes
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'
  AND (? IS NULL OR CAST(TABLE_NAME AS BINARY) > CAST(? AS BINARY))${byName ? ' AND TABLE_NAME IN (?)' : ''}
ORDER BY CAST(TABLE_NAME AS BINARY)
LIMIT ?`;

// Generated columns are computed by the target's own definition, if any; they are never copied.
const columnsSql = `
SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS native_type, IS_NULLABLE AS nullable,
       COLLATION_NAME AS collation_name
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?) AND EXTRA NOT REGEXP '(VIRTUAL|STORED|PERSISTENT) GENERATED'
ORDER BY TABLE_NAME, ORDINAL_POSITION`;

const primaryKeysSql = `
SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?) AND INDEX_NAME = 'PRIMARY'
ORDER BY TABLE_NAME, SEQ_IN_INDEX`;

// MariaDB's JSON is an alias of longtext plus a `json_valid(col)` check; the check is how we know it.
const jsonChecksSql = `
SELECT TABLE_NAME AS tbl, CHECK_CLAUSE AS clause
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME IN (?) AND CHECK_CLAUSE LIKE 'json_valid(%'`;

interface ColumnRow {
  tbl: string;
  name: string;
  native_type: string;
  nullable: string;
  collation_name: string | null;
}

/** Reads MySQL and MariaDB tables: information_schema discovery, keyset chunk bounds, streamed SELECTs. */
export class MysqlSource implements Source {
  readonly encodings = [ChunkEncoding.CopyTextLines, ChunkEncoding.TextFields, ChunkEncoding.Rows] as const;
  private mariadb: Promise<boolean> | undefined;

  constructor(private readonly pool: mysql.Pool) {}

  async discover(selection: TableSelection, after: string | null, pageSize: number): Promise<DiscoverPage> {
    if (selection.partitions) return this.discoverPartitions(selection, after, pageSize);
    if (selection.tables?.length === 0) return { tables: [], nextAfter: null };
    const byName = selection.tables !== undefined;
    const listed = await this.query<{ name: string; est_rows: string; est_bytes: string }>(
      listTablesSql(byName),
      [selection.schema, after, after, ...(byName ? [selection.tables] : []), pageSize],
    );
    const nextAfter = listed.length < pageSize ? null : (listed[listed.length - 1]?.name ?? null);
    const chosen = listed.filter((t) => !isInternalTable(t.name) && matchesSelection(t.name, selection));
    const described = await this.describe(
      selection.schema,
      chosen.map((t) => t.name),
    );
    const tables = chosen.map((t): TableMeta => ({
      engine: 'mysql',
      ref: { schema: selection.schema, name: t.name },
      ...described.get(t.name)!,
      estimatedRows: Number(t.est_rows),
      estimatedBytes: Number(t.est_bytes),
    }));
    return { tables, nextAfter };
  }

  /** Columns and primary keys of tables, by table name. */
  private async describe(
    schema: string,
    names: string[],
  ): Promise<Map<string, Pick<TableMeta, 'columns' | 'primaryKey'>>> {
    if (names.length === 0) return new Map();
    const columns = await this.query<ColumnRow>(columnsSql, [schema, names]);
    const keys = await this.query<{ tbl: string; name: string }>(primaryKeysSql, [schema, names]);
    const jsonColumns = (await this.isMariadb())
      ? await this.query<{ tbl: string; clause: string }>(jsonChecksSql, [schema, names])
      : [];
    const isJson = (c: ColumnRow): boolean =>
      jsonColumns.some((j) => j.tbl === c.tbl && j.clause === `json_valid(${quoteIdent(c.name)})`);
    // Names compare case-insensitively in information_schema, so rows are matched exactly here.
    return new Map(
      names.map((name) => [
        name,
        {
          columns: columns.filter((c) => c.tbl === name).map((c) => toColumnMeta(c, isJson(c))),
          primaryKey: keys.filter((k) => k.tbl === name).map((k) => k.name),
        },
      ]),
    );
  }

  /**
   * Lists the chosen RANGE and LIST partitions of partitioned tables (by name globs and, for RANGE,
   * by value), each read as its parent restricted with `PARTITION (p)`. Pages run over (table, partition).
   */
  private async discoverPartitions(
    selection: TableSelection,
    after: string | null,
    pageSize: number,
  ): Promise<DiscoverPage> {
    const wanted = selection.partitions ?? [];
    const rows = await this.query<PartitionRow>(partitionsSql, [
      selection.schema,
      wanted.map((w) => w.table),
    ]);
    const described = await this.describe(
      selection.schema,
      wanted.map((w) => w.table),
    );
    const all: TableMeta[] = [];
    for (const w of wanted) {
      const found = partitionedTable(selection.schema, w.table, rows);
      if (found.state !== 'partitioned') {
        throw new MigrationError(
          ErrorCode.TableNotFound,
          `not a partitioned table in ${selection.schema}: ${w.table}${found.state === 'unpartitioned' ? ' (it has no partitions)' : ''}`,
          { table: w.table },
        );
      }
      const byName = found.partitions.filter((p) =>
        matchesSelection(p.name, { schema: selection.schema, include: w.include, exclude: w.exclude }),
      );
      const shape = described.get(w.table)!;
      const inRange = selectsByValue(w) ? await this.inValueRange(selection.schema, byName, w, shape) : null;
      all.push(
        ...byName
          .filter((_, i) => inRange?.[i] ?? true)
          .map((p): TableMeta => ({
            engine: 'mysql',
            ref: { schema: selection.schema, name: w.table, partition: p.name },
            ...shape,
            estimatedRows: p.estimatedRows,
            estimatedBytes: p.estimatedBytes,
            partition: { parent: w.table, bound: p.bound, keyDef: p.keyDef, layout: p.layout },
          })),
      );
    }
    const start = after === null ? 0 : all.findIndex((t) => tableLabel(t.ref) === after) + 1;
    const tables = all.slice(start, start + pageSize);
    const last = tables[tables.length - 1];
    return { tables, nextAfter: start + pageSize < all.length && last ? tableLabel(last.ref) : null };
  }

  /** Which RANGE partitions intersect `[from, to)`, tuples compared as key values by the server. */
  private async inValueRange(
    schema: string,
    partitions: MysqlPartition[],
    range: ValueRange,
    shape: Pick<TableMeta, 'columns'>,
  ): Promise<boolean[]> {
    const first = partitions[0];
    if (!first) return [];
    const label = `${schema}.${first.table}`;
    if (first.layout.method !== 'range') {
      throw new MigrationError(
        ErrorCode.BadSpec,
        `from/to choose RANGE partitions; ${label} is partitioned by ${first.keyDef}`,
        { table: label },
      );
    }
    const problem = rangeWidthProblem(range, first.layout.to?.length ?? 1);
    if (problem) throw new MigrationError(ErrorCode.BadSpec, `${label}: ${problem}`, { table: label });
    const compare = mysqlComparer(keyCasts(first.layout, shape.columns), async (statement) => {
      try {
        const [rows] = await this.pool
          .promise()
          .query({ sql: statement.sql, values: statement.params, rowsAsArray: true });
        return rows as unknown[];
      } catch (e) {
        throw classifyMysqlError(e, { table: label });
      }
    });
    const bounds = partitions.map((p) => ({ from: p.layout.from!, to: p.layout.to! }));
    return intersectingRanges(bounds, range, compare);
  }

  async listSchemas(): Promise<string[]> {
    // information_schema lists only the databases this user has some privilege on.
    const rows = await this.query<{ name: string }>(
      `SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA
       WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
       ORDER BY CAST(SCHEMA_NAME AS BINARY)`,
      [],
    );
    return rows.map((r) => r.name);
  }

  async nextChunk(table: TableMeta, after: KeyTuple | null, maxRows: number): Promise<ChunkRange | null> {
    const key = keyColumns(table);
    return nextKeysetChunk(table, after, maxRows, (from, offset, descending) =>
      this.firstRow(chunkBoundSql(table.ref, key, from, offset, descending)),
    );
  }

  /** COPY text lines need a key and types the server can write, and rows narrow enough to build whole. */
  encodingsOf(table: TableMeta): readonly ChunkEncoding[] {
    const lines = copyLinesFit(table) && readAheadRows(table) === maxReadAheadRows;
    return lines ? this.encodings : this.encodings.filter((e) => e !== ChunkEncoding.CopyTextLines);
  }

  async read(table: TableMeta, range: ChunkRange, encoding: ChunkEncoding): Promise<ChunkStream> {
    if (!this.encodingsOf(table).includes(encoding)) {
      throw new MigrationError(
        ErrorCode.Internal,
        `MySQL cannot read ${tableLabel(table.ref)} as ${encoding}`,
      );
    }
    // Text fields are the protocol's bytes as they came (mysql2 makes no value of them); lines too.
    const lines = encoding === ChunkEncoding.CopyTextLines;
    const asText = encoding === ChunkEncoding.TextFields;
    const context = { table: tableLabel(table.ref) };
    const key = keyColumns(table);
    const { sql, params } = lines
      ? selectCopyLinesSql(table, key, range.after, range.upTo)
      : selectChunkSql(table.ref, table.columns, key, range.after, range.upTo);
    const connection = await new Promise<mysql.PoolConnection>((resolve, reject) =>
      this.pool.getConnection((error, conn) =>
        error ? reject(classifyMysqlError(error, context)) : resolve(conn),
      ),
    );
    let rowsRead = 0;
    let bytesRead = 0;
    let finished = false;
    let released = false;
    // The stream pauses the socket while its buffer is full, so a slow target slows the read.
    const readAhead = readAheadRows(table);
    const stream = connection
      .query({ sql, values: params, rowsAsArray: true, ...(asText || lines ? { typeCast: false } : {}) })
      .stream({ highWaterMark: readAhead });
    const batchRows = Math.max(1, readAhead);
    // mysql2 reports a lost connection (`KILL CONNECTION`, a server restart) on the connection, never on a
    // streaming query, whose stream would wait forever (sidorares/node-mysql2#3082): fail the stream instead.
    const lost = (e?: unknown): void => {
      stream.destroy(
        classifyMysqlError(
          e ??
            Object.assign(new Error('the server closed the connection'), {
              code: 'PROTOCOL_CONNECTION_LOST',
            }),
          context,
        ),
      );
    };
    connection.once('error', lost);
    connection.once('end', lost);
    const release = (error?: Error): void => {
      if (released) return;
      released = true;
      connection.off('error', lost);
      connection.off('end', lost);
      // A connection whose result was not read to the end is still busy: close it instead of reusing it.
      if (error || !finished) connection.destroy();
      else connection.release();
      // mysql2 reports nothing on a connection it closed itself, so the reader is told here.
      if (error && !finished) stream.destroy(error);
    };
    const readers = table.columns.map((c) => valueReader(c.type));
    // A shard member's rows carry its shard column's value after the real columns.
    const constants = (table.constantColumns ?? []).map((c) => (asText ? Buffer.from(c.value) : c.value));
    // Errors reach the reader through iteration; a chunk released unread must not crash the worker.
    stream.on('error', () => undefined);
    const toRow = (raw: unknown[]): Row => {
      rowsRead++;
      if (lines) {
        bytesRead += (raw[0] as Buffer).length;
        return raw as Row;
      }
      const row = asText ? (raw as Row) : raw.map((value, i) => readers[i]!(value));
      bytesRead += approximateRowBytes(row);
      return constants.length ? [...row, ...constants] : row;
    };
    // What the stream holds at each moment, as one batch (see row-batches.ts).
    async function* batches(): AsyncGenerator<Row[]> {
      try {
        for await (const raws of readableBatches<unknown[]>(stream, { items: batchRows }))
          yield raws.map(toRow);
        finished = true;
        release();
      } catch (e) {
        const error = classifyMysqlError(e, context);
        release(error);
        throw error;
      } finally {
        // The consumer stopped early: the rest of the result is abandoned with the connection.
        release(finished ? undefined : new Error('chunk stream abandoned'));
      }
    }
    const rows = rowsFromBatches(batches());
    return {
      data: lines
        ? {
            encoding: ChunkEncoding.CopyTextLines,
            rows,
            decoders: [...table.columns.map(lineFieldDecoder), ...constants.map(() => constantText)],
            fetchRow: (values) => this.fetchRow(table, key, values, readers),
          }
        : asText
          ? {
              encoding,
              rows,
              decoders: [
                ...table.columns.map((c) => fieldDecoder(c.type)),
                ...constants.map(() => constantText),
              ],
            }
          : { encoding: ChunkEncoding.Rows, rows },
      rowsRead: () => rowsRead,
      bytesRead: () => bytesRead,
      release,
    };
  }

  /** The row with one key, read as values by `readers` (for a line the server could not build). */
  private async fetchRow(
    table: TableMeta,
    key: KeyColumn[],
    values: KeyTuple,
    readers: ((raw: unknown) => Value)[],
  ): Promise<Row | null> {
    const { sql, params } = selectRowSql(table.ref, table.columns, key, values);
    try {
      const [rows] = await this.pool.promise().query({ sql, values: params, rowsAsArray: true });
      const raw = (rows as unknown[][])[0];
      if (!raw) return null;
      const row = raw.map((value, i) => readers[i]!(value));
      return [...row, ...(table.constantColumns ?? []).map((c) => c.value)];
    } catch (e) {
      throw classifyMysqlError(e, { table: tableLabel(table.ref) });
    }
  }

  async count(table: TableMeta): Promise<number> {
    const rows = await this.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${rowsOf(table.ref)}`, [], {
      table: tableLabel(table.ref),
    });
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.promise().end();
  }

  private isMariadb(): Promise<boolean> {
    this.mariadb ??= this.query<{ v: string }>('SELECT VERSION() AS v', []).then((r) =>
      /mariadb/i.test(r[0]?.v ?? ''),
    );
    return this.mariadb;
  }

  private async query<T>(sql: string, params: unknown[], context = {}): Promise<T[]> {
    try {
      const [rows] = await this.pool.promise().query(sql, params);
      return rows as T[];
    } catch (e) {
      throw classifyMysqlError(e, context);
    }
  }

  private async firstRow(statement: Statement): Promise<KeyTuple | null> {
    try {
      const [rows] = await this.pool
        .promise()
        .query({ sql: statement.sql, values: statement.params, rowsAsArray: true });
      const row = (rows as unknown[][])[0];
      return row ? row.map((v) => String(v)) : null;
    } catch (e) {
      throw classifyMysqlError(e);
    }
  }
}

function toColumnMeta(c: ColumnRow, json: boolean): ColumnMeta {
  // The collation is part of the type for MySQL → MySQL; the logical mapping ignores it.
  const nativeType = json
    ? 'json'
    : c.collation_name
      ? `${c.native_type} COLLATE ${c.collation_name}`
      : c.native_type;
  const logical = mysqlToLogical(nativeType);
  return {
    name: c.name,
    nativeType,
    type: logical ?? { kind: 'text' },
    nullable: c.nullable === 'YES',
    ...(logical ? {} : { unmapped: true }),
  };
}

/** A shard member's constant column: text, read as any text field is. */
const constantText = fieldDecoder({ kind: 'text' });

/** About how many bytes of rows a chunk's stream reads ahead of its consumer. */
const readAheadBytes = 8 * 1024 * 1024;
/** Rows a chunk's stream holds ahead at most. */
const maxReadAheadRows = 512;

/**
 * Rows a chunk's stream holds ahead: 512 of ordinary rows, fewer of wide ones, and none of rows wider
 * than {@link readAheadBytes}: a 10 MB row is then read only once the one before it was handed on.
 */
function readAheadRows(table: TableMeta): number {
  const rowBytes = table.estimatedRows > 0 ? table.estimatedBytes / table.estimatedRows : 0;
  return rowBytes > 0 ? Math.min(maxReadAheadRows, Math.floor(readAheadBytes / rowBytes)) : maxReadAheadRows;
}

/** The key columns used for keyset chunking; none for a keyless table, which is copied whole. */
function keyColumns(table: TableMeta): KeyColumn[] {
  return table.primaryKey.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    return { name, nativeType: column?.nativeType ?? 'text', type: column?.type ?? { kind: 'text' } };
  });
}
