import type { ChunkRange, KeyTuple } from './connector';
import type { TableMeta } from './table';

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
