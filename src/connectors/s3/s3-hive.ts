import { Readable } from 'node:stream';
import type { PrepareRequest, Row, Value } from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import { postgresPartitionKey, postgresPartitionLayout } from '../../core/partitions';
import { tableLabel, type ColumnMeta, type PartitionInfo, type TableMeta } from '../../core/table';
import { mapRows, rowBatches, rowsFromBatches } from '../../core/row-batches';
import type { ObjectStore } from './object-store';
import { fromText, valueText, type PartFormat } from './s3-format';
import { hiveFolder, partitionNameKey, type PartEntry } from './s3-layout';

/**
 * Hive-style `key=value/` folders: which keys a task writes, the writer that splits a chunk's rows
 * into one part per folder, and the reader's side (a part's folder values back into its rows).
 */

/**
 * Folders one chunk may spread over. Each open folder holds a part encoder and an upload until the
 * chunk ends, so this bounds a chunk's memory; a chunk with more fails with BAD_SPEC.
 */
export const maxFoldersPerChunk = 500;

/** Types whose values make no folder names: long, binary or structured. */
const folderlessKinds: ReadonlySet<string> = new Set(['bytes', 'json', 'array']);

/** The longest folder segment (`key=value`) in UTF-8 bytes: the file-system limit for a name. */
export const maxFolderBytes = 255;

/**
 * Batches waiting for one folder's encoder at most: the router waits rather than buffering a chunk.
 * A batch is part of one source batch (at most 1,024 rows or about 1 MB, or one wide row).
 */
const folderQueueBatches = 2;

/**
 * The Hive folder keys of a task, outermost first: the spec's `partitionBy` columns; else, for one
 * partition of a LIST-partitioned table keyed by columns, those columns; else, for any other partition
 * (RANGE, an expression key), `partition`, whose value is the source partition's name; else none.
 * Refuses (BAD_SPEC) what cannot be a folder: an unknown or repeated column, every column of the table.
 */
export function hiveKeysFor(request: Pick<PrepareRequest, 'table' | 'partitionBy'>): string[] {
  const { table } = request;
  const label = tableLabel(table.ref);
  const names = table.columns.map((c) => c.name);
  const partitionBy = request.partitionBy ?? [];
  if (partitionBy.length > 0) {
    for (const [i, key] of partitionBy.entries()) {
      if (!names.includes(key))
        throw new MigrationError(
          ErrorCode.BadSpec,
          `target.partitionBy: ${label} has no column "${key}" (its columns: ${names.join(', ')})`,
          { table: label, column: key },
        );
      if (partitionBy.indexOf(key) !== i)
        throw new MigrationError(ErrorCode.BadSpec, `target.partitionBy names "${key}" twice`, {
          table: label,
          column: key,
        });
    }
    const unfit = partitionBy
      .map((key) => table.columns.find((c) => c.name === key)!)
      .find((c) => folderlessKinds.has(c.type.kind));
    if (unfit)
      throw new MigrationError(
        ErrorCode.BadSpec,
        `target.partitionBy: ${label}.${unfit.name} is ${unfit.type.kind}, which does not name folders; choose columns of other types`,
        { table: label, column: unfit.name },
      );
    if (partitionBy.length >= names.length)
      throw new MigrationError(
        ErrorCode.BadSpec,
        `target.partitionBy names every column of ${label}: the parts would hold no column`,
        { table: label },
      );
    return partitionBy;
  }
  const partition = table.partition;
  if (!partition) return [];
  // The parent's key, so a DEFAULT partition of a LIST table is split like its siblings.
  const layout =
    partition.layout ?? (table.engine === 'postgres' ? postgresPartitionKey(partition.keyDef) : null);
  const keyColumns = layout?.method === 'list' ? layout.columns : null;
  if (keyColumns && keyColumns.every((k) => names.includes(k)) && keyColumns.length < names.length)
    return keyColumns;
  if (names.includes(partitionNameKey))
    throw new MigrationError(
      ErrorCode.BadSpec,
      `${label} has a column named "${partitionNameKey}", the folder key of a partition's name (${partitionNameKey}=<name>/): name the folder columns with target.partitionBy`,
      { table: label, column: partitionNameKey },
    );
  return [partitionNameKey];
}

/**
 * A partition's place under its parent with its engine-neutral layout (a PostgreSQL source gives
 * only its own DDL terms), for the manifest: a reader of another engine recreates the partition from it.
 */
export function partitionWithLayout(table: TableMeta): PartitionInfo {
  const partition = table.partition!;
  if (partition.layout || table.engine !== 'postgres') return partition;
  const layout = postgresPartitionLayout(partition.keyDef, partition.bound);
  return layout ? { ...partition, layout } : partition;
}

/** How a task's rows map to folders: the key columns' positions and the columns the parts hold. */
export interface HiveShape {
  keys: string[];
  /** Per key: its column's position, or -1 for `partition` (not a column: the partition's name). */
  keyIndexes: number[];
  /** The columns the parts hold: every column that is not a folder key, in table order. */
  dataColumns: ColumnMeta[];
  dataIndexes: number[];
}

/** The shape of a table written (or read) with these folder keys. */
export function hiveShape(columns: readonly ColumnMeta[], keys: readonly string[]): HiveShape {
  const keyIndexes = keys.map((k) => columns.findIndex((c) => c.name === k));
  const dataIndexes = columns.flatMap((_, i) => (keyIndexes.includes(i) ? [] : [i]));
  return {
    keys: [...keys],
    keyIndexes,
    dataColumns: dataIndexes.map((i) => columns[i]!),
    dataIndexes,
  };
}

/** A value's folder text (see `valueText`), or null for NULL. */
const folderValue = (value: Value): string | null => (value === null ? null : valueText(value));

/**
 * A part's rows with its folder values put back in their columns: `dataRow` holds the data columns
 * in table order; each key column gets its folder value, typed by the column.
 */
export function withFolderValues(
  shape: HiveShape,
  columns: readonly ColumnMeta[],
  partition: Record<string, string | null> | undefined,
): (dataRow: Row) => Row {
  const constants: (readonly [number, Value])[] = shape.keys.flatMap((key, i) => {
    const index = shape.keyIndexes[i]!;
    if (index < 0) return [];
    const text = partition?.[key] ?? null;
    return [[index, text === null ? null : fromText(text, columns[index]!.type)] as const];
  });
  return (dataRow) => {
    const row: Row = new Array<Value>(columns.length);
    shape.dataIndexes.forEach((column, i) => (row[column] = dataRow[i] ?? null));
    for (const [index, value] of constants) row[index] = value;
    return row;
  };
}

/**
 * Hands rows from the router to one folder's encoder a batch at a time (the rows of one source
 * batch that belong to the folder), holding at most {@link folderQueueBatches} batches.
 */
class BatchQueue implements AsyncIterable<Row[]> {
  private readonly batches: Row[][] = [];
  private ended = false;
  private failure: Error | null = null;
  private wakeReader: (() => void) | null = null;
  private wakeWriter: (() => void) | null = null;

  /** Queues a batch; returns a promise only when the queue is full, so the router awaits only then. */
  push(batch: Row[]): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.batches.length >= folderQueueBatches) return this.pushWhenRoom(batch);
    this.batches.push(batch);
    this.wake('reader');
    return undefined;
  }

  private async pushWhenRoom(batch: Row[]): Promise<void> {
    while (this.batches.length >= folderQueueBatches && !this.failure)
      await new Promise<void>((resolve) => (this.wakeWriter = resolve));
    await this.push(batch);
  }

  end(): void {
    this.ended = true;
    this.wake('reader');
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.wake('reader');
    this.wake('writer');
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Row[]> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.batches.length > 0) {
        const batch = this.batches.shift()!;
        this.wake('writer');
        yield batch;
      } else if (this.ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
      }
    }
  }

  private wake(who: 'reader' | 'writer'): void {
    const wake = who === 'reader' ? this.wakeReader : this.wakeWriter;
    if (who === 'reader') this.wakeReader = null;
    else this.wakeWriter = null;
    wake?.();
  }
}

/**
 * Encodes rows as one part and streams it into the store; only the encoder's own buffer is held.
 * Returns the rows and bytes written.
 */
export async function putPart(
  store: ObjectStore,
  key: string,
  format: PartFormat,
  columns: ColumnMeta[],
  rows: AsyncIterable<Row>,
): Promise<{ rows: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  const counted = mapRows(rows, (row) => {
    count++;
    return row;
  });
  const encoded = format.encode(columns, counted);
  const body = Readable.from(
    (async function* (): AsyncGenerator<Buffer> {
      for await (const piece of encoded) {
        bytes += piece.length;
        yield piece;
      }
    })(),
    { objectMode: false },
  );
  await store.put(key, body);
  return { rows: count, bytes };
}

/** One folder's part being written: its encoder's queue and the upload. */
interface Writer {
  folder: string;
  queue: BatchQueue;
  values: (string | null)[];
  done: Promise<{ rows: number; bytes: number }>;
}

/** What one Hive chunk write needs. */
export interface HiveChunk {
  store: ObjectStore;
  format: PartFormat;
  table: TableMeta;
  keys: string[];
  /** The value of the `partition` key: the source partition's name. */
  partitionName?: string;
  rows: AsyncIterable<Row>;
  /** The part key of the chunk in a folder. */
  keyOf: (folder: string) => string;
}

/**
 * Splits a chunk's rows by their folder values and streams each folder's rows into its own part,
 * all folders at once, a source batch at a time: the router waits only for a folder whose encoder
 * is behind, so memory is bounded by the open folders (at most {@link maxFoldersPerChunk}) and the
 * chunk, never by the table. Returns the parts in folder order.
 */
export async function writeHiveChunk(chunk: HiveChunk): Promise<PartEntry[]> {
  const { store, format, table, keys } = chunk;
  const shape = hiveShape(table.columns, keys);
  // Writers by their values' texts (cheap per row); the folder name is built once per folder.
  const open = new Map<string, Writer>();
  const valuesOf = (row: Row): (string | null)[] =>
    shape.keyIndexes.map((index) =>
      index < 0 ? (chunk.partitionName ?? null) : folderValue(row[index] ?? null),
    );
  const folderOf = (values: (string | null)[]): string => {
    const folder = hiveFolder(keys, values);
    const long = folder.split('/').findIndex((segment) => Buffer.byteLength(segment) > maxFolderBytes);
    if (long >= 0) {
      const label = tableLabel(table.ref);
      throw new MigrationError(
        ErrorCode.OutOfRange,
        `${label}.${keys[long]}: a value makes a folder name longer than ${maxFolderBytes} bytes (${folder.split('/')[long]!.slice(0, 60)}…)`,
        { table: label, column: keys[long] },
      );
    }
    return folder;
  };
  try {
    for await (const batch of rowBatches(chunk.rows)) {
      // The batch's rows by folder, in order, then each folder's share handed over as one batch.
      const shares = new Map<Writer, Row[]>();
      for (const row of batch) {
        const values = valuesOf(row);
        const id =
          keys.length === 1 ? ((values[0] ?? null) === null ? '' : `=${values[0]}`) : JSON.stringify(values);
        let writer = open.get(id);
        if (!writer) {
          if (open.size >= maxFoldersPerChunk) {
            const label = tableLabel(table.ref);
            throw new MigrationError(
              ErrorCode.BadSpec,
              `${label}: one chunk spreads over more than ${maxFoldersPerChunk} folders of ${keys.join(', ')}; partition by coarser columns or lower chunkRows`,
              { table: label, column: keys[0] },
            );
          }
          const folder = folderOf(values);
          const queue = new BatchQueue();
          const done = putPart(store, chunk.keyOf(folder), format, shape.dataColumns, rowsFromBatches(queue));
          // A failed upload stops the router at its next batch for that folder.
          done.catch((e: unknown) => queue.fail(e instanceof Error ? e : new Error(String(e))));
          writer = { folder, queue, values, done };
          open.set(id, writer);
        }
        const share = shares.get(writer);
        const data = shape.dataIndexes.map((i) => row[i] ?? null);
        if (share) share.push(data);
        else shares.set(writer, [data]);
      }
      for (const [writer, share] of shares) {
        const full = writer.queue.push(share);
        if (full) await full;
      }
    }
    for (const writer of open.values()) writer.queue.end();
    const parts: PartEntry[] = [];
    const byFolder = [...open.values()].sort((a, b) =>
      a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0,
    );
    for (const writer of byFolder) {
      const { rows, bytes } = await writer.done;
      parts.push({
        key: chunk.keyOf(writer.folder),
        rows,
        bytes,
        partition: Object.fromEntries(keys.map((k, i) => [k, writer.values[i] ?? null])),
      });
    }
    return parts;
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    for (const writer of open.values()) writer.queue.fail(error);
    await Promise.allSettled([...open.values()].map((w) => w.done));
    throw e;
  }
}
