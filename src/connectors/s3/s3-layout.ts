import { createHash } from 'node:crypto';
import { ErrorCode, MigrationError } from '../../core/errors';
import { tableLabel, type ColumnMeta, type PartitionInfo, type TableRef } from '../../core/table';
import type { ObjectStore } from './object-store';
import { formatNamed } from './s3-format';

/**
 * Where things live in an object store, as pure functions:
 * `<schema>/<table>/[k=v/…]part-<task hash>-<chunk>.<ext>`, plus `_manifest.json` and
 * `_mms_checkpoint.json` in the table's folder. A task that writes one partition of a table shares the
 * table's folder: its manifest and checkpoint are `_manifest.<partition>.json` and
 * `_mms_checkpoint.<partition>.json`, and the table is the union of its manifests.
 */

/** The folder value Hive (and Spark) write for NULL. */
export const hiveNullToken = '__HIVE_DEFAULT_PARTITION__';

/** The folder key of a partition that is not split by column values: `partition=<source partition name>/`. */
export const partitionNameKey = 'partition';

/** One part of a table, as the checkpoint and the manifest list it. */
export interface PartEntry {
  /** The object key, relative to the store. */
  key: string;
  /** Rows in the part. */
  rows: number;
  /** Bytes of the part object. */
  bytes?: number;
  /** The part's Hive folder values by the manifest's `partitionBy` names; null is NULL. */
  partition?: Record<string, string | null>;
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
  /**
   * The Hive folder keys, outermost first: column names, whose values live only in the folder names
   * (not in the parts), or `partition` when the parts of a source partition are kept under its name.
   */
  partitionBy?: string[];
  /** For the manifest of one source partition: how it hung off its parent, so a reader can recreate it. */
  sourcePartition?: PartitionInfo & { name: string };
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

/** The folder of a table, ending in `/`; the tasks of its partitions write into it too. */
export function tablePrefix(ref: TableRef): string {
  return `${keySegment(ref.schema)}/${keySegment(ref.name)}/`;
}

/** `<name>.json`, or `<name>.<partition>.json` for the task of one partition. */
const perTask = (ref: TableRef, name: string): string =>
  `${tablePrefix(ref)}${name}${ref.partition === undefined ? '' : `.${keySegment(ref.partition)}`}.json`;

/** The manifest a task writes last: the whole table's, or one partition's. */
export function manifestKey(ref: TableRef): string {
  return perTask(ref, '_manifest');
}

/** The checkpoint object of the task writing a table or one partition of it. */
export function checkpointKey(ref: TableRef): string {
  return perTask(ref, '_mms_checkpoint');
}

/** Characters Hive escapes in folder names (FileUtils.escapePathName), so Spark and Hive read the same values. */
// eslint-disable-next-line no-control-regex -- Hive escapes the control characters too
const hiveEscaped = /[\x00-\x1f"#%'*/:=?\\\x7f{[\]^]/g;

/** Escapes a Hive folder key or value as Hive does: `%XX` for a few ASCII characters, everything else as is. */
export function hiveEscape(text: string): string {
  return text.replace(hiveEscaped, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The text a Hive folder key or value stands for (inverse of {@link hiveEscape}). */
export function hiveUnescape(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The Hive folders of one tuple of values, each `key=value/`, outermost first: escaped as Hive does,
 * NULL as `__HIVE_DEFAULT_PARTITION__` (the text `__HIVE_DEFAULT_PARTITION__` as `%5F_HIVE_DEFAULT_PARTITION__`),
 * the empty string as an empty value (`key=/`).
 */
export function hiveFolder(keys: readonly string[], values: readonly (string | null)[]): string {
  return keys
    .map((key, i) => {
      const value = values[i] ?? null;
      // A real value spelled like the NULL token gets its first character escaped, so it stays a value.
      const text =
        value === hiveNullToken ? `%5F${value.slice(1)}` : value === null ? hiveNullToken : hiveEscape(value);
      return `${hiveEscape(key)}=${text}/`;
    })
    .join('');
}

/** The keys and values of Hive folders such as `region=eu/day=2024-01-01/` (inverse of {@link hiveFolder}). */
export function parseHiveFolder(folder: string): { key: string; value: string | null }[] {
  return folder
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      const eq = segment.indexOf('=');
      if (eq < 0) throw new Error(`"${segment}" is not a Hive folder (key=value)`);
      const value = segment.slice(eq + 1);
      return {
        key: hiveUnescape(segment.slice(0, eq)),
        value: value === hiveNullToken ? null : hiveUnescape(value),
      };
    });
}

/** The Hive folders of a part, from its values by the manifest's `partitionBy` (`''` without). */
export function partFolder(partitionBy: readonly string[] | undefined, part: PartEntry): string {
  return partitionBy?.length
    ? hiveFolder(
        partitionBy,
        partitionBy.map((k) => part.partition?.[k] ?? null),
      )
    : '';
}

/** A short stable hash of the task id, so parts of different jobs never share a name. */
export function taskHash(taskId: string): string {
  return createHash('sha256').update(taskId).digest('hex').slice(0, 8);
}

/** What every part of a task's name starts with, after its folders: `part-<task hash>-`. */
export function partNamePrefix(taskId: string): string {
  return `part-${taskHash(taskId)}-`;
}

/**
 * The key of chunk `chunkIndex` of a task in one Hive folder (see {@link hiveFolder}; `''` for none):
 * the same inputs always give the same key, so a rewritten chunk overwrites its parts.
 */
export function partKey(ref: TableRef, taskId: string, chunkIndex: number, ext: string, folder = ''): string {
  return `${tablePrefix(ref)}${folder}${partNamePrefix(taskId)}${String(chunkIndex).padStart(6, '0')}.${ext}`;
}

/** Reads the manifest one task wrote (see {@link manifestKey}), or null when it never finished. */
export async function readManifest(store: ObjectStore, ref: TableRef): Promise<Manifest | null> {
  const body = await store.get(manifestKey(ref));
  return body ? (JSON.parse(body.toString('utf8')) as Manifest) : null;
}

/** Whether a key in a table's folder is one of its manifests: `_manifest.json` or `_manifest.<partition>.json`. */
const isManifestName = (name: string): boolean => /^_manifest(\.[^/]+)?\.json$/.test(name);

/**
 * A table as readers see it: the union of the manifests in its folder (the whole table's, or one per
 * partition task), or null when none is finished. With `ref.partition`: that partition task's
 * manifest, or else the parts in the Hive folder of that name (`region=eu`), or null when none.
 */
export async function readTable(store: ObjectStore, ref: TableRef): Promise<Manifest | null> {
  if (ref.partition !== undefined) {
    const own = await readManifest(store, ref);
    if (own) return own;
    const whole = await readTable(store, { schema: ref.schema, name: ref.name });
    const folder = `${ref.partition}/`;
    const parts = whole?.parts.filter((p) => partFolder(whole.partitionBy, p) === folder) ?? [];
    if (!whole || parts.length === 0) return null;
    return { ...whole, table: ref, rows: parts.reduce((sum, p) => sum + p.rows, 0), parts };
  }
  const prefix = tablePrefix(ref);
  const keys = (await store.list(`${prefix}_manifest`)).filter((k) => isManifestName(k.slice(prefix.length)));
  const manifests: Manifest[] = [];
  for (const key of keys.sort()) {
    const body = await store.get(key);
    if (body) manifests.push(JSON.parse(body.toString('utf8')) as Manifest);
  }
  const [first, ...others] = manifests;
  if (!first) return null;
  const shape = (m: Manifest): string =>
    JSON.stringify([m.format, m.columns.map((c) => c.name), m.partitionBy ?? []]);
  const odd = others.find((m) => shape(m) !== shape(first));
  if (odd)
    throw new MigrationError(
      ErrorCode.VerificationFailed,
      `the manifests in ${prefix} disagree on format, columns or partition folders (${tableLabel(first.table)} and ${tableLabel(odd.table)})`,
      { table: tableLabel(ref), path: prefix },
    );
  if (others.length === 0) return first;
  const parts = manifests.flatMap((m) => m.parts);
  return { ...first, table: ref, rows: parts.reduce((sum, p) => sum + p.rows, 0), parts };
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

/** Counts a table's rows by reading every part its manifests list, independently of the manifests' numbers. */
export async function countTableRows(store: ObjectStore, ref: TableRef): Promise<number> {
  const manifest = await readTable(store, ref);
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
