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
import { matchesSelection } from '../../core/selection';
import { storedColumn, tableLabel, type TableMeta } from '../../core/table';
import type { ObjectStore } from './object-store';
import { formatNamed } from './s3-format';
import {
  countTableRows,
  fromKeySegment,
  keySegment,
  readManifest,
  readPart,
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
    // Folder names only: the parts inside the table folders are never listed.
    const names = (await this.store.listFolders(`${keySegment(selection.schema)}/`))
      .map(fromKeySegment)
      .filter((name) => (after === null || name > after) && matchesSelection(name, selection))
      .sort();
    const page = names.slice(0, pageSize);
    const tables: TableMeta[] = [];
    for (const name of page) {
      const manifest = await readManifest(this.store, { schema: selection.schema, name });
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
    let rowsRead = 0;
    const rows = (async function* (): AsyncGenerator<Row> {
      // The part is held while it is decoded; its size is bounded by the writer's chunk size.
      for await (const row of format.decode(table.columns, await readPart(store, part.key))) {
        rowsRead++;
        yield row;
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

  private async manifest(table: TableMeta): Promise<Manifest> {
    const manifest = await readManifest(this.store, table.ref);
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
