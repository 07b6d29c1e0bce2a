import {
  addChecksums,
  emptyChecksum,
  RowChecksum,
  rowCanonicalizer,
  sameChecksum,
  type Checksum,
} from './checksum';
import { ChunkEncoding, type ChunkRange, type KeyTuple, type Row, type Source } from './connector';
import type { LogicalType } from './logical-types';
import type { TableMeta } from './table';

/*
 * Compares a source table with its target, engine-agnostically, through the Source contract (the
 * target is opened as a Source too). Ranges are the source's own chunk ranges, so a mismatch points
 * at a key range; a mismatching range is halved by key (nextChunk with half the rows) down to at
 * most `leafRows` source rows, whose rows are then compared by primary key.
 */

/** One side of a comparison: where it reads from, and its tables with columns in the canonical order. */
export interface CompareSide {
  source: Source;
  /** One table, or the members of a shard set (compared as a whole). */
  tables: readonly TableMeta[];
}

/** A row that differs, by its primary key's canonical texts. */
export interface DifferingKey {
  /** missing: in the source only; extra: in the target only; changed: in both with other values. */
  kind: 'missing' | 'extra' | 'changed';
  key: string[];
  /** For `changed`: the columns whose values differ. */
  columns?: string[];
}

/** A comparison's progress and findings: small, so it can be heartbeated and resumed from. */
export interface CompareState {
  /** The source key up to which every range has been compared; null before the first. */
  after: KeyTuple | null;
  done: boolean;
  /** Top-level ranges compared; a whole-table comparison counts as one. */
  ranges: number;
  /** Top-level ranges whose checksums differed. */
  rangesDiffering: number;
  source: Checksum;
  target: Checksum;
  /** Differing rows found by narrowing (a lower bound when `narrowed` is false). */
  missing: number;
  extra: number;
  changed: number;
  /** The first differing rows, up to the reporting limit. */
  keys: DifferingKey[];
  /** False when some differences were not narrowed down to rows (key limit, or no key ranges). */
  narrowed: boolean;
  /** The key ranges a repair must re-copy; absent when the differences cannot be repaired by range. */
  repairRanges?: ChunkRange[];
}

/** How to compare. */
export interface CompareOptions {
  /** The canonical (source) logical type of each column, in column order. */
  types: LogicalType[];
  /** Column names, for reporting changed columns. */
  columnNames: string[];
  /** Positions of the primary-key columns. */
  keyIndexes: number[];
  /** Whether both sides select rows by primary-key range; otherwise whole tables are compared. */
  byKey: boolean;
  /** Rows per top-level range: the copy's chunk size. */
  rangeRows: number;
  /** Ranges of at most this many source rows are compared row by row. */
  leafRows: number;
  /** Differing keys reported at most. */
  maxKeys: number;
  /** Differing ranges kept for a repair at most. */
  maxRepairRanges: number;
  /** Called before each top-level range: heartbeat and cancellation point. */
  onProgress?(state: CompareState): void;
}

/** The state a comparison starts from. */
export function initialCompareState(): CompareState {
  return {
    after: null,
    done: false,
    ranges: 0,
    rangesDiffering: 0,
    source: emptyChecksum,
    target: emptyChecksum,
    missing: 0,
    extra: 0,
    changed: 0,
    keys: [],
    narrowed: true,
    repairRanges: [],
  };
}

/** Whether a comparison found the two sides equal. */
export function compareMatched(state: CompareState): boolean {
  return state.done && state.rangesDiffering === 0 && sameChecksum(state.source, state.target);
}

/** A side can run checksums in its engine until one table says it cannot; then it hashes rows in JS. */
class SideReader {
  private inEngine = true;

  constructor(
    readonly side: CompareSide,
    private readonly types: LogicalType[],
  ) {}

  get table(): TableMeta {
    return this.side.tables[0]!;
  }

  async checksum(range: ChunkRange, table = this.table): Promise<Checksum> {
    if (this.inEngine && this.side.source.checksum) {
      const sum = await this.side.source.checksum(table, range, this.types);
      if (sum) return sum;
      this.inEngine = false;
    }
    const sum = new RowChecksum(this.types);
    await this.eachRow(range, (row) => sum.add(row), table);
    return sum.result();
  }

  async eachRow(range: ChunkRange, use: (row: Row) => void, table = this.table): Promise<void> {
    const chunk = await this.side.source.read(table, range, ChunkEncoding.Rows);
    try {
      if (chunk.data.encoding !== ChunkEncoding.Rows) throw new Error('asked for rows, got bytes');
      for await (const row of chunk.data.rows) use(row);
      chunk.release();
    } catch (e) {
      chunk.release(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  }
}

/**
 * Compares source and target, continuing from `state` (a resumed attempt skips the ranges it did).
 * Returns the final state; {@link compareMatched} tells whether they agree.
 */
export async function compareTables(
  sourceSide: CompareSide,
  targetSide: CompareSide,
  options: CompareOptions,
  state: CompareState = initialCompareState(),
): Promise<CompareState> {
  const source = new SideReader(sourceSide, options.types);
  const target = new SideReader(targetSide, options.types);
  if (!options.byKey) return compareWhole(source, target, options, state);
  const canonical = rowCanonicalizer(options.types);
  const keyOf = (texts: (string | null)[]): string[] => options.keyIndexes.map((i) => texts[i] ?? '');

  const report = (found: DifferingKey): void => {
    state[found.kind]++;
    if (state.keys.length < options.maxKeys) state.keys.push(found);
  };
  const needsRepair = (range: ChunkRange): void => {
    if (state.repairRanges && state.repairRanges.length < options.maxRepairRanges)
      state.repairRanges.push(range);
    else delete state.repairRanges;
  };

  /** Compares the rows of a small range by primary key; the source side is held in memory. */
  const diffRows = async (range: ChunkRange): Promise<void> => {
    const expected = new Map<string, (string | null)[]>();
    await source.eachRow(range, (row) => {
      const texts = canonical(row);
      expected.set(JSON.stringify(keyOf(texts)), texts);
    });
    await target.eachRow(range, (row) => {
      const texts = canonical(row);
      const id = JSON.stringify(keyOf(texts));
      const want = expected.get(id);
      if (!want) return report({ kind: 'extra', key: keyOf(texts) });
      expected.delete(id);
      const columns = options.columnNames.filter((_, i) => want[i] !== texts[i]);
      if (columns.length) report({ kind: 'changed', key: keyOf(texts), columns });
    });
    for (const texts of expected.values()) report({ kind: 'missing', key: keyOf(texts) });
  };

  /** Halves a mismatching range by source key until its rows can be compared one by one. */
  const narrow = async (range: ChunkRange, sourceRows: number): Promise<void> => {
    if (state.keys.length >= options.maxKeys) {
      // Enough keys to report: the rest of this range is repaired whole, not narrowed.
      state.narrowed = false;
      return needsRepair(range);
    }
    const split =
      sourceRows > options.leafRows
        ? await source.side.source.nextChunk(source.table, range.after, Math.ceil(sourceRows / 2))
        : null;
    if (!split) {
      await diffRows(range);
      return needsRepair(range);
    }
    for (const half of [
      { after: range.after, upTo: split.upTo },
      { after: split.upTo, upTo: range.upTo },
    ]) {
      const [s, t] = await Promise.all([source.checksum(half), target.checksum(half)]);
      if (!sameChecksum(s, t)) await narrow(half, s.rows);
    }
  };

  const compareRange = async (range: ChunkRange): Promise<void> => {
    const [s, t] = await Promise.all([source.checksum(range), target.checksum(range)]);
    state.ranges++;
    state.source = addChecksums(state.source, s);
    state.target = addChecksums(state.target, t);
    if (sameChecksum(s, t)) return;
    state.rangesDiffering++;
    await narrow(range, s.rows);
  };

  const nextRange = (after: KeyTuple | null): Promise<ChunkRange | null> => {
    const found = source.side.source.nextChunk(source.table, after, options.rangeRows);
    found.catch(() => undefined); // awaited later; until then a failure must not count as unhandled
    return found;
  };
  let next = nextRange(state.after);
  while (!state.done) {
    options.onProgress?.(state);
    const range = await next;
    if (range) {
      // The next bound is looked up while this range's checksums run.
      next = nextRange(range.upTo);
      await compareRange(range);
      state.after = range.upTo;
      continue;
    }
    // Target rows past the source's last key belong to no source range: one more range holds them all.
    const tail = await target.side.source.nextChunk(target.table, state.after, Number.MAX_SAFE_INTEGER);
    if (tail) await compareRange({ after: state.after, upTo: tail.upTo });
    state.done = true;
  }
  return state;
}

/** Whole tables, when a side cannot select key ranges: each side sums its own chunks; no narrowing. */
async function compareWhole(
  source: SideReader,
  target: SideReader,
  options: CompareOptions,
  state: CompareState,
): Promise<CompareState> {
  const total = async (side: SideReader): Promise<Checksum> => {
    let sum = emptyChecksum;
    for (const table of side.side.tables) {
      let after: KeyTuple | null = null;
      for (;;) {
        options.onProgress?.(state);
        const range = await side.side.source.nextChunk(table, after, options.rangeRows);
        if (!range) break;
        sum = addChecksums(sum, await side.checksum(range, table));
        after = range.upTo;
      }
    }
    return sum;
  };
  const [s, t] = await Promise.all([total(source), total(target)]);
  const matched = sameChecksum(s, t);
  return {
    ...state,
    done: true,
    ranges: 1,
    rangesDiffering: matched ? 0 : 1,
    source: s,
    target: t,
    narrowed: matched,
    repairRanges: undefined,
  };
}

/** How many of the given key ranges still differ: what a repair checks after re-copying them. */
export async function countDifferingRanges(
  sourceSide: CompareSide,
  targetSide: CompareSide,
  types: LogicalType[],
  ranges: ChunkRange[],
  onProgress?: () => void,
): Promise<number> {
  const source = new SideReader(sourceSide, types);
  const target = new SideReader(targetSide, types);
  let differing = 0;
  for (const range of ranges) {
    onProgress?.();
    const [s, t] = await Promise.all([source.checksum(range), target.checksum(range)]);
    if (!sameChecksum(s, t)) differing++;
  }
  return differing;
}
