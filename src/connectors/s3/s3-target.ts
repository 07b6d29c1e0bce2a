import {
  ChunkEncoding,
  type Checkpoint,
  type ChunkWrite,
  type PrepareRequest,
  type PrepareResult,
  type Target,
} from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import { storedColumn, tableLabel, type TableMeta, type TableRef } from '../../core/table';
import type { ObjectStore } from './object-store';
import type { PartFormat } from './s3-format';
import { hiveKeysFor, partitionWithLayout, putPart, writeHiveChunk } from './s3-hive';
import {
  checkpointKey,
  countTableRows,
  hiveFolder,
  hiveNullToken,
  manifestKey,
  partKey,
  partNamePrefix,
  readManifest,
  tablePrefix,
  type Manifest,
  type PartEntry,
} from './s3-layout';

/** The checkpoint object: the task's progress, its Hive folder keys and the parts it committed. */
interface StoredCheckpoint extends Checkpoint {
  parts: PartEntry[];
  /** The Hive folder keys, fixed when the task was prepared. */
  partitionBy?: string[];
}

/** The checkpoint without its part list, which can be long and never needs to leave the target. */
const publicCheckpoint = ({
  parts: _parts,
  partitionBy: _partitionBy,
  ...checkpoint
}: StoredCheckpoint): Checkpoint => checkpoint;

/**
 * Writes tables as part files in an object store. Chunk k of a task is always the same
 * object (with Hive folders: one object per folder), so rewriting it after a crash overwrites
 * instead of duplicating.
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
    const partitionBy = hiveKeysFor(request);
    const statements: string[] = [];
    const prefix = tablePrefix(targetRef);
    const present = await this.store.list(prefix);
    if (present.length === 0 && request.createMode === 'never') {
      throw new MigrationError(
        ErrorCode.TableNotFound,
        `nothing exists at ${prefix} and createMode is "never"`,
        { table: tableLabel(targetRef) },
      );
    }
    const previousManifest = await readManifest(this.store, targetRef);
    const keepOld = request.writeMode === 'append' && request.createMode !== 'recreate';
    if (!keepOld) {
      const doomed = await this.replacedObjects(targetRef, present);
      if (doomed.length > 0) {
        statements.push(`delete ${doomed.length} object(s) ${describeDoomed(targetRef, prefix)}`);
        if (!options.dryRun) await this.store.delete(doomed);
      }
    }
    const kept = keepOld ? (previousManifest?.parts ?? []) : [];
    const folders = (keys: string[] | undefined): string => (keys?.length ? keys.join(', ') : 'none');
    if (keepOld && previousManifest && folders(previousManifest.partitionBy) !== folders(partitionBy)) {
      throw new MigrationError(
        ErrorCode.TargetConflict,
        `${tableLabel(targetRef)} was written with Hive folders ${folders(previousManifest.partitionBy)}; appending with ${folders(partitionBy)} would mix layouts: append with the same partitionBy, or overwrite`,
        { table: tableLabel(targetRef) },
      );
    }
    const checkpoint: StoredCheckpoint = {
      taskId: request.taskId,
      cursor: null,
      rowsRead: 0,
      rowsWritten: 0,
      chunks: 0,
      baselineRows: kept.reduce((sum, p) => sum + p.rows, 0),
      completed: false,
      parts: kept,
      ...(partitionBy.length ? { partitionBy } : {}),
    };
    const manifest = manifestKey(targetRef).slice(prefix.length);
    statements.push(
      partitionBy.length
        ? `write ${this.format.extension} parts into Hive folders ${prefix}${folderPattern(request, partitionBy)} (NULL: ${hiveNullToken}), then ${manifest}`
        : `write ${this.format.extension} parts under ${prefix}, then ${manifest}`,
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
      const keyOf = (folder: string): string =>
        partKey(targetRef, write.taskId, previous.chunks, this.format.extension, folder);
      // The parts are written before the checkpoint names them: a crash in between rewrites the same keys.
      const written: PartEntry[] = stored.partitionBy
        ? await writeHiveChunk({
            store: this.store,
            format: this.format,
            table: write.table,
            keys: stored.partitionBy,
            partitionName: targetRef.partition,
            rows: chunk.data.rows,
            keyOf,
          })
        : [
            {
              key: keyOf(''),
              ...(await putPart(this.store, keyOf(''), this.format, write.table.columns, chunk.data.rows)),
            },
          ];
      const rows = written.reduce((sum, p) => sum + p.rows, 0);
      if (chunk.rowsRead() !== rows) {
        throw new MigrationError(
          ErrorCode.Internal,
          `chunk read ${chunk.rowsRead()} rows but wrote ${rows}`,
          {
            table: tableLabel(targetRef),
          },
        );
      }
      const keys = new Set(written.map((p) => p.key));
      const next: StoredCheckpoint = {
        ...stored,
        cursor: write.range.upTo,
        rowsRead: previous.rowsRead + chunk.rowsRead(),
        rowsWritten: previous.rowsWritten + rows,
        chunks: previous.chunks + 1,
        completed: false,
        parts: [...stored.parts.filter((p) => !keys.has(p.key)), ...written],
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
    if (stored.partitionBy) {
      // A chunk rewritten after a crash may have spread over other folders than the first time:
      // the parts of this task that no checkpoint lists are leftovers, deleted before the manifest.
      const listed = new Set(stored.parts.map((p) => p.key));
      const ours = `/${partNamePrefix(taskId)}`;
      const stray: string[] = [];
      for (const folder of taskFolders(table, targetRef, stored.partitionBy))
        stray.push(...(await this.store.list(folder)).filter((k) => k.includes(ours) && !listed.has(k)));
      if (stray.length > 0) await this.store.delete(stray);
    }
    const manifest: Manifest = {
      table: targetRef,
      format: this.format.extension,
      sourceEngine: table.engine,
      columns: table.columns.map(storedColumn),
      primaryKey: table.primaryKey,
      rows: stored.parts.reduce((sum, p) => sum + p.rows, 0),
      ...(stored.partitionBy ? { partitionBy: stored.partitionBy } : {}),
      ...(table.partition && targetRef.partition !== undefined
        ? { sourcePartition: { name: targetRef.partition, ...partitionWithLayout(table) } }
        : {}),
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

  /**
   * What an overwrite deletes before a task writes: the whole table's folder; for the task of one
   * partition, only what that partition's last manifest and checkpoint list (other partitions of the
   * table stay). A whole-table manifest in the folder would hold that partition's old rows too, and
   * cannot be edited safely while other partitions are written: the partition task refuses it.
   */
  private async replacedObjects(ref: TableRef, present: string[]): Promise<string[]> {
    if (ref.partition === undefined) return present;
    const whole = manifestKey({ schema: ref.schema, name: ref.name });
    if (present.includes(whole))
      throw new MigrationError(
        ErrorCode.TargetConflict,
        `${tablePrefix(ref)} holds a whole-table copy (${whole.slice(tablePrefix(ref).length)}); writing partition ${ref.partition} beside it would duplicate its rows: overwrite the whole table with kind "tables", or delete the folder`,
        { table: tableLabel(ref), path: whole },
      );
    const manifest = await readManifest(this.store, ref);
    const body = await this.store.get(checkpointKey(ref));
    const checkpoint = body ? (JSON.parse(body.toString('utf8')) as StoredCheckpoint) : null;
    const keys = new Set([
      ...(manifest?.parts ?? []).map((p) => p.key),
      ...(checkpoint?.parts ?? []).map((p) => p.key),
      manifestKey(ref),
    ]);
    return present.filter((k) => keys.has(k));
  }

  private async readStoredCheckpoint(taskId: string, ref: TableRef): Promise<StoredCheckpoint | null> {
    const body = await this.store.get(checkpointKey(ref));
    if (!body) return null;
    const stored = JSON.parse(body.toString('utf8')) as StoredCheckpoint;
    // Checkpoints written before `completed` existed lack it.
    return stored.taskId === taskId ? { ...stored, completed: stored.completed ?? false } : null;
  }
}

/** The folders a task writes, as `mms plan` shows them: `region=<region>/`, or `partition=<its name>/`. */
function folderPattern(request: PrepareRequest, keys: string[]): string {
  const names = request.table.columns.map((c) => c.name);
  return hiveFolder(
    keys,
    keys.map((k) => (names.includes(k) ? `<${k}>` : (request.targetRef.partition ?? null))),
  );
}

/**
 * Where a task's leftover parts can be, so that looking for them lists only that: a source
 * partition's own folder (`partition=<name>/`, the one folder all its rows go to), else the whole
 * table folder.
 */
function taskFolders(table: TableMeta, ref: TableRef, keys: string[]): string[] {
  const prefix = tablePrefix(ref);
  const byName = keys.length === 1 && !table.columns.some((c) => c.name === keys[0]);
  return byName && ref.partition !== undefined ? [prefix + hiveFolder(keys, [ref.partition])] : [prefix];
}

/** Says what an overwrite deletes: a partition's previous parts, or everything under the table's folder. */
function describeDoomed(ref: TableRef, prefix: string): string {
  return ref.partition === undefined
    ? `under ${prefix}`
    : `of partition ${ref.partition} written before under ${prefix}`;
}
