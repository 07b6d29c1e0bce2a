import { createHash } from 'node:crypto';
import { ErrorCode, MigrationError } from '../../core/errors';
import { tableLabel, type ColumnMeta, type TableRef } from '../../core/table';
import type { ObjectStore } from './object-store';
import { formatNamed } from './s3-format';

/**
 * Where things live in an object store, as pure functions:
 * `<schema>/<table>/[k=v/…]part-<task hash>-<chunk>.<ext>`, plus `_manifest.json` and
 * `_mms_checkpoint.json` in the table's folder.
 */

/** One part of a table, as the checkpoint and the manifest list it. */
export interface PartEntry {
  /** The object key, relative to the store. */
  key: string;
  /** Rows in the part. */
  rows: number;
  /** Bytes of the part object. */
  bytes?: number;
}

/** The manifest: written last, the only thing readers trust. */
export interface Manifest {
  table: TableRef;
  /** The part format's extension: `parquet`, `csv` or `jsonl`. */
  format: string;
  /** The engine the data came from, which gives the columns' `nativeType` its meaning. */
  sourceEngine?: string;
  columns: ColumnMeta[];
  primaryKey: string[];
  rows: number;
  parts: PartEntry[];
}

/**
 * Escapes a name so it is exactly one path segment: `%` and `/` are percent-encoded, and so are the
 * dots of `.` and `..`, which a file system would resolve; everything else stays readable.
 */
export function keySegment(name: string): string {
  const escaped = name.replace(/[%/]/g, encodeURIComponent);
  return escaped === '.' || escaped === '..' ? escaped.replace(/\./g, '%2E') : escaped;
}

/** The name a folder segment stands for (inverse of {@link keySegment}); foreign names stay as they are. */
export function fromKeySegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The folder of a table, ending in `/`; a partition that is not a table of its own (MySQL) gets a folder inside it. */
export function tablePrefix(ref: TableRef): string {
  const partition = ref.partition === undefined ? '' : `${keySegment(ref.partition)}/`;
  return `${keySegment(ref.schema)}/${keySegment(ref.name)}/${partition}`;
}

/** The manifest of a table. */
export function manifestKey(ref: TableRef): string {
  return `${tablePrefix(ref)}_manifest.json`;
}

/** The checkpoint object of the task writing a table. */
export function checkpointKey(ref: TableRef): string {
  return `${tablePrefix(ref)}_mms_checkpoint.json`;
}

/** A short stable hash of the task id, so parts of different jobs never share a name. */
export function taskHash(taskId: string): string {
  return createHash('sha256').update(taskId).digest('hex').slice(0, 8);
}

/**
 * The key of chunk `chunkIndex` of a task: the same inputs always give the same key, so a rewritten
 * chunk overwrites its part. Partition values become Hive-style `k=v/` folders, URL-encoded.
 */
export function partKey(
  ref: TableRef,
  taskId: string,
  chunkIndex: number,
  ext: string,
  partitionValues?: Record<string, string>,
): string {
  const partitions = Object.entries(partitionValues ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}/`)
    .join('');
  return `${tablePrefix(ref)}${partitions}part-${taskHash(taskId)}-${String(chunkIndex).padStart(6, '0')}.${ext}`;
}

/** Reads a table's manifest, or null when the table was never finished. */
export async function readManifest(store: ObjectStore, ref: TableRef): Promise<Manifest | null> {
  const body = await store.get(manifestKey(ref));
  return body ? (JSON.parse(body.toString('utf8')) as Manifest) : null;
}

/** Reads a part the manifest lists; a missing one means the table is damaged. */
export async function readPart(store: ObjectStore, key: string): Promise<Buffer> {
  const body = await store.get(key);
  if (!body)
    throw new MigrationError(ErrorCode.VerificationFailed, `part ${key} listed in the manifest is missing`, {
      path: key,
    });
  return body;
}

/** Counts a table's rows by reading every part its manifest lists, independently of the manifest's numbers. */
export async function countTableRows(store: ObjectStore, ref: TableRef): Promise<number> {
  const manifest = await readManifest(store, ref);
  if (!manifest)
    throw new MigrationError(ErrorCode.TableNotFound, `no manifest at ${manifestKey(ref)}`, {
      table: tableLabel(ref),
    });
  const format = formatNamed(manifest.format);
  let rows = 0;
  // One part in memory at a time.
  for (const part of manifest.parts) rows += await format.count(await readPart(store, part.key));
  return rows;
}
