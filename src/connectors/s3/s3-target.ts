import { Readable } from 'node:stream';
import {
  ChunkEncoding,
  type Checkpoint,
  type ChunkWrite,
  type PrepareRequest,
  type PrepareResult,
  type Target,
} from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import { mapRows } from '../../core/row-batches';
import { storedColumn, tableLabel, type TableMeta, type TableRef } from '../../core/table';
import type { ObjectStore } from './object-store';
import type { PartFormat } from './s3-format';
import {
  checkpointKey,
  countTableRows,
  manifestKey,
  partKey,
  readManifest,
  tablePrefix,
  type Manifest,
  type PartEntry,
} from './s3-layout';

/** The checkpoint object: the task's progress and the parts it committed. */
interface StoredCheckpoint extends Checkpoint {
  parts: PartEntry[];
}

/** The checkpoint without its part list, which can be long and never needs to leave the target. */
const publicCheckpoint = ({ parts: _parts, ...checkpoint }: StoredCheckpoint): Checkpoint => checkpoint;

/**
 * Writes tables as part files in an object store. Chunk k of a task is always the same
 * object, so rewriting it after a crash overwrites instead of duplicating.
 */
export class S3Target implements Target {
  readonly encodings = [ChunkEncoding.Rows] as const;
  readonly previewsDdl = true;

  constructor(
    private readonly store: ObjectStore,
    private readonly format: PartFormat,
  ) {}

  async prepare(request: PrepareRequest, options: { dryRun?: boolean } = {}): Promise<PrepareResult> {
    const { targetRef } = request;
    if (request.writeMode === 'upsert') {
      throw new MigrationError(
        ErrorCode.BadSpec,
        'an object store cannot update rows in place: use overwrite or append',
      );
    }
    const existing = await this.readStoredCheckpoint(request.taskId, targetRef);
    if (existing) return { statements: [], checkpoint: publicCheckpoint(existing) };
    const statements: string[] = [];
    const present = await this.store.list(tablePrefix(targetRef));
    if (present.length === 0 && request.createMode === 'never') {
      throw new MigrationError(
        ErrorCode.TableNotFound,
        `nothing exists at ${tablePrefix(targetRef)} and createMode is "never"`,
        { table: tableLabel(targetRef) },
      );
    }
    const previousManifest = await readManifest(this.store, targetRef);
    const keepOld = request.writeMode === 'append' && request.createMode !== 'recreate';
    if (!keepOld && present.length > 0) {
      statements.push(`delete ${present.length} object(s) under ${tablePrefix(targetRef)}`);
      if (!options.dryRun) await this.store.delete(present);
    }
    const kept = keepOld ? (previousManifest?.parts ?? []) : [];
    const checkpoint: StoredCheckpoint = {
      taskId: request.taskId,
      cursor: null,
      rowsRead: 0,
      rowsWritten: 0,
      chunks: 0,
      baselineRows: kept.reduce((sum, p) => sum + p.rows, 0),
      completed: false,
      parts: kept,
    };
    statements.push(
      `write ${this.format.extension} parts under ${tablePrefix(targetRef)}, then _manifest.json`,
    );
    if (!options.dryRun) await this.store.put(checkpointKey(targetRef), JSON.stringify(checkpoint));
    return { statements, checkpoint: publicCheckpoint(checkpoint) };
  }

  async readCheckpoint(taskId: string, targetRef: TableRef): Promise<Checkpoint | null> {
    const stored = await this.readStoredCheckpoint(taskId, targetRef);
    return stored && publicCheckpoint(stored);
  }

  async writeChunk(write: ChunkWrite): Promise<Checkpoint> {
    const { targetRef, chunk, previous } = write;
    try {
      const stored = await this.readStoredCheckpoint(write.taskId, targetRef);
      if (!stored || stored.chunks !== previous.chunks) {
        throw new MigrationError(
          ErrorCode.CheckpointConflict,
          `checkpoint of ${write.taskId} is not at chunk ${previous.chunks}`,
          { table: tableLabel(targetRef) },
        );
      }
      if (chunk.data.encoding !== ChunkEncoding.Rows)
        throw new MigrationError(ErrorCode.Internal, 'object-store targets take decoded rows');
      const key = partKey(targetRef, write.taskId, previous.chunks, this.format.extension);
      let rows = 0;
      let bytes = 0;
      const source = chunk.data.rows;
      const counted = mapRows(source, (row) => {
        rows++;
        return row;
      });
      const encoded = this.format.encode(write.table.columns, counted);
      // Rows stream through the encoder into the store: only the encoder's own buffer is held.
      const body = Readable.from(
        (async function* (): AsyncGenerator<Buffer> {
          for await (const piece of encoded) {
            bytes += piece.length;
            yield piece;
          }
        })(),
        { objectMode: false },
      );
      // The part is written before the checkpoint names it: a crash in between rewrites the same key.
      await this.store.put(key, body);
      if (chunk.rowsRead() !== rows) {
        throw new MigrationError(
          ErrorCode.Internal,
          `chunk read ${chunk.rowsRead()} rows but wrote ${rows}`,
          {
            table: tableLabel(targetRef),
          },
        );
      }
      const next: StoredCheckpoint = {
        taskId: write.taskId,
        cursor: write.range.upTo,
        rowsRead: previous.rowsRead + chunk.rowsRead(),
        rowsWritten: previous.rowsWritten + rows,
        chunks: previous.chunks + 1,
        baselineRows: stored.baselineRows,
        completed: false,
        parts: [...stored.parts.filter((p) => p.key !== key), { key, rows, bytes }],
      };
      await this.store.put(checkpointKey(targetRef), JSON.stringify(next));
      return publicCheckpoint(next);
    } catch (e) {
      chunk.release(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  }

  async finish(taskId: string, table: TableMeta, targetRef: TableRef): Promise<void> {
    const stored = await this.readStoredCheckpoint(taskId, targetRef);
    if (!stored) throw new MigrationError(ErrorCode.Internal, `no checkpoint for ${taskId}`);
    const manifest: Manifest = {
      table: targetRef,
      format: this.format.extension,
      sourceEngine: table.engine,
      columns: table.columns.map(storedColumn),
      primaryKey: table.primaryKey,
      rows: stored.parts.reduce((sum, p) => sum + p.rows, 0),
      parts: stored.parts,
    };
    await this.store.put(manifestKey(targetRef), JSON.stringify(manifest, null, 2));
  }

  async markComplete(taskId: string, targetRef: TableRef): Promise<void> {
    const stored = await this.readStoredCheckpoint(taskId, targetRef);
    if (!stored) throw new MigrationError(ErrorCode.Internal, `no checkpoint for ${taskId}`);
    await this.store.put(checkpointKey(targetRef), JSON.stringify({ ...stored, completed: true }));
  }

  async count(targetRef: TableRef): Promise<number> {
    return countTableRows(this.store, targetRef);
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private async readStoredCheckpoint(taskId: string, ref: TableRef): Promise<StoredCheckpoint | null> {
    const body = await this.store.get(checkpointKey(ref));
    if (!body) return null;
    const stored = JSON.parse(body.toString('utf8')) as StoredCheckpoint;
    // Checkpoints written before `completed` existed lack it.
    return stored.taskId === taskId ? { ...stored, completed: stored.completed ?? false } : null;
  }
}
