import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  ChunkEncoding,
  type Checkpoint,
  type ChunkData,
  type ChunkRange,
  type ChunkStream,
  type ChunkWrite,
  type PrepareRequest,
  type PrepareResult,
  type Target,
} from '../../core/connector';
import { checkpointFromRow, checkpointMoved, conflictOr, type CheckpointRow } from '../../core/checkpoint';
import { ErrorCode, MigrationError } from '../../core/errors';
import { rowBatches } from '../../core/row-batches';
import { tableLabel, type TableMeta, type TableRef } from '../../core/table';
import {
  checkpointTable,
  copyInSql,
  createCheckpointTableSql,
  createEnumTypeSql,
  createPartitionSql,
  partitionClauses,
  maxIdentifierBytes,
  relationRef,
  upsertSql,
  createTableSql,
  qualifiedName,
  quoteIdent,
  keyComparison,
  targetColumnType,
} from './postgres-dialect';
import { encodeCopyValue } from './postgres-copy-text';
import { copyTextFromFields, copyTextFromLines } from './copy-text-fields';
import { slicesOf } from '../../core/text-slices';
import { classifyPostgresError } from './postgres-errors';
import { binaryColumn, type BinaryColumn } from './copy-binary-fields';
import { copyBinaryFromLines, type BinaryTarget } from './copy-binary-lines';
import { binaryCopyFits } from './postgres-types';

/** Says so when a partition's table name `<table>_<partition>` had to be shortened to fit 63 bytes. */
function shortenedNameNotes(ref: TableRef): string[] {
  if (ref.partition === undefined) return [];
  const full = `${ref.name}_${ref.partition}`;
  const name = relationRef(ref).name;
  return name === full
    ? []
    : [
        `${tableLabel(ref)}: the table ${full} would be longer than PostgreSQL's ${maxIdentifierBytes} bytes; it is named ${name}`,
      ];
}

interface StoredRow extends CheckpointRow {
  completed: string;
}

const toCheckpoint = (taskId: string, row: StoredRow): Checkpoint =>
  checkpointFromRow(taskId, row, row.completed === 't');

/** Writes PostgreSQL tables with COPY FROM STDIN, each chunk in one transaction with its checkpoint. */
export class PostgresTarget implements Target {
  readonly encodings = [
    ChunkEncoding.PgCopyBinary,
    ChunkEncoding.PgCopyText,
    ChunkEncoding.CopyTextLines,
    ChunkEncoding.TextFields,
    ChunkEncoding.Rows,
  ] as const;
  readonly loadsBeforeClaim = true;
  readonly previewsDdl = true;

  private readonly ensuredSchemas = new Set<string>();

  constructor(private readonly pool: pg.Pool) {}

  /**
   * COPY binary only from a PostgreSQL source and into a table whose columns have its very types (an
   * existing table may not); other sources never make it, so their tasks cost no catalog query.
   */
  async encodingsFor(table: TableMeta, targetRef: TableRef): Promise<readonly ChunkEncoding[]> {
    const withoutBinary = this.encodings.filter((e) => e !== ChunkEncoding.PgCopyBinary);
    if (!this.sameEngine(table) || !binaryCopyFits(table)) return withoutBinary;
    const types = await columnTypes(this.pool, targetRef);
    return table.columns.every((c) => types.get(c.name)?.type === c.nativeType)
      ? this.encodings
      : withoutBinary;
  }

  /** A PostgreSQL source's native column types are kept as they are. */
  private sameEngine(table: PrepareRequest['table']): boolean {
    return table.engine === 'postgres';
  }

  async prepare(request: PrepareRequest, options: { dryRun?: boolean } = {}): Promise<PrepareResult> {
    const { targetRef, table } = request;
    const statements: string[] = [];
    const notes = shortenedNameNotes(targetRef);
    const setup = this.setupStatements(request);
    // For real, idempotent setup runs on its own (parallel tasks race on it); a dry run does it inside the rollback.
    if (!options.dryRun) await this.runSetup(targetRef.schema, setup);
    return this.inTransaction(
      async (client) => {
        statements.push(...setup);
        if (options.dryRun) for (const sql of setup) await client.query(sql);
        const run = async (sql: string): Promise<void> => {
          statements.push(sql);
          await client.query(sql);
        };
        const existing = await client.query<StoredRow>(
          `SELECT cursor::text AS cursor, rows_read, rows_written, chunks, baseline_rows, completed_at IS NOT NULL AS completed FROM ${qualifiedName(checkpointTable(targetRef.schema))} WHERE task_id = $1 FOR UPDATE`,
          [request.taskId],
        );
        // A checkpoint means this task already started: resume, and never reset rows it committed.
        if (existing.rows[0])
          return { statements, notes, checkpoint: toCheckpoint(request.taskId, existing.rows[0]) };

        const exists = await tableExists(client, targetRef);
        const unsupported = table.columns.filter((c) => c.unmapped && !this.sameEngine(table));
        if (unsupported.length > 0) {
          throw new MigrationError(
            ErrorCode.UnsupportedType,
            `no logical type for ${unsupported.map((c) => `${c.name} (${c.nativeType})`).join(', ')}`,
            { table: tableLabel(table.ref), column: unsupported[0]?.name },
          );
        }
        if (!exists && request.createMode === 'never') {
          throw new MigrationError(
            ErrorCode.TableNotFound,
            `target table ${tableLabel(targetRef)} does not exist and createMode is "never"`,
            {
              table: tableLabel(targetRef),
            },
          );
        }
        if (exists && request.createMode === 'recreate') await run(`DROP TABLE ${qualifiedName(targetRef)}`);
        if (!exists || request.createMode === 'recreate') {
          const partition = this.partitionOf(request);
          await run(
            partition && request.targetParent
              ? createPartitionSql(targetRef, request.targetParent, partition.bound)
              : createTableSql(targetRef, table.columns, table.primaryKey, this.sameEngine(table)),
          );
        } else {
          await assertColumnsExist(
            client,
            targetRef,
            table.columns.map((c) => c.name),
          );
          if (request.writeMode === 'overwrite') await run(`TRUNCATE ${qualifiedName(targetRef)}`);
        }
        const baseline =
          exists && request.writeMode !== 'overwrite' && request.createMode !== 'recreate'
            ? (
                await client.query<{ n: string }>(
                  `SELECT count(*)::text AS n FROM ${qualifiedName(targetRef)}`,
                )
              ).rows[0]?.n
            : '0';
        const inserted = await client.query<StoredRow>(
          `INSERT INTO ${qualifiedName(checkpointTable(targetRef.schema))} (task_id, baseline_rows) VALUES ($1, $2)
         RETURNING cursor::text AS cursor, rows_read, rows_written, chunks, baseline_rows, completed_at IS NOT NULL AS completed`,
          [request.taskId, baseline ?? '0'],
        );
        return { statements, notes, checkpoint: toCheckpoint(request.taskId, inserted.rows[0]!) };
      },
      { rollback: options.dryRun },
    );
  }

  async readCheckpoint(taskId: string, targetRef: TableRef): Promise<Checkpoint | null> {
    try {
      const result = await this.pool.query<StoredRow>(
        `SELECT cursor::text AS cursor, rows_read, rows_written, chunks, baseline_rows, completed_at IS NOT NULL AS completed FROM ${qualifiedName(checkpointTable(targetRef.schema))} WHERE task_id = $1`,
        [taskId],
      );
      return result.rows[0] ? toCheckpoint(taskId, result.rows[0]) : null;
    } catch (e) {
      throw classifyPostgresError(e, { table: tableLabel(targetRef) });
    }
  }

  async writeChunk(write: ChunkWrite): Promise<Checkpoint> {
    const { targetRef, chunk, previous } = write;
    const checkpoints = qualifiedName(checkpointTable(targetRef.schema));
    try {
      return await this.inTransaction(async (client) => {
        // Rows first, the checkpoint last (see the UPDATE below), so the next chunk loads while this one commits.
        const columns = write.table.columns.map((c) => c.name);
        const upsert = write.writeMode === 'upsert';
        if (upsert && write.table.primaryKey.length === 0) {
          throw new MigrationError(
            ErrorCode.BadSpec,
            `upsert needs a primary key; ${tableLabel(targetRef)} has none`,
          );
        }
        // An upsert stages the chunk in a temporary table, then merges it by primary key.
        const stage = { schema: 'pg_temp', name: '_mms_stage' };
        if (upsert) {
          await client.query(
            `CREATE TEMP TABLE ${quoteIdent(stage.name)} (LIKE ${qualifiedName(targetRef)} INCLUDING DEFAULTS) ON COMMIT DROP`,
          );
        }
        const body = await copyBody(client, chunk.data, write.table, targetRef);
        const copy = copyFrom(copyInSql(upsert ? stage : targetRef, columns, body.binary));
        // Typed as a Submittable so the stream overload of query() is chosen, not the QueryConfig one.
        client.query(copy as pg.Submittable);
        await pipeline(body.stream, copy);
        if (upsert) await client.query(upsertSql(targetRef, stage.name, columns, write.table.primaryKey));
        const rowsRead = chunk.rowsRead();
        const rowsWritten = copy.rowCount;
        if (rowsRead !== rowsWritten) {
          throw new MigrationError(
            ErrorCode.Internal,
            `chunk read ${rowsRead} rows but wrote ${rowsWritten}`,
            {
              table: tableLabel(targetRef),
            },
          );
        }
        // The claim: after the chunk before this one committed, the row moves only if nobody moved it
        // first. Another attempt at this chunk (a worker presumed dead that still runs) meets this
        // one's keys and waits for it; if this one commits, it fails with a checkpoint conflict.
        await write.turn;
        const advanced = await client.query<StoredRow>(
          `UPDATE ${checkpoints}
             SET cursor = $1::jsonb, rows_read = rows_read + $2, rows_written = rows_written + $3,
                 chunks = chunks + 1, updated_at = now()
           WHERE task_id = $4 AND chunks = $5
           RETURNING cursor::text AS cursor, rows_read, rows_written, chunks, baseline_rows, completed_at IS NOT NULL AS completed`,
          [
            JSON.stringify(write.cursor ?? write.range.upTo),
            rowsRead,
            rowsWritten,
            write.taskId,
            previous.chunks,
          ],
        );
        if (!advanced.rows[0]) throw checkpointMoved(write.taskId, previous.chunks, tableLabel(targetRef));
        return toCheckpoint(write.taskId, advanced.rows[0]);
      });
    } catch (e) {
      chunk.release(e instanceof Error ? e : new Error(String(e)));
      throw await conflictOr(e, write, tableLabel(targetRef), () =>
        this.readCheckpoint(write.taskId, targetRef),
      );
    }
  }

  async analyze(targetRef: TableRef): Promise<void> {
    await this.pool.query(`ANALYZE ${qualifiedName(targetRef)}`).catch((e: unknown) => {
      throw classifyPostgresError(e, { table: tableLabel(targetRef) });
    });
  }

  async markComplete(taskId: string, targetRef: TableRef): Promise<void> {
    await this.pool
      .query(
        `UPDATE ${qualifiedName(checkpointTable(targetRef.schema))} SET completed_at = now() WHERE task_id = $1`,
        [taskId],
      )
      .catch((e: unknown) => {
        throw classifyPostgresError(e, { table: tableLabel(targetRef) });
      });
  }

  async count(targetRef: TableRef): Promise<number> {
    try {
      const result = await this.pool.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${qualifiedName(targetRef)}`,
      );
      return Number(result.rows[0]?.n ?? 0);
    } catch (e) {
      throw classifyPostgresError(e, { table: tableLabel(targetRef) });
    }
  }

  async replaceRange(
    table: TableMeta,
    targetRef: TableRef,
    range: ChunkRange,
    chunk: ChunkStream,
  ): Promise<number> {
    // Key literals are cast to the target's column types, which createTableSql chose.
    const key = table.primaryKey.map((name) => {
      const column = table.columns.find((c) => c.name === name);
      return { name, nativeType: column ? targetColumnType(column, this.sameEngine(table)) : 'text' };
    });
    const conditions = [keyComparison(key, '<=', range.upTo)];
    if (range.after) conditions.unshift(keyComparison(key, '>', range.after));
    try {
      return await this.inTransaction(async (client) => {
        await client.query(`DELETE FROM ${qualifiedName(targetRef)} WHERE ${conditions.join(' AND ')}`);
        const body = await copyBody(client, chunk.data, table, targetRef);
        const copy = copyFrom(
          copyInSql(
            targetRef,
            table.columns.map((c) => c.name),
            body.binary,
          ),
        );
        client.query(copy as pg.Submittable);
        await pipeline(body.stream, copy);
        if (chunk.rowsRead() !== copy.rowCount) {
          throw new MigrationError(
            ErrorCode.Internal,
            `range read ${chunk.rowsRead()} rows but wrote ${copy.rowCount}`,
            { table: tableLabel(targetRef) },
          );
        }
        return copy.rowCount;
      });
    } catch (e) {
      chunk.release(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** The idempotent DDL every task needs first: the schema, the checkpoint table, a partition's parent. */
  private setupStatements(request: PrepareRequest): string[] {
    const { table, targetRef } = request;
    const statements = [
      `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(targetRef.schema)}`,
      createCheckpointTableSql(targetRef.schema),
      // Checkpoint tables made by earlier versions lack later columns.
      `ALTER TABLE ${qualifiedName(checkpointTable(targetRef.schema))} ADD COLUMN IF NOT EXISTS completed_at timestamptz`,
      // Enum types (a PostgreSQL source's, or made by cast rules), before any table that uses them.
      ...table.columns.flatMap(
        (c) =>
          createEnumTypeSql(
            targetRef.schema,
            c,
            request.targetParent ?? targetRef.name,
            this.sameEngine(table),
          ) ?? [],
      ),
    ];
    const partition = this.partitionOf(request);
    if (partition && request.targetParent) {
      const parent = { schema: targetRef.schema, name: request.targetParent };
      const create = createTableSql(parent, table.columns, table.primaryKey, this.sameEngine(table));
      statements.push(
        `${create.replace(/^CREATE TABLE /, 'CREATE TABLE IF NOT EXISTS ')} PARTITION BY ${partition.keyDef}`,
      );
    }
    return statements;
  }

  /** A partition's key and bound on this target, when the task is a partition with a parent to attach to. */
  private partitionOf(request: PrepareRequest): { keyDef: string; bound: string } | null {
    return request.targetParent ? partitionClauses(request.table, this.sameEngine(request.table)) : null;
  }

  /** Runs the setup DDL, once per schema per worker for the shared part: with thousands of small tables it would dominate. */
  private async runSetup(schema: string, statements: string[]): Promise<void> {
    const todo = this.ensuredSchemas.has(schema) ? statements.slice(3) : statements;
    for (const sql of todo) {
      try {
        await this.pool.query(sql);
      } catch (e) {
        // Parallel tasks race on IF NOT EXISTS; losing that race is fine when the object is there. The
        // loser sees a unique violation, the table, or (two CREATE TABLEs at once) its row type as existing.
        // Only there: an enum type with other labels is reported as duplicate_object too, and is a conflict.
        const code = (e as { code?: string }).code;
        const lostRace = /\bIF NOT EXISTS\b/.test(sql) && ['23505', '42P07', '42710'].includes(code ?? '');
        if (!lostRace) throw classifyPostgresError(e, { table: schema });
      }
    }
    this.ensuredSchemas.add(schema);
  }

  /** Runs work in one transaction on one client; a client that failed mid-protocol is discarded. */
  private async inTransaction<T>(
    work: (client: pg.PoolClient) => Promise<T>,
    options: { rollback?: boolean } = {},
  ): Promise<T> {
    const client = await this.pool.connect().catch((e: unknown) => {
      throw classifyPostgresError(e);
    });
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query(options.rollback ? 'ROLLBACK' : 'COMMIT');
      client.release();
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      throw classifyPostgresError(e);
    }
  }
}

async function tableExists(client: pg.PoolClient, ref: TableRef): Promise<boolean> {
  const result = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [relationRef(ref).schema, relationRef(ref).name],
  );
  return result.rows.length > 0;
}

async function assertColumnsExist(client: pg.PoolClient, ref: TableRef, columns: string[]): Promise<void> {
  const result = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a
     WHERE a.attrelid = (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)
       AND a.attnum > 0 AND NOT a.attisdropped`,
    [relationRef(ref).schema, relationRef(ref).name],
  );
  const present = new Set(result.rows.map((r) => r.name));
  const missing = columns.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new MigrationError(
      ErrorCode.TargetConflict,
      `target table ${tableLabel(ref)} exists without column(s) ${missing.join(', ')}; use createMode "recreate" or fix the target`,
      { table: tableLabel(ref), column: missing[0] },
    );
  }
}

/** A target table's columns: each one's type as `format_type()` prints it, and whether it is an enum. */
async function columnTypes(
  db: pg.Pool | pg.PoolClient,
  ref: TableRef,
): Promise<Map<string, { type: string; isEnum: boolean }>> {
  // typtype as text: this pool reads booleans as their text.
  const { rows } = await db
    .query<{ name: string; type: string; typtype: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typtype::text AS typtype
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
      [qualifiedName(ref)],
    )
    .catch((e: unknown) => {
      throw classifyPostgresError(e, { table: tableLabel(ref) });
    });
  return new Map(rows.map((r) => [r.name, { type: r.type, isEnum: r.typtype === 'e' }]));
}

/**
 * How joined lines go into `ref` as COPY binary: every column a type {@link binaryColumn} writes from
 * its values' kind. Null, for COPY text, when one is not, or when a cast rule or a shard's constant
 * makes a field text that the column's type does not come from.
 */
export async function binaryTarget(
  client: pg.PoolClient,
  table: TableMeta,
  ref: TableRef,
): Promise<BinaryTarget | null> {
  if (table.constantColumns?.length || table.columns.some((c) => c.cast)) return null;
  const types = await columnTypes(client, ref);
  const columns: BinaryColumn[] = [];
  for (const column of table.columns) {
    const target = types.get(column.name);
    const way = target && binaryColumn(target.type, target.isEnum, column.type.kind);
    if (!way) return null;
    columns.push(way);
  }
  return { names: table.columns.map((c) => c.name), columns };
}

/**
 * The chunk as the body of COPY FROM: joined lines as COPY binary where every column allows (PostgreSQL
 * then parses no text), else as {@link toCopyText} makes it.
 */
async function copyBody(
  client: pg.PoolClient,
  data: ChunkData,
  table: TableMeta,
  ref: TableRef,
): Promise<{ stream: Readable; binary: boolean }> {
  if (data.encoding === ChunkEncoding.CopyTextLines) {
    const target = await binaryTarget(client, table, ref);
    if (target)
      return { stream: Readable.from(copyBinaryFromLines(data, target), { highWaterMark: 0 }), binary: true };
  }
  return { stream: toCopyText(data, table), binary: data.encoding === ChunkEncoding.PgCopyBinary };
}

/** A field at least this long is sent on its own: joined into a line, a 10 MB value is copied twice more. */
const wideFieldChars = 1024 * 1024;

/** The chunk as COPY text bytes: passed through as-is, transcoded from text fields, or encoded from rows. */
function toCopyText(data: ChunkData, table: TableMeta): Readable {
  // COPY binary passes through undecoded too (copyInSql says so); only same-engine copies make it.
  if (data.encoding === ChunkEncoding.PgCopyBinary) return data.stream;
  if (data.encoding === ChunkEncoding.PgCopyText) {
    // COPY text passes through undecoded, so no value in it can be checked (same-engine copies have no checks).
    if (data.checks?.some((check) => check !== undefined))
      throw new MigrationError(
        ErrorCode.Internal,
        'a PostgreSQL target cannot check values it passes through',
      );
    return data.stream;
  }
  if (data.encoding === ChunkEncoding.CopyTextLines) {
    const types = table.columns.map((c) => c.type);
    return Readable.from(copyTextFromLines(data, types), { highWaterMark: 0 });
  }
  if (data.encoding === ChunkEncoding.TextFields) {
    const types = table.columns.map((c) => c.type);
    return Readable.from(copyTextFromFields(data.rows, types, data.decoders, data.checks), {
      highWaterMark: 0,
    });
  }
  const rows = data.rows;
  // Lines are sent in ~64 KB pieces: one socket write per row costs more than encoding the row. No
  // piece waits: the next is encoded only once the socket took the last (a piece can be a 10 MB value).
  return Readable.from(
    (async function* () {
      let piece = '';
      for await (const batch of rowBatches(rows))
        for (const row of batch) {
          const fields = row.map(encodeCopyValue);
          if (fields.some((field) => field.length >= wideFieldChars)) {
            // Field by field: a wide value goes out as it is, between the pieces around it.
            for (let i = 0; i < fields.length; i++) {
              const field = fields[i]!;
              if (i > 0) piece += '\t';
              if (field.length < wideFieldChars) {
                piece += field;
                continue;
              }
              if (piece) yield piece;
              yield* slicesOf(field, wideFieldChars);
              piece = '';
            }
            piece += '\n';
            continue;
          }
          piece += `${fields.join('\t')}\n`;
          if (piece.length >= 65_536) {
            yield piece;
            piece = '';
          }
        }
      if (piece) yield piece;
    })(),
    { highWaterMark: 0 },
  );
}
