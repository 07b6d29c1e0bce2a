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
import type { LogicalType } from '../../core/logical-types';
import { matchesSelection } from '../../core/selection';
import { intersectingRanges, type ValueRange } from '../../core/partitions';
import { storedColumn, tableLabel, type PartitionInfo, type TableMeta } from '../../core/table';
import type { ObjectStore } from './object-store';
import { formatNamed, fromText } from './s3-format';
import { hiveShape, withFolderValues } from './s3-hive';
import {
  countTableRows,
  fromKeySegment,
  keySegment,
  partFolder,
  readManifest,
  readPart,
  readTable,
  type Manifest,
} from './s3-layout';

/**
 * Reads tables that an {@link S3Target} wrote, trusting only their manifests. A chunk is one part:
 * its key tuple is `[partKey]`, and the part's rows are read in file order.
 */
export class S3Source implements Source {
  readonly encodings = [ChunkEncoding.Rows] as const;
  /** Chunks are the writer's parts, so verification compares whole tables with other engines. */
  readonly chunksByPart = true;

  constructor(private readonly store: ObjectStore) {}

  async discover(selection: TableSelection, after: string | null, pageSize: number): Promise<DiscoverPage> {
    if (selection.partitions) return this.discoverPartitions(selection, after, pageSize);
    // Folder names only: the parts inside the table folders are never listed.
    const names = (await this.store.listFolders(`${keySegment(selection.schema)}/`))
      .map(fromKeySegment)
      .filter((name) => (after === null || name > after) && matchesSelection(name, selection))
      .sort();
    const page = names.slice(0, pageSize);
    const tables: TableMeta[] = [];
    for (const name of page) {
      const manifest = await readTable(this.store, { schema: selection.schema, name });
      // A folder without a manifest is a table still being written (or not ours): not readable yet.
      if (manifest) tables.push(tableMeta(selection.schema, name, manifest));
    }
    return { tables, nextAfter: names.length > pageSize ? (page[page.length - 1] ?? null) : null };
  }

  async nextChunk(table: TableMeta, after: KeyTuple | null, _maxRows: number): Promise<ChunkRange | null> {
    // The writer already cut the table into parts; re-cutting them would mean reading them twice.
    const { parts } = await this.manifest(table);
    const index = after === null ? 0 : partIndex(parts, after[0], table) + 1;
    const part = parts[index];
    return part ? { after, upTo: [part.key] } : null;
  }

  async read(table: TableMeta, range: ChunkRange, _encoding: ChunkEncoding): Promise<ChunkStream> {
    const manifest = await this.manifest(table);
    const part = manifest.parts[partIndex(manifest.parts, range.upTo[0], table)]!;
    const format = formatNamed(manifest.format);
    const store = this.store;
    // Hive folder columns are not in the parts: their values come from the part's folder.
    const shape = hiveShape(table.columns, manifest.partitionBy ?? []);
    const withValues = withFolderValues(shape, table.columns, part.partition);
    let rowsRead = 0;
    const rows = (async function* (): AsyncGenerator<Row> {
      // The part is held while it is decoded; its size is bounded by the writer's chunk size.
      for await (const row of format.decode(shape.dataColumns, await readPart(store, part.key))) {
        rowsRead++;
        yield withValues(row);
      }
    })();
    return {
      data: { encoding: ChunkEncoding.Rows, rows },
      rowsRead: () => rowsRead,
      release: () => undefined,
    };
  }

  async count(table: TableMeta): Promise<number> {
    return countTableRows(this.store, table.ref);
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  /**
   * The partitions of Hive-partitioned tables: one per folder (`region=eu`, `year=2024/month=3`),
   * chosen by name globs and, with `from` / `to`, by the value of the outermost folder column, compared
   * as a value of the column's type. Each is described as a LIST partition of its folder values.
   */
  private async discoverPartitions(
    selection: TableSelection,
    after: string | null,
    pageSize: number,
  ): Promise<DiscoverPage> {
    const chosen: TableMeta[] = [];
    for (const wanted of selection.partitions ?? []) {
      const ref = { schema: selection.schema, name: wanted.table };
      const manifest = await readTable(this.store, ref);
      const label = tableLabel(ref);
      if (!manifest)
        throw new MigrationError(ErrorCode.TableNotFound, `no table ${label}: no manifest in its folder`, {
          table: label,
        });
      const keys = manifest.partitionBy ?? [];
      if (keys.length === 0)
        throw new MigrationError(
          ErrorCode.BadSpec,
          `${label} has no Hive partition folders (its manifest names no partitionBy): copy it with kind "tables"`,
          { table: label },
        );
      const byValue = wanted.from !== undefined || wanted.to !== undefined;
      const range = folderRange(wanted, label);
      const column = manifest.columns.find((c) => c.name === keys[0]);
      const table = tableMeta(selection.schema, wanted.table, manifest);
      const folders = new Map<string, Manifest['parts']>();
      for (const part of manifest.parts) {
        const folder = partFolder(keys, part).slice(0, -1);
        const listed = folders.get(folder);
        if (listed) listed.push(part);
        else folders.set(folder, [part]);
      }
      for (const [folder, parts] of folders) {
        if (!matchesSelection(folder, { schema: selection.schema, ...wanted })) continue;
        const values = keys.map((k) => parts[0]!.partition?.[k] ?? null);
        if (byValue && column && !inValueRange(values[0] ?? null, column.type, range, label)) continue;
        const real = keys.every((k) => manifest.columns.some((c) => c.name === k));
        const source = real ? null : await this.sourcePartition(ref, values[0] ?? null);
        if (byValue && !column && !(await inSourceRange(source, manifest, wanted, label))) continue;
        const sizes = {
          estimatedRows: parts.reduce((sum, p) => sum + p.rows, 0),
          estimatedBytes: parts.reduce((sum, p) => sum + (p.bytes ?? 0), 0),
        };
        if (source?.layout?.columns) {
          // A source partition's folder (partition=<name>/): it becomes that partition again, with its bound.
          chosen.push({
            ...table,
            ...sizes,
            ref: { ...ref, partition: source.name },
            partition: {
              parent: wanted.table,
              bound: source.bound,
              keyDef: source.keyDef,
              layout: source.layout,
            },
          });
          continue;
        }
        chosen.push({
          ...table,
          ref: { ...ref, partition: folder },
          // A partitioned target needs the folder columns in its key; the rows are unique either way.
          primaryKey: table.primaryKey.length
            ? [...table.primaryKey, ...keys.filter((k) => real && !table.primaryKey.includes(k))]
            : [],
          ...sizes,
          partition: {
            parent: wanted.table,
            bound: folder,
            keyDef: `HIVE (${keys.join(', ')})`,
            // Folders named by a source partition (`partition=p1`) hold no column to partition by.
            ...(real
              ? {
                  layout: {
                    method: 'list' as const,
                    columns: keys,
                    expression: keys.join(', '),
                    values: [values],
                  },
                }
              : {}),
          },
        });
      }
    }
    const cursor = (t: TableMeta): string => `${t.ref.name}/${t.ref.partition ?? ''}`;
    const remaining = chosen
      .filter((t) => after === null || cursor(t) > after)
      .sort((a, b) => (cursor(a) < cursor(b) ? -1 : 1));
    const page = remaining.slice(0, pageSize);
    return {
      tables: page,
      nextAfter: remaining.length > pageSize ? cursor(page[page.length - 1]!) : null,
    };
  }

  /**
   * How the source partition whose folder is `partition=<name>/` hung off its parent, from its own
   * manifest; null when it does not say (or its key is not plain columns) and the folder stays a folder.
   */
  private async sourcePartition(
    ref: { schema: string; name: string },
    name: string | null,
  ): Promise<(PartitionInfo & { name: string }) | null> {
    if (name === null) return null;
    return (await readManifest(this.store, { ...ref, partition: name }))?.sourcePartition ?? null;
  }

  private async manifest(table: TableMeta): Promise<Manifest> {
    const manifest = await readTable(this.store, table.ref);
    if (!manifest)
      throw new MigrationError(ErrorCode.TableNotFound, `no manifest for ${tableLabel(table.ref)}`, {
        table: tableLabel(table.ref),
      });
    return manifest;
  }
}

/** A manifest as table metadata; the columns keep the original engine's `nativeType` (see `sourceEngine`). */
function tableMeta(schema: string, name: string, manifest: Manifest): TableMeta {
  return {
    engine: 's3',
    ref: { schema, name },
    // Manifests written before casts left the manifest carried the writing job's rules.
    columns: manifest.columns.map(storedColumn),
    primaryKey: manifest.primaryKey,
    estimatedRows: manifest.rows,
    estimatedBytes: manifest.parts.reduce((sum, p) => sum + (p.bytes ?? 0), 0),
  };
}

/**
 * Compares two values' texts as values of a column type: numbers by value, booleans false < true,
 * dates, times and text by their text (fixed-width, so in order); -1, 0 or 1. A text that is not a
 * value of the type is BAD_SPEC naming the table.
 */
export function compareAs(type: LogicalType, label: string): (a: string, b: string) => number {
  const compare = (a: string, b: string): number => {
    switch (type.kind) {
      case 'int16':
      case 'int32':
      case 'int64':
        return Math.sign(Number(BigInt(a) - BigInt(b)));
      case 'float32':
      case 'float64':
      case 'decimal': {
        const [x, y] = [Number(a), Number(b)];
        if (Number.isNaN(x) || Number.isNaN(y)) throw new Error('not a number');
        return type.kind === 'decimal' ? compareDecimals(a, b) : Math.sign(x - y);
      }
      case 'boolean':
        return Number(fromText(a, type)) - Number(fromText(b, type));
      default:
        return a < b ? -1 : a > b ? 1 : 0;
    }
  };
  return (a, b) => {
    try {
      return compare(a, b);
    } catch {
      throw new MigrationError(
        ErrorCode.BadSpec,
        `${JSON.stringify(b)} is not a value of ${label}'s folder column (${type.kind})`,
        { table: label },
      );
    }
  };
}

/** A value range over folders: one value at each end (folders are chosen by their outermost value), never a tuple. */
function folderRange(range: ValueRange, label: string): { from?: string; to?: string } {
  const wide = [range.from, range.to].find((tuple) => (tuple?.length ?? 0) > 1);
  if (wide)
    throw new MigrationError(
      ErrorCode.BadSpec,
      `${label}: Hive folders are chosen by one value of their outermost folder column (or of a source partition's key of one column), not by the tuple ${JSON.stringify(wide)}`,
      { table: label },
    );
  return {
    ...(range.from === undefined ? {} : { from: range.from[0] }),
    ...(range.to === undefined ? {} : { to: range.to[0] }),
  };
}

/** Whether a folder value lies in `[from, to)`, compared as a value of the column's type; NULL lies in no range. */
export function inValueRange(
  value: string | null,
  type: LogicalType,
  range: { from?: string; to?: string },
  label: string,
): boolean {
  if (value === null) return false;
  const compare = compareAs(type, label);
  return (
    (range.from === undefined || compare(value, range.from) >= 0) &&
    (range.to === undefined || compare(value, range.to) < 0)
  );
}

/**
 * Whether the RANGE bound of a source partition (one key column) intersects `[from, to)`, compared as
 * the key column's type: the folders of source partitions (`partition=<name>/`) are chosen by value so.
 */
async function inSourceRange(
  source: PartitionInfo | null,
  manifest: Manifest,
  range: ValueRange,
  label: string,
): Promise<boolean> {
  const layout = source?.layout;
  const key = manifest.columns.find((c) => c.name === layout?.columns?.[0]);
  // A partition without a RANGE bound of one column (a DEFAULT one) is chosen by name only.
  if (source && !(layout?.method === 'range' && layout.columns?.length === 1 && key)) return false;
  if (!layout || !key) {
    throw new MigrationError(
      ErrorCode.BadSpec,
      `from/to choose folders by the value of a folder column, or by the bounds of RANGE partitions of one key column; ${label} has neither (its folders: ${manifest.partitionBy?.join(', ')}): choose them by name`,
      { table: label },
    );
  }
  const compare = compareAs(key.type, label);
  const [inside] = await intersectingRanges([{ from: layout.from!, to: layout.to! }], range, (pairs) =>
    Promise.resolve(pairs.map((p) => compare(p.a, p.b))),
  );
  return inside!;
}

/** Compares two decimals in plain notation exactly: -1, 0 or 1. */
function compareDecimals(a: string, b: string): number {
  const parse = (text: string): [bigint, number] => {
    const [whole = '0', fraction = ''] = text.trim().split('.');
    return [BigInt(`${whole}${fraction}`.replace(/^\+/, '') || '0'), fraction.length];
  };
  const [[x, xs], [y, ys]] = [parse(a), parse(b)];
  const scale = Math.max(xs, ys);
  const d = x * 10n ** BigInt(scale - xs) - y * 10n ** BigInt(scale - ys);
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

/** The position of a part in the manifest; a cursor naming an unlisted part means the table was rewritten. */
function partIndex(parts: Manifest['parts'], key: string | undefined, table: TableMeta): number {
  const index = parts.findIndex((p) => p.key === key);
  if (index < 0)
    throw new MigrationError(
      ErrorCode.VerificationFailed,
      `the manifest of ${tableLabel(table.ref)} no longer lists part ${key ?? '(none)'}; the table was rewritten during the copy`,
      { table: tableLabel(table.ref), path: key },
    );
  return index;
}
