import {
  ChunkEncoding,
  type ChunkRange,
  type ChunkStream,
  type KeyTuple,
  type Row,
  type Source,
} from './connector';
import type { TableMeta } from './table';
import { mapRows } from './row-batches';

/**
 * The upper bound that stands for "the whole table": a table with no primary key cannot be split
 * by key, so it is copied as one chunk. That chunk commits atomically with its checkpoint like any
 * other, so a failure rolls it back and the retry copies the table again from the start.
 */
export const wholeTable: KeyTuple = [];

/** Whether a range is the single chunk of a keyless table. */
export function isWholeTable(range: ChunkRange): boolean {
  return range.upTo.length === 0;
}

/**
 * Rows per chunk: the spec's row count, lowered so that rows of the table's average size
 * (from its statistics) fit in `chunkBytes`, so one chunk of 10 MB rows never fills the memory.
 */
export function rowsPerChunk(
  limits: { chunkRows: number; chunkBytes?: number },
  table: Pick<TableMeta, 'estimatedRows' | 'estimatedBytes'>,
): number {
  if (!limits.chunkBytes || table.estimatedRows <= 0 || table.estimatedBytes <= 0) return limits.chunkRows;
  const rowBytes = table.estimatedBytes / table.estimatedRows;
  return Math.max(1, Math.min(limits.chunkRows, Math.floor(limits.chunkBytes / rowBytes)));
}

/** Rows read to measure a table's row width before its first chunk. */
const sampleRows = 8;
/** The sample stops once it has read this much. */
const sampleBytes = 1024 * 1024;

/**
 * Rows per chunk for one table's copy, so that a chunk stays near `chunkBytes` of data.
 *
 * Statistics alone cannot say how wide rows are: a table that was never analysed has none, and
 * PostgreSQL counts TOASTed values compressed (10 MB of repetitive text can take 100 KB on disk).
 * So the width is measured: before the first chunk from a small sample of the rows after the
 * cursor (read and dropped, never written), then from the bytes each committed chunk read. Each
 * chunk is then `chunkBytes` ÷ the widest of the statistics' and the last measured average row,
 * at most `chunkRows`. Rows of ordinary width keep `chunkRows`, so chunk boundaries do not move.
 */
export class ChunkSizer {
  /** Average bytes per row of the last measurement; 0 before any. */
  private measuredRowBytes = 0;
  private sampled = false;

  constructor(
    private readonly limits: { chunkRows: number; chunkBytes?: number },
    private readonly table: TableMeta,
  ) {}

  /** The most rows the next chunk may hold. */
  async next(source: Source, after: KeyTuple | null, encoding: ChunkEncoding): Promise<number> {
    const { chunkRows, chunkBytes } = this.limits;
    const fromStatistics = rowsPerChunk(this.limits, this.table);
    // Keyless tables are one chunk, and object-store parts are chunks of their own: nothing to size.
    if (!chunkBytes || this.table.primaryKey.length === 0 || source.chunksByPart) return fromStatistics;
    if (!this.sampled) {
      this.sampled = true;
      const sample = await sampleRowBytes(source, this.table, after, encoding);
      if (sample) this.measuredRowBytes = sample;
    }
    if (this.measuredRowBytes <= 0) return fromStatistics;
    return Math.max(1, Math.min(chunkRows, fromStatistics, Math.floor(chunkBytes / this.measuredRowBytes)));
  }

  /** The measured average bytes per row; 0 before any measurement. */
  get rowBytes(): number {
    return this.measuredRowBytes;
  }

  /** Records what a committed chunk read, for the size of the next one. */
  observe(rows: number, bytes: number): void {
    if (rows > 0 && bytes > 0) this.measuredRowBytes = bytes / rows;
  }
}

/**
 * The ranges of one table's chunks, one after another. The bound query of the next range needs only
 * the current range's last key, so it runs while the current chunk is written: chunks then follow
 * each other without that round trip between them (it took 15–40 ms a chunk). A range found ahead
 * is used only if the sizer, which learns from each committed chunk, still asks for as many rows.
 */
export class ChunkRanges {
  private ahead: { after: KeyTuple; maxRows: number; range: Promise<ChunkRange | null> } | undefined;

  constructor(
    private readonly source: Source,
    private readonly table: TableMeta,
    private readonly sizer: ChunkSizer,
    private readonly encoding: ChunkEncoding,
  ) {}

  /** The chunk after `after`, or null when no rows remain; starts finding the one after it. */
  async next(after: KeyTuple | null): Promise<ChunkRange | null> {
    const maxRows = await this.sizer.next(this.source, after, this.encoding);
    const ahead = this.ahead;
    this.ahead = undefined;
    const usable = ahead && ahead.maxRows === maxRows && after !== null && sameKey(ahead.after, after);
    const range = usable ? await ahead.range : await this.source.nextChunk(this.table, after, maxRows);
    if (range) {
      const found = this.source.nextChunk(this.table, range.upTo, maxRows);
      // Awaited by the next call; one that never comes (a failed write) must not crash the worker.
      found.catch(() => undefined);
      this.ahead = { after: range.upTo, maxRows, range: found };
    }
    return range;
  }
}

const sameKey = (a: KeyTuple, b: KeyTuple): boolean =>
  a.length === b.length && a.every((value, i) => value === b[i]);

/**
 * The average bytes per row of up to {@link sampleRows} rows after `after`, read and dropped; null
 * when none remain. It stops at {@link sampleBytes}: one 10 MB row says enough, and reading eight
 * of them only to drop them would cost the worker 80 MB of garbage before its first chunk.
 */
async function sampleRowBytes(
  source: Source,
  table: TableMeta,
  after: KeyTuple | null,
  encoding: ChunkEncoding,
): Promise<number | null> {
  const range = await source.nextChunk(table, after, sampleRows);
  if (!range) return null;
  // COPY binary has no line ends to count; the table's COPY text is as wide.
  const sampled = encoding === ChunkEncoding.PgCopyBinary ? ChunkEncoding.PgCopyText : encoding;
  const chunk = await source.read(table, range, sampled);
  let rows = 0;
  let bytes = 0;
  let stopped = false;
  try {
    if (!('stream' in chunk.data)) {
      for await (const row of chunk.data.rows) {
        rows++;
        bytes += approximateRowBytes(row);
        if (bytes >= sampleBytes) {
          stopped = true;
          break;
        }
      }
    } else {
      // COPY text: every row ends with a newline byte, and values escape theirs.
      for await (const piece of chunk.data.stream as AsyncIterable<Buffer>) {
        bytes += piece.length;
        for (let at = piece.indexOf(10); at !== -1; at = piece.indexOf(10, at + 1)) rows++;
        if (bytes >= sampleBytes && rows > 0) {
          stopped = true;
          break;
        }
      }
    }
  } finally {
    // A read stopped early leaves its connection in the middle of a result: closed, not reused.
    chunk.release(stopped ? new Error('row-width sample read enough') : undefined);
  }
  return rows > 0 ? bytes / rows : null;
}

/** A cheap size estimate of a row's values: exact for strings and bytes, which dominate wide rows. */
export function approximateRowBytes(row: Row): number {
  let bytes = 0;
  for (const value of row) {
    if (typeof value === 'string') bytes += value.length;
    else if (Buffer.isBuffer(value)) bytes += value.length;
    else bytes += 8;
  }
  return bytes;
}

/**
 * The chunk with a `bytesRead` for sources that do not count bytes themselves: the approximate
 * size of the rows read so far (for chunk sizing, progress and throttling).
 */
export function countingBytes(chunk: ChunkStream): ChunkStream {
  if (chunk.bytesRead || 'stream' in chunk.data) return chunk;
  let bytes = 0;
  const rows = mapRows(chunk.data.rows, (row) => {
    bytes += approximateRowBytes(row);
    return row;
  });
  return {
    ...chunk,
    data: { ...chunk.data, rows },
    rowsRead: () => chunk.rowsRead(),
    bytesRead: () => bytes,
    release: (error) => chunk.release(error),
  };
}

/**
 * Finds the next keyset chunk with an engine's bound query: the key `maxRows - 1` rows after
 * `after`, else (fewer rows remain) the last key. `bound(after, offset, descending)` returns the key
 * at that offset in key order, or null when there is none.
 */
export async function nextKeysetChunk(
  table: TableMeta,
  after: KeyTuple | null,
  maxRows: number,
  bound: (after: KeyTuple | null, offset: number, descending: boolean) => Promise<KeyTuple | null>,
): Promise<ChunkRange | null> {
  if (table.primaryKey.length === 0) return after === null ? { after: null, upTo: wholeTable } : null;
  const upTo = (await bound(after, maxRows - 1, false)) ?? (await bound(after, 0, true));
  return upTo ? { after, upTo } : null;
}
