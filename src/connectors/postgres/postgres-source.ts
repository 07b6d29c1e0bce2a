import { Transform, type Readable } from 'node:stream';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import {
  ChunkEncoding,
  type ChunkRange,
  type ChunkStream,
  type DiscoverPage,
  type KeyTuple,
  type Row,
  type Source,
  type TableSelection,
} from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import { tableLabel, type ColumnMeta, type PartitionInfo, type TableMeta } from '../../core/table';
import { nextKeysetChunk } from '../../core/chunking';
import {
  intersectingRanges,
  parsePostgresBound,
  rangeWidthProblem,
  selectsByValue,
  type PartitionLayout,
  type ValueRange,
} from '../../core/partitions';
import { matchesSelection } from '../../core/selection';
import { chunkBoundSql, copyOutSql, qualifiedName, type KeyColumn } from './postgres-dialect';
import { CopyLines, decodeCopyLine } from './postgres-copy-text';
import { classifyPostgresError } from './postgres-errors';
import { binaryCopyFits, postgresToLogical } from './postgres-types';
import { hashFromSum, hashProbe, hashText, type Checksum } from '../../core/checksum';
import type { LogicalType } from '../../core/logical-types';
import { readableBatches, rowsFromBatches, type BatchLimit } from '../../core/row-batches';
import { checksumSql } from './postgres-checksum';

const listTablesSql = `
SELECT c.oid::text AS oid, c.relname AS name, greatest(c.reltuples, 0)::bigint::text AS est_rows,
       pg_total_relation_size(c.oid)::text AS est_bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND ($2::text IS NULL OR c.relname > $2) AND ($3::text[] IS NULL OR c.relname = ANY($3))
ORDER BY c.relname
LIMIT $4`;

const partitionedTablesSql = `
SELECT c.relname AS name FROM pg_partitioned_table pt
JOIN pg_class c ON c.oid = pt.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2)`;

// Per key column, in key order: its name (null for an expression), and how a value becomes one of the
// key: a cast to its type without a type modifier (`varchar`, not `varchar(10)`, which would cut the
// value) in the key's collation, e.g. `pg_catalog.text COLLATE pg_catalog."C"`.
const listPartitionsSql = `
SELECT c.oid::text AS oid, c.relname AS name, p.relname AS parent, pg_get_expr(c.relpartbound, c.oid) AS bound,
       pg_get_partkeydef(p.oid) AS key_def, pt.partstrat::text AS strategy,
       (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
          LEFT JOIN pg_attribute a ON a.attrelid = p.oid AND a.attnum = k.attnum)::text AS key_columns,
       (SELECT json_agg(
          (SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.typname) FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace WHERE t.oid = a.atttypid)
          || coalesce((SELECT ' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co
                       JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = pt.partcollation[k.ord - 1]), '')
          ORDER BY k.ord)
        FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
        LEFT JOIN pg_attribute a ON a.attrelid = p.oid AND a.attnum = k.attnum)::text AS key_types,
       greatest(c.reltuples, 0)::bigint::text AS est_rows, pg_total_relation_size(c.oid)::text AS est_bytes
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_partitioned_table pt ON pt.partrelid = p.oid
JOIN pg_namespace n ON n.oid = p.relnamespace
WHERE n.nspname = $1 AND p.relname = ANY($2) AND ($3::text IS NULL OR c.relname > $3)
ORDER BY c.relname
LIMIT $4`;

/** A listed partition: its parent, bound and the parent's key. */
interface ListedPartition extends ListedTable {
  parent: string;
  bound: string;
  key_def: string;
  strategy: string;
  key_columns: string;
  key_types: string;
}

/** One row of the table listing. */
interface ListedTable {
  oid: string;
  name: string;
  est_rows: string;
  est_bytes: string;
}

const columnsSql = `
SELECT a.attrelid::text AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS native_type,
       a.attnotnull AS not_null,
       (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = a.atttypid)::text AS enum_labels
FROM pg_attribute a
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attrelid, a.attnum`;

const primaryKeysSql = `
SELECT i.indrelid::text AS oid, json_agg(a.attname ORDER BY k.ord)::text AS columns
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indisprimary AND i.indrelid = ANY($1::oid[])
GROUP BY i.indrelid`;

/** Our own bookkeeping tables are never migrated. */
const isInternalTable = (name: string): boolean => name.startsWith('_mms_');

/** Reads PostgreSQL tables: catalog discovery, keyset chunk bounds, and COPY TO STDOUT. */
export class PostgresSource implements Source {
  readonly encodings = [ChunkEncoding.PgCopyBinary, ChunkEncoding.PgCopyText, ChunkEncoding.Rows] as const;

  /** Whether the server hashes text as core/checksum.ts does, which the in-SQL checksum needs; asked once. */
  private hashesAlike: Promise<boolean> | undefined;

  constructor(private readonly pool: pg.Pool) {}

  async discover(selection: TableSelection, after: string | null, pageSize: number): Promise<DiscoverPage> {
    if (selection.partitions) return this.discoverPartitions(selection, after, pageSize);
    const listed = await this.query<ListedTable>(listTablesSql, [
      selection.schema,
      after,
      selection.tables ?? null,
      pageSize,
    ]);
    const nextAfter = listed.length < pageSize ? null : (listed[listed.length - 1]?.name ?? null);
    const chosen = listed.filter((t) => !isInternalTable(t.name) && matchesSelection(t.name, selection));
    return { tables: await this.describe(selection.schema, chosen), nextAfter };
  }

  /** Lists the chosen partitions of partitioned tables, each with its parent, bound and partition key. */
  private async discoverPartitions(
    selection: TableSelection,
    after: string | null,
    pageSize: number,
  ): Promise<DiscoverPage> {
    const wanted = selection.partitions ?? [];
    if (after === null) {
      const parents = await this.query<{ name: string }>(partitionedTablesSql, [
        selection.schema,
        wanted.map((w) => w.table),
      ]);
      const missing = wanted.filter((w) => !parents.some((p) => p.name === w.table)).map((w) => w.table);
      if (missing.length > 0) {
        throw new MigrationError(
          ErrorCode.TableNotFound,
          `not partitioned tables in ${selection.schema}: ${missing.join(', ')}`,
          { table: missing[0] },
        );
      }
    }
    const listed = await this.query<ListedPartition>(listPartitionsSql, [
      selection.schema,
      wanted.map((w) => w.table),
      after,
      pageSize,
    ]);
    const nextAfter = listed.length < pageSize ? null : (listed[listed.length - 1]?.name ?? null);
    const matches = await Promise.all(
      wanted.map(async (w) => {
        const named = listed.filter(
          (p) => w.table === p.parent && matchesSelection(p.name, { schema: selection.schema, ...w }),
        );
        if (!selectsByValue(w)) return named;
        const inRange = await this.inValueRange(selection.schema, w, named);
        return named.filter((_, i) => inRange[i]);
      }),
    );
    const chosen = listed.filter((p) => matches.some((m) => m.includes(p)));
    return { tables: await this.describe(selection.schema, chosen), nextAfter };
  }

  /**
   * Which partitions of a RANGE key of plain columns intersect `[from, to)`, compared as values of
   * the key columns' types by the server; a DEFAULT partition has no bound and is chosen by name only.
   */
  private async inValueRange(
    schema: string,
    wanted: ValueRange & { table: string },
    partitions: ListedPartition[],
  ): Promise<boolean[]> {
    const label = `${schema}.${wanted.table}`;
    const first = partitions[0];
    if (!first) return [];
    const types = JSON.parse(first.key_types) as (string | null)[];
    if (first.strategy !== 'r' || types.includes(null)) {
      throw new MigrationError(
        ErrorCode.BadSpec,
        `from/to choose RANGE partitions by a key of plain columns; ${label} is partitioned by ${first.key_def}`,
        { table: label },
      );
    }
    const problem = rangeWidthProblem(wanted, types.length);
    if (problem) throw new MigrationError(ErrorCode.BadSpec, `${label}: ${problem}`, { table: label });
    const bounds = partitions.map((p) => parsePostgresBound(p.bound));
    const ranged = bounds.flatMap((b) => (b && 'from' in b ? [b] : []));
    // The pool reads every value as text.
    const verdicts = await intersectingRanges(ranged, wanted, async (pairs) => {
      const terms = pairs.map((p, i) => {
        const type = types[p.column]!;
        const [a, b] = [`($${2 * i + 1})::${type}`, `($${2 * i + 2})::${type}`];
        return `(${a} > ${b})::int - (${a} < ${b})::int`;
      });
      const result = await this.pool
        .query({
          text: `SELECT ${terms.join(', ')}`,
          values: pairs.flatMap((p) => [p.a, p.b]),
          rowMode: 'array',
        })
        .catch((e: unknown) => {
          throw classifyPostgresError(e, { table: label });
        });
      return (result.rows[0] as number[]).map(Number);
    });
    let next = 0;
    return bounds.map((b) => (b && 'from' in b ? verdicts[next++]! : false));
  }

  /** Adds columns, primary keys and, for partitions, their place under the parent. */
  private async describe(schema: string, chosen: (ListedTable | ListedPartition)[]): Promise<TableMeta[]> {
    if (chosen.length === 0) return [];
    const oids = chosen.map((t) => t.oid);
    const columns = await this.query<{
      oid: string;
      name: string;
      native_type: string;
      not_null: string;
      enum_labels: string | null;
    }>(columnsSql, [oids]);
    const keys = await this.query<{ oid: string; columns: string }>(primaryKeysSql, [oids]);
    return chosen.map((t): TableMeta => ({
      engine: 'postgres',
      ref: { schema, name: t.name },
      columns: columns.filter((c) => c.oid === t.oid).map(toColumnMeta),
      primaryKey: JSON.parse(keys.find((k) => k.oid === t.oid)?.columns ?? '[]') as string[],
      estimatedRows: Number(t.est_rows),
      estimatedBytes: Number(t.est_bytes),
      ...('parent' in t ? { partition: partitionInfo(t) } : {}),
    }));
  }

  async listSchemas(): Promise<string[]> {
    const rows = await this.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace
       WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' AND has_schema_privilege(oid, 'USAGE')
       ORDER BY nspname COLLATE "C"`,
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

  /** COPY binary only for tables of built-in types (postgres-types.ts). */
  encodingsOf(table: TableMeta): readonly ChunkEncoding[] {
    return binaryCopyFits(table)
      ? this.encodings
      : this.encodings.filter((e) => e !== ChunkEncoding.PgCopyBinary);
  }

  async read(table: TableMeta, range: ChunkRange, encoding: ChunkEncoding): Promise<ChunkStream> {
    if (!this.encodingsOf(table).includes(encoding))
      throw new MigrationError(
        ErrorCode.Internal,
        `PostgreSQL cannot read ${tableLabel(table.ref)} as ${encoding}`,
      );
    const binary = encoding === ChunkEncoding.PgCopyBinary;
    const client = await this.pool.connect().catch((e: unknown) => {
      throw classifyPostgresError(e, { table: `${table.ref.schema}.${table.ref.name}` });
    });
    const sql = copyOutSql(
      table.ref,
      table.columns.map((c) => c.name),
      keyColumns(table),
      range.after,
      range.upTo,
      (table.constantColumns ?? []).map((c) => c.value),
      binary,
    );
    const copy = client.query(copyTo(sql));
    const counted = copy.pipe(new ByteCounter());
    let released = false;
    const release = (error?: Error): void => {
      if (released) return;
      released = true;
      client.release(error ?? false);
      // Released early (an abandoned attempt): the reader must see the error, not wait for data.
      if (error && !counted.writableEnded) counted.destroy(error);
    };
    copy.on('error', (e) => release(e));
    copy.on('end', () => release());
    const rowsRead = (): number => copy.rowCount;
    copy.on('error', (e) => counted.destroy(e));
    // Errors reach the reader through iteration; a chunk released unread (the next chunk, waiting its
    // turn, when the one before it failed) must not crash the worker.
    counted.on('error', () => undefined);
    const bytesRead = (): number => counted.bytes;
    if (encoding === ChunkEncoding.PgCopyText || encoding === ChunkEncoding.PgCopyBinary)
      return { data: { encoding, stream: counted }, rowsRead, bytesRead, release };
    const types = [
      ...table.columns.map((c) => c.type),
      ...(table.constantColumns ?? []).map(() => ({ kind: 'text' as const })),
    ];
    const rows = decodeCopyStream(counted, types);
    return { data: { encoding: ChunkEncoding.Rows, rows }, rowsRead, bytesRead, release };
  }

  async count(table: TableMeta): Promise<number> {
    const rows = await this.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${qualifiedName(table.ref)}`,
      [],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async checksum(table: TableMeta, range: ChunkRange, types: LogicalType[]): Promise<Checksum | null> {
    // The server must hash a probe as the JS path does: a non-UTF8 database would not.
    this.hashesAlike ??= this.query<{ h: string; s: string }>(
      'SELECT hashtextextended($1, 0)::text AS h, hashtextextended($1, 7)::text AS s',
      [hashProbe],
    )
      .then(
        (r) => r[0]?.h === hashText(hashProbe).toString() && r[0]?.s === hashText(hashProbe, 7).toString(),
      )
      .catch(() => false);
    const constants = (table.constantColumns ?? []).map((c) => c.value);
    const sql = checksumSql(table.ref, table.columns, types, keyColumns(table), range, constants);
    if (!sql || !(await this.hashesAlike)) return null;
    const [row] = await this.query<{ rows: string; sum: string }>(sql, []);
    return { rows: Number(row?.rows ?? 0), hash: hashFromSum(BigInt(row?.sum ?? '0')) };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async query<T>(sql: string, params: unknown[]): Promise<T[]> {
    try {
      const result = await this.pool.query(sql, params);
      return result.rows as T[];
    } catch (e) {
      throw classifyPostgresError(e);
    }
  }

  private async firstRow(sql: string): Promise<KeyTuple | null> {
    const result = await this.pool.query({ text: sql, rowMode: 'array' }).catch((e: unknown) => {
      throw classifyPostgresError(e);
    });
    const row = result.rows[0] as string[] | undefined;
    return row ?? null;
  }
}

/** A partition's place under its parent, with its key and bound in engine-neutral terms (none for HASH). */
function partitionInfo(t: ListedPartition): PartitionInfo {
  const info: PartitionInfo = { parent: t.parent, bound: t.bound, keyDef: t.key_def };
  if (t.strategy !== 'r' && t.strategy !== 'l') return info;
  const columns = JSON.parse(t.key_columns) as (string | null)[];
  const layout: PartitionLayout = {
    method: t.strategy === 'r' ? 'range' : 'list',
    columns: columns.includes(null) ? null : (columns as string[]),
    expression: t.key_def,
    // A DEFAULT partition has no bound: neither from/to nor values.
    ...parsePostgresBound(t.bound),
  };
  return { ...info, layout };
}

function toColumnMeta(c: {
  name: string;
  native_type: string;
  not_null: string;
  enum_labels: string | null;
}): ColumnMeta {
  // An enum type's labels come from pg_enum: its name alone says nothing.
  const logical: LogicalType | null = c.enum_labels
    ? { kind: 'enum', values: JSON.parse(c.enum_labels) as string[] }
    : postgresToLogical(c.native_type);
  return {
    name: c.name,
    nativeType: c.native_type,
    type: logical ?? { kind: 'text' },
    nullable: c.not_null !== 't',
    ...(logical ? {} : { unmapped: true }),
  };
}

/** The key columns used for keyset chunking; none for a keyless table, which is copied whole. */
function keyColumns(table: TableMeta): KeyColumn[] {
  return table.primaryKey.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    return { name, nativeType: column?.nativeType ?? 'text' };
  });
}

/** A batch of COPY lines: up to 1,024 lines or 1 MB of text (a 10 MB line is a batch alone). */
const linesPerBatch: BatchLimit<string> = {
  items: 1024,
  size: { of: (line) => line.length, maxSize: 1024 * 1024 },
};

/** Splits a COPY text byte stream into decoded rows, holding at most one partial line; rows go in batches. */
function decodeCopyStream(stream: Readable, types: ColumnMeta['type'][]): AsyncIterable<Row> {
  const lines = stream.pipe(new LineSplitter());
  // pipe() does not forward errors: without this a killed source connection would leave the reader waiting forever.
  stream.once('error', (e) => lines.destroy(e));
  lines.on('error', () => undefined); // reaches the reader through iteration, as in read()
  return rowsFromBatches(
    (async function* () {
      for await (const batch of readableBatches<string>(lines, linesPerBatch))
        yield batch.map((line) => decodeCopyLine(line, types));
    })(),
  );
}

/** Passes bytes through unchanged, counting them. */
class ByteCounter extends Transform {
  bytes = 0;
  override _transform(
    chunk: Buffer,
    _enc: BufferEncoding,
    done: (error?: Error | null, data?: Buffer) => void,
  ): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** Emits one string per COPY line ({@link CopyLines}). */
class LineSplitter extends Transform {
  private readonly lines = new CopyLines();
  constructor() {
    super({ readableObjectMode: true });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    for (const line of this.lines.take(chunk)) this.push(line);
    done();
  }
  override _flush(done: (error?: Error | null) => void): void {
    const rest = this.lines.rest();
    if (rest !== null) this.push(rest);
    done();
  }
}
