import { createHash } from 'node:crypto';
import {
  ChunkEncoding,
  type Checkpoint,
  type ChunkWrite,
  type PrepareRequest,
  type PrepareResult,
  type Row,
  type Target,
} from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import type { TableMeta, TableRef } from '../../core/table';
import type { ObjectStore } from './object-store';
import type { PartFormat } from './s3-format';

/** The checkpoint object: the task's progress and the parts it committed. */
interface StoredCheckpoint extends Checkpoint {
  parts: { key: string; rows: number }[];
}

/** The manifest: written last, the only thing readers trust. */
export interface Manifest {
  table: TableRef;
  format: string;
  columns: TableMeta['columns'];
  primaryKey: string[];
  rows: number;
  parts: { key: string; rows: number }[];
}

const tablePrefix = (ref: TableRef): string => `${ref.schema}/${ref.name}/`;
const checkpointKey = (ref: TableRef): string => `${tablePrefix(ref)}_mms_checkpoint.json`;
const manifestKey = (ref: TableRef): string => `${tablePrefix(ref)}_manifest.json`;

/**
 * Writes tables as part files in an object store. Chunk k of a task is always the same
 * object, so rewriting it after a crash overwrites instead of duplicating.
 */
export class S3Target implements Target {
  readonly encodings = [ChunkEncoding.Rows] as const;

  constructor(
    private readonly store: ObjectStore,
    private readonly format: PartFormat,
  ) {}

  async prepare(request: PrepareRequest): Promise<PrepareResult> {
    const { targetRef } = request;
    const existing = await this.readStoredCheckpoint(request.taskId, targetRef);
    if (existing) return { statements: [], checkpoint: existing };
    const statements: string[] = [];
    const present = await this.store.list(tablePrefix(targetRef));
    if (present.length === 0 && request.createMode === 'never') {
      throw new MigrationError(
        ErrorCode.TableNotFound,
        `nothing exists at ${tablePrefix(targetRef)} and createMode is "never"`,
      );
    }
    const previousManifest = await this.readManifest(targetRef);
    const keepOld = request.writeMode === 'append' && request.createMode !== 'recreate';
    if (!keepOld && present.length > 0) {
      statements.push(`delete ${present.length} object(s) under ${tablePrefix(targetRef)}`);
      await this.store.delete(present);
    }
    const kept = keepOld ? (previousManifest?.parts ?? []) : [];
    const checkpoint: StoredCheckpoint = {
      taskId: request.taskId,
      cursor: null,
      rowsRead: 0,
      rowsWritten: 0,
      chunks: 0,
      baselineRows: kept.reduce((sum, p) => sum + p.rows, 0),
      parts: kept,
    };
    await this.store.put(checkpointKey(targetRef), JSON.stringify(checkpoint));
    return { statements, checkpoint };
  }

  async readCheckpoint(taskId: string, targetRef: TableRef): Promise<Checkpoint | null> {
    return this.readStoredCheckpoint(taskId, targetRef);
  }

  async writeChunk(write: ChunkWrite): Promise<Checkpoint> {
    const { targetRef, chunk, previous } = write;
    const stored = await this.readStoredCheckpoint(write.taskId, targetRef);
    if (!stored || stored.chunks !== previous.chunks) {
      chunk.release();
      throw new MigrationError(
        ErrorCode.CheckpointConflict,
        `checkpoint of ${write.taskId} is not at chunk ${previous.chunks}`,
      );
    }
    if (chunk.data.encoding !== ChunkEncoding.Rows) throw new Error('object-store targets take decoded rows');
    const rows: Row[] = [];
    for await (const row of chunk.data.rows) rows.push(row);
    const key = `${tablePrefix(targetRef)}part-${taskHash(write.taskId)}-${String(previous.chunks).padStart(6, '0')}.${this.format.extension}`;
    // The part is written before the checkpoint names it: a crash in between rewrites the same key.
    await this.store.put(key, this.format.encode(write.table.columns, rows));
    const next: StoredCheckpoint = {
      taskId: write.taskId,
      cursor: write.range.upTo,
      rowsRead: previous.rowsRead + chunk.rowsRead(),
      rowsWritten: previous.rowsWritten + rows.length,
      chunks: previous.chunks + 1,
      baselineRows: stored.baselineRows,
      parts: [...stored.parts.filter((p) => p.key !== key), { key, rows: rows.length }],
    };
    await this.store.put(checkpointKey(targetRef), JSON.stringify(next));
    return next;
  }

  async finish(taskId: string, table: TableMeta, targetRef: TableRef): Promise<void> {
    const stored = await this.readStoredCheckpoint(taskId, targetRef);
    if (!stored) throw new MigrationError(ErrorCode.Internal, `no checkpoint for ${taskId}`);
    const manifest: Manifest = {
      table: targetRef,
      format: this.format.extension,
      columns: table.columns,
      primaryKey: table.primaryKey,
      rows: stored.parts.reduce((sum, p) => sum + p.rows, 0),
      parts: stored.parts,
    };
    await this.store.put(manifestKey(targetRef), JSON.stringify(manifest, null, 2));
  }

  async count(targetRef: TableRef): Promise<number> {
    const manifest = await this.readManifest(targetRef);
    if (!manifest)
      throw new MigrationError(ErrorCode.TableNotFound, `no manifest at ${manifestKey(targetRef)}`);
    let rows = 0;
    for (const part of manifest.parts) {
      const body = await this.store.get(part.key);
      if (!body)
        throw new MigrationError(
          ErrorCode.VerificationFailed,
          `part ${part.key} listed in the manifest is missing`,
        );
      rows += countRecords(body.toString('utf8'), manifest.format);
    }
    return rows;
  }

  async close(): Promise<void> {}

  private async readStoredCheckpoint(taskId: string, ref: TableRef): Promise<StoredCheckpoint | null> {
    const body = await this.store.get(checkpointKey(ref));
    if (!body) return null;
    const stored = JSON.parse(body.toString('utf8')) as StoredCheckpoint;
    return stored.taskId === taskId ? stored : null;
  }

  private async readManifest(ref: TableRef): Promise<Manifest | null> {
    const body = await this.store.get(manifestKey(ref));
    return body ? (JSON.parse(body.toString('utf8')) as Manifest) : null;
  }
}

/** A short stable hash of the task id, so parts of different jobs never share a name. */
function taskHash(taskId: string): string {
  return createHash('sha256').update(taskId).digest('hex').slice(0, 8);
}

/** Counts the records of a part by reading it, independently of the checkpoint's own numbers. */
export function countRecords(text: string, format: string): number {
  if (format === 'jsonl') return text.split('\n').filter((line) => line.length > 0).length;
  // CSV: newlines inside quotes belong to a value; the header is not a record.
  let records = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '\n' && !quoted) records++;
  }
  return Math.max(0, records - 1);
}
