import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import type mysql from 'mysql2';
import type { PoolConnection, ResultSetHeader } from 'mysql2/promise';
import {
  ChunkEncoding,
  type Checkpoint,
  type ChunkData,
  type ChunkRange,
  type ChunkStream,
  type ChunkWrite,
  type PrepareRequest,
  type PrepareResult,
  type Row,
  type Target,
} from '../../core/connector';
import { checkpointFromRow, checkpointMoved, conflictOr, type CheckpointRow } from '../../core/checkpoint';
import { ErrorCode, MigrationError } from '../../core/errors';
import { tableLabel, type TableMeta, type TableRef } from '../../core/table';
import {
  checkpointTable,
  createCheckpointTableSql,
  createStageSql,
  createTableSql,
  loadDataParts,
  insertSql,
  keyComparison,
  loadDataSql,
  qualifiedName,
  quoteIdent,
  rowsOf,
  upsertSql,
  targetColumnType,
} from './mysql-dialect';
import {
  loadDataFromFields,
  loadDataFromLines,
  LoadDataPieces,
  rowsOfFields,
  rowsOfLines,
} from './load-data-pieces';
import {
  createPartitionedSql,
  keyCasts,
  mysqlComparer,
  mysqlPartitionOf,
  partitionChange,
  partitionedTable,
  partitionsSql,
  type PartitionRow,
} from './mysql-partitions';
import { classifyMysqlError, errorCodeForErrno, isLocalInfileRefused } from './mysql-errors';
import { fieldText } from './mysql-types';
import { rowBatches, rowsFromBatches } from '../../core/row-batches';
import { CopyLines, type WideLine } from '../postgres/postgres-copy-text';
import { copyTextTranscoder } from './mysql-copy-text';
import { slicesOf } from '../../core/text-slices';

interface StoredRow extends CheckpointRow {
  completed: number;
}

const toCheckpoint = (taskId: string, row: StoredRow): Checkpoint =>
  checkpointFromRow(taskId, row, Number(row.completed) === 1);

const checkpointColumns =
  '`cursor`, rows_read, rows_written, chunks, baseline_rows, completed_at IS NOT NULL AS completed';

/** The source engines whose partitions a MySQL target recreates as partitions. */
const partitionEngines = new Set(['mysql', 'postgres']);

/** LOAD DATA sends the chunk in pieces of about this many bytes. */
const loadDataPieceBytes = 256 * 1024;
/** The INSERT fallback sends at most this many rows, or about this many bytes, per statement. */
const insertBatchRows = 1_000;
const insertBatchBytes = 4 * 1024 * 1024;
/** How long prepare waits for another attempt of the same task to finish preparing. */
const prepareLockSeconds = 60;

/** What loading one chunk did. */
interface LoadResult {
  rowsRead: number;
  rowsWritten: number;
}

/**
 * Writes MySQL/MariaDB tables with LOAD DATA LOCAL INFILE (or multi-row INSERTs where the server
 * refuses it), each chunk in one InnoDB transaction with its checkpoint row. PostgreSQL's COPY text
 * is transcoded into LOAD DATA text field by field, decoding only the values that need it; what a
 * MySQL source's server sends (joined lines, text fields) is copied into it byte by byte.
 */
export class MysqlTarget implements Target {
  readonly encodings = [
    ChunkEncoding.PgCopyText,
    ChunkEncoding.CopyTextLines,
    ChunkEncoding.TextFields,
    ChunkEncoding.Rows,
  ] as const;
  readonly loadsBeforeClaim = true;
  readonly previewsDdl = true;
  /** Set once the server refused LOAD DATA LOCAL, so later chunks go straight to INSERT. */
  private localInfileRefused = false;

  constructor(private readonly pool: mysql.Pool) {}

  /** A MySQL source's native column types are kept as they are. */
  private sameEngine(table: TableMeta): boolean {
    return table.engine === 'mysql';
  }

  /**
   * Creates or resets the table (or partition) and makes sure a checkpoint exists. MySQL commits DDL
   * at once, so a dry run (for `mms plan`) runs nothing: it reads the target as it is and returns the
   * statements it would run.
   */
  async prepare(request: PrepareRequest, options: { dryRun?: boolean } = {}): Promise<PrepareResult> {
    const { targetRef, table } = request;
    const dryRun = options.dryRun === true;
    const context = { table: tableLabel(targetRef) };
    const statements: string[] = [];
    const unsupported = table.columns.filter((c) => c.unmapped && !this.sameEngine(table));
    if (unsupported.length > 0) {
      throw new MigrationError(
        ErrorCode.UnsupportedType,
        `no logical type for ${unsupported.map((c) => `${c.name} (${c.nativeType})`).join(', ')}`,
        { table: tableLabel(table.ref), column: unsupported[0]?.name },
      );
    }
    // MySQL has no arrays: an array column moves only as JSON, and only when a cast rule says so.
    const array = table.columns.find((c) => c.type.kind === 'array' && !c.cast?.targetType);
    if (array) {
      const where = `${tableLabel(table.ref)}.${array.name}`;
      throw new MigrationError(
        ErrorCode.UnsupportedType,
        `${where} (${array.nativeType} → MySQL): MySQL has no array type; to store the arrays as JSON arrays, add { column: "${table.ref.name}.${array.name}", to: json } to casts`,
        { table: tableLabel(table.ref), column: array.name, type: array.nativeType },
      );
    }
    if (targetRef.partition !== undefined && table.partition && !partitionEngines.has(table.engine)) {
      // Partitions are recreated from a MySQL source's own DDL or a PostgreSQL source's key and bound
      // (mysqlPartitionOf); anything else would write with PARTITION (…) into a table that has none.
      throw new MigrationError(
        ErrorCode.BadSpec,
        `${tableLabel(table.ref)}: a MySQL target recreates the partitions of MySQL and PostgreSQL sources only; copy the whole table with kind "tables"`,
        { table: tableLabel(table.ref) },
      );
    }
    // Built first so that a type MySQL cannot hold fails before anything is changed (a partition's: its parent's).
    const createSql = createTableSql(targetRef, table.columns, table.primaryKey, this.sameEngine(table));
    return this.withConnection(context, async (conn) => {
      const run = async (sql: string): Promise<void> => {
        statements.push(sql);
        if (!dryRun) await conn.query(sql);
      };
      // DDL commits implicitly in MySQL, so no transaction can cover prepare. A named lock keeps
      // two attempts of one task from interleaving; a crash anywhere before the checkpoint row
      // exists is safe, because the retry finds no checkpoint and prepares again from scratch.
      if (!dryRun)
        await this.lock(
          conn,
          taskLockName(request.taskId),
          `another attempt of ${request.taskId} is still preparing`,
        );
      try {
        const [schemas] = await conn.query(
          'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
          [targetRef.schema],
        );
        const schemaExists = (schemas as unknown[]).length > 0;
        if (!schemaExists) await run(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(targetRef.schema)}`);
        await run(createCheckpointTableSql(targetRef.schema));
        const existing = schemaExists
          ? await readCheckpointRow(conn, request.taskId, targetRef.schema, { missingTable: dryRun })
          : null;
        // A checkpoint means this task already started: resume, and never reset rows it committed.
        if (existing) return { statements, checkpoint: toCheckpoint(request.taskId, existing) };

        const baseline =
          targetRef.partition !== undefined && table.partition
            ? await this.preparePartition(conn, request, run, dryRun)
            : await this.prepareTable(conn, request, run, createSql, schemaExists);
        if (dryRun) {
          const checkpoint = { taskId: request.taskId, cursor: null, rowsRead: 0, rowsWritten: 0, chunks: 0 };
          return { statements, checkpoint: { ...checkpoint, baselineRows: baseline, completed: false } };
        }
        await conn.query(
          `INSERT INTO ${qualifiedName(checkpointTable(targetRef.schema))} (task_id, baseline_rows) VALUES (?, ?)`,
          [request.taskId, baseline],
        );
        const inserted = await readCheckpointRow(conn, request.taskId, targetRef.schema);
        return { statements, checkpoint: toCheckpoint(request.taskId, inserted!) };
      } finally {
        if (!dryRun)
          await conn.query('DO RELEASE_LOCK(?)', [taskLockName(request.taskId)]).catch(() => undefined);
      }
    });
  }

  /** Creates, recreates or empties a whole table per the modes; returns the rows it keeps (append). */
  private async prepareTable(
    conn: PoolConnection,
    request: PrepareRequest,
    run: (sql: string) => Promise<void>,
    createSql: string,
    schemaExists: boolean,
  ): Promise<number> {
    const { targetRef, table } = request;
    const exists = schemaExists && (await tableExists(conn, targetRef));
    if (!exists && request.createMode === 'never') {
      throw new MigrationError(
        ErrorCode.TableNotFound,
        `target table ${tableLabel(targetRef)} does not exist and createMode is "never"`,
        { table: tableLabel(targetRef) },
      );
    }
    if (exists && request.createMode === 'recreate') await run(`DROP TABLE ${qualifiedName(targetRef)}`);
    if (!exists || request.createMode === 'recreate') {
      await run(createSql);
    } else {
      await assertColumnsExist(
        conn,
        targetRef,
        table.columns.map((c) => c.name),
      );
      // TRUNCATE commits at once; it must come before the checkpoint row, never after it.
      if (request.writeMode === 'overwrite') await run(`TRUNCATE TABLE ${qualifiedName(targetRef)}`);
    }
    return exists && request.writeMode === 'append' && request.createMode !== 'recreate'
      ? countRows(conn, targetRef)
      : 0;
  }

  /**
   * Makes the partition exist in its parent, one task per parent at a time: the parent is created with
   * this partition alone, and later partitions are added (LIST, or RANGE above the others) or split off
   * the partition above them (RANGE, `REORGANIZE PARTITION`), so the target holds only the chosen
   * partitions, whatever order their tasks run in. `recreate` empties the partition (its definition
   * belongs to the parent, which other tasks share). Returns the rows it keeps (append).
   */
  private async preparePartition(
    conn: PoolConnection,
    request: PrepareRequest,
    run: (sql: string) => Promise<void>,
    dryRun: boolean,
  ): Promise<number> {
    const { targetRef, table } = request;
    // Built first, so that a partition MySQL cannot express fails before anything is changed.
    const partition = mysqlPartitionOf(table, this.sameEngine(table));
    const name = targetRef.partition!;
    const parent = { schema: targetRef.schema, name: targetRef.name };
    const lockName = taskLockName(`parent:${tableLabel(parent)}`);
    if (!dryRun)
      await this.lock(conn, lockName, `another task is changing the partitions of ${tableLabel(parent)}`);
    try {
      const [rows] = await conn.query(partitionsSql, [parent.schema, [parent.name]]);
      const found = partitionedTable(parent.schema, parent.name, rows as PartitionRow[]);
      if (found.state === 'missing') {
        if (request.createMode === 'never') {
          throw new MigrationError(
            ErrorCode.TableNotFound,
            `target table ${tableLabel(parent)} does not exist and createMode is "never"`,
            { table: tableLabel(parent) },
          );
        }
        const create = createTableSql(parent, table.columns, table.primaryKey, this.sameEngine(table));
        await run(createPartitionedSql(create, partition.keyDef, name, partition.bound));
        return 0;
      }
      if (found.state === 'unpartitioned') {
        throw new MigrationError(
          ErrorCode.TargetConflict,
          `target table ${tableLabel(parent)} exists and is not partitioned; drop it, or copy into another target`,
          { table: tableLabel(parent) },
        );
      }
      await assertColumnsExist(
        conn,
        parent,
        table.columns.map((c) => c.name),
      );
      const casts = keyCasts(partition.layout, table.columns, this.sameEngine(table));
      const compare = mysqlComparer(casts, async (statement) => {
        const [result] = await conn.query({
          sql: statement.sql,
          values: statement.params,
          rowsAsArray: true,
        });
        return result as unknown[];
      });
      const change = await partitionChange(parent, found.partitions, { name, ...partition }, compare);
      const present = change.sql === null;
      if (!present && request.createMode === 'never') {
        throw new MigrationError(
          ErrorCode.TableNotFound,
          `partition ${name} of ${tableLabel(parent)} does not exist and createMode is "never"`,
          { table: tableLabel(targetRef) },
        );
      }
      if (change.sql) await run(change.sql);
      // Splitting a partition may move rows into the new one; like TRUNCATE, this comes before the checkpoint row.
      const empties = request.writeMode === 'overwrite' || request.createMode === 'recreate';
      if ((present || change.reorganized) && empties)
        await run(`ALTER TABLE ${qualifiedName(parent)} TRUNCATE PARTITION ${quoteIdent(name)}`);
      const kept = !empties && (present || (change.reorganized && !dryRun));
      return kept && request.writeMode === 'append' ? countRows(conn, targetRef) : 0;
    } finally {
      if (!dryRun) await conn.query('DO RELEASE_LOCK(?)', [lockName]).catch(() => undefined);
    }
  }

  async readCheckpoint(taskId: string, targetRef: TableRef): Promise<Checkpoint | null> {
    return this.withConnection({ table: tableLabel(targetRef) }, async (conn) => {
      const row = await readCheckpointRow(conn, taskId, targetRef.schema);
      return row ? toCheckpoint(taskId, row) : null;
    });
  }

  async writeChunk(write: ChunkWrite): Promise<Checkpoint> {
    const { targetRef, chunk, previous } = write;
    const context = { table: tableLabel(targetRef) };
    try {
      return await this.withConnection(context, async (conn) => {
        await conn.query('START TRANSACTION');
        // Rows first, the checkpoint last (see the UPDATE below), so the next chunk loads while this one commits.
        // An upsert loads the chunk into a temporary stage, then merges it by primary key.
        const upsert = write.writeMode === 'upsert';
        if (upsert && write.table.primaryKey.length === 0) {
          throw new MigrationError(
            ErrorCode.BadSpec,
            `upsert needs a primary key; ${context.table} has none`,
          );
        }
        const stage = { schema: targetRef.schema, name: '_mms_stage' };
        if (upsert) await conn.query(createStageSql(stage, targetRef));
        const loaded = await this.load(conn, upsert ? { ...write, targetRef: stage } : write);
        if (upsert) {
          const columns = write.table.columns.map((c) => c.name);
          await conn.query(upsertSql(targetRef, stage, columns, write.table.primaryKey));
          await conn.query(`DROP TEMPORARY TABLE ${qualifiedName(stage)}`);
        }
        if (loaded.rowsRead !== loaded.rowsWritten) {
          throw new MigrationError(
            ErrorCode.Internal,
            `chunk read ${loaded.rowsRead} rows but wrote ${loaded.rowsWritten}`,
            context,
          );
        }
        // The claim: after the chunk before this one committed, the row moves only if nobody moved it
        // first. Another attempt at this chunk (a worker presumed dead that still runs) meets this
        // one's keys and waits for it; if this one commits, it fails with a checkpoint conflict.
        await write.turn;
        const [advanced] = await conn.query<ResultSetHeader>(
          `UPDATE ${qualifiedName(checkpointTable(targetRef.schema))}
             SET \`cursor\` = ?, rows_read = rows_read + ?, rows_written = rows_written + ?,
                 chunks = chunks + 1, updated_at = CURRENT_TIMESTAMP(6)
           WHERE task_id = ? AND chunks = ?`,
          [
            JSON.stringify(write.cursor ?? write.range.upTo),
            loaded.rowsRead,
            loaded.rowsWritten,
            write.taskId,
            previous.chunks,
          ],
        );
        if (advanced.affectedRows === 0) throw checkpointMoved(write.taskId, previous.chunks, context.table);
        const row = await readCheckpointRow(conn, write.taskId, targetRef.schema);
        await conn.query('COMMIT');
        return toCheckpoint(write.taskId, row!);
      });
    } catch (e) {
      chunk.release(e instanceof Error ? e : new Error(String(e)));
      throw await conflictOr(e, write, context.table, () => this.readCheckpoint(write.taskId, targetRef));
    }
  }

  async analyze(targetRef: TableRef): Promise<void> {
    await this.withConnection({ table: tableLabel(targetRef) }, async (conn) => {
      await conn.query(
        targetRef.partition === undefined
          ? `ANALYZE TABLE ${qualifiedName(targetRef)}`
          : `ALTER TABLE ${qualifiedName(targetRef)} ANALYZE PARTITION ${quoteIdent(targetRef.partition)}`,
      );
    });
  }

  async markComplete(taskId: string, targetRef: TableRef): Promise<void> {
    await this.withConnection({ table: tableLabel(targetRef) }, async (conn) => {
      await conn.query(
        `UPDATE ${qualifiedName(checkpointTable(targetRef.schema))} SET completed_at = CURRENT_TIMESTAMP(6) WHERE task_id = ?`,
        [taskId],
      );
    });
  }

  async count(targetRef: TableRef): Promise<number> {
    return this.withConnection({ table: tableLabel(targetRef) }, (conn) => countRows(conn, targetRef));
  }

  async replaceRange(
    table: TableMeta,
    targetRef: TableRef,
    range: ChunkRange,
    chunk: ChunkStream,
  ): Promise<number> {
    const context = { table: tableLabel(targetRef) };
    // Bound keys are cast to the target's column types, which createTableSql chose.
    const key = table.primaryKey.map((name) => {
      const column = table.columns.find((c) => c.name === name)!;
      return { name, nativeType: targetColumnType(column, this.sameEngine(table)), type: column.type };
    });
    const conditions = [keyComparison(key, '<=', range.upTo)];
    if (range.after?.length) conditions.unshift(keyComparison(key, '>', range.after));
    try {
      return await this.withConnection(context, async (conn) => {
        await conn.query('START TRANSACTION');
        await conn.query(
          `DELETE FROM ${rowsOf(targetRef)} WHERE ${conditions.map((c) => c.sql).join(' AND ')}`,
          conditions.flatMap((c) => c.params),
        );
        const loaded = await this.load(conn, { table, targetRef, chunk });
        if (loaded.rowsRead !== loaded.rowsWritten) {
          throw new MigrationError(
            ErrorCode.Internal,
            `range read ${loaded.rowsRead} rows but wrote ${loaded.rowsWritten}`,
            context,
          );
        }
        await conn.query('COMMIT');
        return loaded.rowsWritten;
      });
    } catch (e) {
      chunk.release(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.pool.promise().end();
  }

  /** Loads the chunk's rows with LOAD DATA LOCAL, or with INSERTs when the server refuses that. */
  private async load(
    conn: PoolConnection,
    write: Pick<ChunkWrite, 'chunk' | 'table' | 'targetRef'>,
  ): Promise<LoadResult> {
    const { chunk, table, targetRef } = write;
    const sameEngine = this.sameEngine(table);
    if (!this.localInfileRefused) {
      let started = false;
      let ended = false;
      const socket = (conn.connection as unknown as { stream?: Writable }).stream;
      async function* pieces(): AsyncGenerator<Buffer> {
        started = true;
        // mysql2 writes file data without waiting for the socket; wait here so memory stays bounded
        // (to about one piece queued: a wide line's bytes come in pieces of 16–64 KB).
        for await (const piece of loadDataText(chunk.data, table)) {
          if (socket && socket.writableLength >= loadDataPieceBytes) await once(socket, 'drain');
          yield piece;
        }
        ended = true;
      }
      try {
        const [result] = await conn.query<ResultSetHeader>({
          sql: loadDataSql(targetRef, table.columns, sameEngine),
          infileStreamFactory: () => Readable.from(pieces(), { objectMode: false }),
        });
        // A source that failed mid-chunk must never look like a short chunk.
        if (!ended) throw new MigrationError(ErrorCode.Internal, 'the chunk stream ended early', {});
        if (result.warningStatus > 0) throw await warningError(conn, tableLabel(targetRef));
        return { rowsRead: chunk.rowsRead(), rowsWritten: result.affectedRows };
      } catch (e) {
        // Refused before a byte was sent: the rows are still unread, so INSERT can take them.
        if (started || !isLocalInfileRefused(e)) throw e;
        this.localInfileRefused = true;
      }
    }
    return insertRows(conn, write, rowsOfChunk(chunk.data, table), rowEncoder(table), sameEngine);
  }

  /** Takes a named lock for this session; it outlives DDL's implicit commits. */
  private async lock(conn: PoolConnection, name: string, busy: string): Promise<void> {
    const [rows] = await conn.query({
      sql: 'SELECT GET_LOCK(?, ?) AS got',
      values: [name, prepareLockSeconds],
      rowsAsArray: true,
    });
    if (Number((rows as unknown[][])[0]?.[0]) !== 1)
      throw new MigrationError(ErrorCode.LockTimeout, busy, {});
  }

  /** Runs work on one pooled connection; a connection that failed mid-protocol is discarded, not reused. */
  private async withConnection<T>(
    context: { table?: string },
    work: (conn: PoolConnection) => Promise<T>,
  ): Promise<T> {
    const conn = await this.pool
      .promise()
      .getConnection()
      .catch((e: unknown) => {
        throw classifyMysqlError(e, context);
      });
    try {
      const result = await work(conn);
      conn.release();
      return result;
    } catch (e) {
      await conn.query('ROLLBACK').catch(() => undefined);
      conn.destroy();
      throw classifyMysqlError(e, context);
    }
  }
}

/** Lock names are limited to 64 characters; task ids can be longer. */
const taskLockName = (taskId: string): string => `mms:${createHash('sha1').update(taskId).digest('hex')}`;

/** Turns a row into the field texts MySQL parses back into each column. */
function rowEncoder(table: TableMeta): (row: Row) => (string | null)[] {
  const columns = table.columns;
  return (row) => columns.map((c, i) => fieldText(row[i] ?? null, c.type, c.name));
}

/**
 * A COPY text stream's lines, the lines of each piece of bytes at a time; with `lines` keeping wide
 * lines as bytes, some are {@link WideLine}s.
 */
async function* copyLines<Line extends string | WideLine>(
  stream: AsyncIterable<Buffer>,
  lines: CopyLines<Line>,
): AsyncGenerator<Line[]> {
  for await (const piece of stream) yield lines.take(piece);
  const rest = lines.rest();
  if (rest !== null) yield [rest];
}

/**
 * A LOAD DATA line: its text; or, when it is wide, its parts (to be written one after another),
 * texts or bytes already in LOAD DATA's format.
 */
type LoadDataLine = string | (string | Buffer)[];

/** The line's parts when one is wide, so that a 10 MB value is not copied into a joined line. */
function wideOrJoined(parts: string[]): LoadDataLine {
  return parts.some((part) => part.length >= loadDataPieceBytes) ? parts : parts.join('');
}

/** Maps items only as they are taken, so a batch's lines never all exist at once. */
function* lazily<T>(items: T[], map: (item: T) => LoadDataLine): Generator<LoadDataLine> {
  for (const item of items) yield map(item);
}

/** The chunk as LOAD DATA text, in pieces of about {@link loadDataPieceBytes}. */
function loadDataText(data: ChunkData, table: TableMeta): AsyncGenerator<Buffer> {
  if (data.encoding === ChunkEncoding.PgCopyText || data.encoding === ChunkEncoding.Rows)
    return textPieces(loadDataLines(data, table));
  if (data.encoding === ChunkEncoding.PgCopyBinary) throw cannotWrite(data.encoding);
  const encode = rowEncoder(table);
  const kinds = table.columns.map((c) => c.type.kind);
  const pieces = new LoadDataPieces(kinds, (row) => loadDataParts(encode(row)).join(''), loadDataPieceBytes);
  return data.encoding === ChunkEncoding.CopyTextLines
    ? loadDataFromLines(data, pieces)
    : loadDataFromFields(data, pieces);
}

/** LOAD DATA lines as pieces of bytes, newlines added; a wide line's parts go out in slices, never joined. */
async function* textPieces(lines: AsyncIterable<Iterable<LoadDataLine>>): AsyncGenerator<Buffer> {
  let text = '';
  for await (const batch of lines)
    for (const line of batch) {
      if (typeof line === 'string' && line.length < loadDataPieceBytes) text += line;
      else
        for (const part of typeof line === 'string' ? [line] : line) {
          if (typeof part === 'string' && part.length < loadDataPieceBytes) {
            text += part;
            continue;
          }
          // A wide part (a 10 MB value) goes out in slices, never joined into one more string,
          // so only one slice at a time is bytes.
          if (text) yield Buffer.from(text);
          text = '';
          for (const slice of typeof part === 'string' ? slicesOf(part, loadDataPieceBytes) : [part])
            yield typeof slice === 'string' ? Buffer.from(slice) : slice;
        }
      text += '\n';
      if (text.length < loadDataPieceBytes) continue;
      yield Buffer.from(text);
      text = '';
    }
  if (text) yield Buffer.from(text);
}

/** The chunk's LOAD DATA lines (without newlines), a batch of rows or a piece of COPY text at a time. */
async function* loadDataLines(
  data: Extract<ChunkData, { encoding: typeof ChunkEncoding.PgCopyText | typeof ChunkEncoding.Rows }>,
  table: TableMeta,
): AsyncGenerator<Iterable<LoadDataLine>> {
  if (data.encoding === ChunkEncoding.Rows) {
    const encode = rowEncoder(table);
    for await (const batch of rowBatches(data.rows))
      yield lazily(batch, (row) => wideOrJoined(loadDataParts(encode(row))));
    return;
  }
  const transcoder = copyTextTranscoder(table, data.checks);
  // A wide line is never decoded when its bytes can go out as they came (no 10 MB join, text, re-encoding).
  const lines = new CopyLines<string | WideLine>(loadDataPieceBytes);
  for await (const read of copyLines(data.stream, lines))
    yield read.map((line) =>
      typeof line === 'string' ? transcoder.loadDataLine(line) : transcoder.wideLoadDataLine(line),
    );
}

/** An encoding MySQL targets never list (COPY binary is for PostgreSQL targets). */
const cannotWrite = (encoding: ChunkEncoding): MigrationError =>
  new MigrationError(ErrorCode.Internal, `a MySQL target cannot write ${encoding}`);

/** The chunk's rows, COPY text decoded (and checked) field by field. */
function rowsOfChunk(data: ChunkData, table: TableMeta): AsyncIterable<Row> {
  if (data.encoding === ChunkEncoding.Rows) return data.rows;
  if (data.encoding === ChunkEncoding.CopyTextLines) return rowsOfLines(data);
  if (data.encoding === ChunkEncoding.TextFields) return rowsOfFields(data);
  if (data.encoding === ChunkEncoding.PgCopyBinary) throw cannotWrite(data.encoding);
  const transcoder = copyTextTranscoder(table, data.checks);
  return rowsFromBatches(
    (async function* () {
      for await (const lines of copyLines(data.stream, new CopyLines())) yield lines.map(transcoder.row);
    })(),
  );
}

/** The multi-row INSERT path: same transaction, same counts and warnings as LOAD DATA. */
async function insertRows(
  conn: PoolConnection,
  write: Pick<ChunkWrite, 'chunk' | 'table' | 'targetRef'>,
  rows: AsyncIterable<Row>,
  encode: (row: Row) => (string | null)[],
  sameEngine: boolean,
): Promise<LoadResult> {
  const result: LoadResult = { rowsRead: 0, rowsWritten: 0 };
  let batch: (string | null)[][] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const [header] = await conn.query<ResultSetHeader>(
      insertSql(write.targetRef, write.table.columns, sameEngine, batch.length),
      batch.flat(),
    );
    // SHOW WARNINGS only sees the last statement, so every batch is checked on its own.
    if (header.warningStatus > 0) throw await warningError(conn, tableLabel(write.targetRef));
    result.rowsWritten += header.affectedRows;
    batch = [];
    bytes = 0;
  };
  for await (const read of rowBatches(rows))
    for (const row of read) {
      const fields = encode(row);
      batch.push(fields);
      bytes += fields.reduce((n, f) => n + (f?.length ?? 4), 0);
      if (batch.length >= insertBatchRows || bytes >= insertBatchBytes) await flush();
    }
  await flush();
  result.rowsRead = write.chunk.rowsRead();
  return result;
}

/** The first warning of the last statement as an error: in a load, a warning means a changed value. */
async function warningError(conn: PoolConnection, table: string): Promise<MigrationError> {
  const [rows] = await conn.query('SHOW WARNINGS LIMIT 5');
  const warnings = rows as { Level: string; Code: number; Message: string }[];
  const first = warnings.find((w) => w.Level !== 'Note') ?? warnings[0];
  const classified = first ? errorCodeForErrno(first.Code) : undefined;
  // LOAD DATA LOCAL turns errors into warnings; duplicates and constraint failures keep their meaning.
  const code = classified === ErrorCode.TargetConflict ? classified : ErrorCode.OutOfRange;
  return new MigrationError(
    code,
    `MySQL changed or skipped values while loading: ${warnings.map((w) => `${w.Code} ${w.Message}`).join('; ') || 'unknown warning'}`,
    { table },
  );
}

/** The checkpoint row of a task; with `missingTable`, null also when the checkpoint table does not exist yet. */
async function readCheckpointRow(
  conn: PoolConnection,
  taskId: string,
  schema: string,
  options: { missingTable?: boolean } = {},
): Promise<StoredRow | null> {
  try {
    const [rows] = await conn.query(
      `SELECT ${checkpointColumns} FROM ${qualifiedName(checkpointTable(schema))} WHERE task_id = ?`,
      [taskId],
    );
    return (rows as StoredRow[])[0] ?? null;
  } catch (e) {
    if (options.missingTable && (e as { errno?: number }).errno === 1146) return null;
    throw e;
  }
}

async function countRows(conn: PoolConnection, ref: TableRef): Promise<number> {
  const [rows] = await conn.query(`SELECT COUNT(*) AS n FROM ${rowsOf(ref)}`);
  return Number((rows as { n: string }[])[0]?.n ?? 0);
}

/** information_schema compares names case-insensitively; table names themselves are exact. */
async function tableExists(conn: PoolConnection, ref: TableRef): Promise<boolean> {
  const [rows] = await conn.query(
    'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [ref.schema, ref.name],
  );
  return (rows as { name: string }[]).some((r) => r.name === ref.name);
}

async function assertColumnsExist(conn: PoolConnection, ref: TableRef, columns: string[]): Promise<void> {
  const [rows] = await conn.query(
    'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [ref.schema, ref.name],
  );
  // Column names are case-insensitive in MySQL.
  const present = new Set((rows as { name: string }[]).map((r) => r.name.toLowerCase()));
  const missing = columns.filter((c) => !present.has(c.toLowerCase()));
  if (missing.length > 0) {
    throw new MigrationError(
      ErrorCode.TargetConflict,
      `target table ${tableLabel(ref)} exists without column(s) ${missing.join(', ')}; use createMode "recreate" or fix the target`,
      { table: tableLabel(ref), column: missing[0] },
    );
  }
}
