import { describe, expect, it } from 'vitest';
import {
  ChunkRanges,
  ChunkSizer,
  countingBytes,
  isWholeTable,
  nextKeysetChunk,
  rowsPerChunk,
} from '../../src/core/chunking';
import {
  ChunkEncoding,
  type ChunkRange,
  type ChunkStream,
  type Row,
  type Source,
} from '../../src/core/connector';
import { copyOutSql } from '../../src/connectors/postgres/postgres-dialect';
import type { TableMeta } from '../../src/core/table';

const table = (primaryKey: string[]): TableMeta => ({
  engine: 'postgres',
  ref: { schema: 's', name: 't' },
  columns: [{ name: 'id', nativeType: 'bigint', type: { kind: 'int64' }, nullable: false }],
  primaryKey,
  estimatedRows: 0,
  estimatedBytes: 0,
});

describe('keyset chunking', () => {
  it('ends a chunk maxRows-1 rows after the cursor, or at the last key when fewer remain', async () => {
    const asked: [string[] | null, number, boolean][] = [];
    const bound = (after: string[] | null, offset: number, descending: boolean) => {
      asked.push([after, offset, descending]);
      return Promise.resolve(offset === 99 ? null : ['250']);
    };
    expect(await nextKeysetChunk(table(['id']), ['200'], 100, bound)).toEqual({
      after: ['200'],
      upTo: ['250'],
    });
    expect(asked).toEqual([
      [['200'], 99, false],
      [['200'], 0, true],
    ]);
  });

  it('copies a keyless table as one whole chunk, and only once', async () => {
    const never = () => Promise.reject(new Error('a keyless table has no bound query'));
    const first = await nextKeysetChunk(table([]), null, 100, never);
    expect(first && isWholeTable(first)).toBe(true);
    expect(await nextKeysetChunk(table([]), first!.upTo, 100, never)).toBeNull();
    expect(copyOutSql({ schema: 's', name: 't' }, ['v'], [], null, first!.upTo)).toBe(
      'COPY (SELECT "v" FROM "s"."t") TO STDOUT',
    );
  });
});

describe('rows per chunk', () => {
  it('fits rows of the average size into the byte limit, never below one row', () => {
    const limits = { chunkRows: 50_000, chunkBytes: 64 * 1024 * 1024 };
    expect(rowsPerChunk(limits, { estimatedRows: 1_000, estimatedBytes: 10_000 * 1024 * 1024 })).toBe(6);
    expect(rowsPerChunk(limits, { estimatedRows: 2_000_000, estimatedBytes: 600 * 1024 * 1024 })).toBe(
      50_000,
    );
    expect(rowsPerChunk(limits, { estimatedRows: 1, estimatedBytes: 1024 ** 4 })).toBe(1);
    expect(rowsPerChunk(limits, { estimatedRows: 0, estimatedBytes: 0 })).toBe(50_000);
  });
});

describe('the chunk sizer', () => {
  const mib = 1024 * 1024;
  const limits = { chunkRows: 50_000, chunkBytes: 64 * mib };
  const wide = (rowBytes: number, rows = 100) => {
    const reads: number[] = [];
    const released: (Error | undefined)[] = [];
    const source = {
      encodings: [ChunkEncoding.Rows],
      nextChunk: (_t: TableMeta, after: string[] | null, maxRows: number) => {
        const from = Number(after?.[0] ?? 0);
        return Promise.resolve(
          from >= rows ? null : { after, upTo: [String(Math.min(rows, from + maxRows))] },
        );
      },
      read: (_t: TableMeta, range: ChunkRange): Promise<ChunkStream> => {
        const count = Number(range.upTo[0]) - Number(range.after?.[0] ?? 0);
        reads.push(count);
        let read = 0;
        async function* generate(): AsyncGenerator<Row> {
          for (; read < count;) {
            read++;
            yield await Promise.resolve([BigInt(read), 'x'.repeat(rowBytes - 8)]);
          }
        }
        return Promise.resolve({
          data: { encoding: ChunkEncoding.Rows, rows: generate() },
          rowsRead: () => read,
          release: (error?: Error) => void released.push(error),
        });
      },
    } as unknown as Source;
    return { source, reads, released };
  };

  it('measures a sample of the rows when the table has no statistics, so 10 MB rows get small chunks', async () => {
    const { source, reads, released } = wide(10 * mib);
    const sizer = new ChunkSizer(limits, table(['id']));
    expect(await sizer.next(source, null, ChunkEncoding.Rows)).toBe(6);
    expect(reads).toEqual([8]);
    // One 10 MB row says enough: the read stops there, and its connection is closed, not reused.
    expect(released).toHaveLength(1);
    expect(released[0]).toBeInstanceOf(Error);
  });

  it('keeps chunkRows for rows of ordinary width, whatever the statistics say', async () => {
    const { source, released } = wide(200);
    const sizer = new ChunkSizer(limits, table(['id']));
    expect(await sizer.next(source, null, ChunkEncoding.Rows)).toBe(50_000);
    expect(released).toEqual([undefined]);
  });

  it('follows the bytes the last committed chunk read', async () => {
    const { source, reads } = wide(200);
    const sizer = new ChunkSizer(limits, table(['id']));
    await sizer.next(source, null, ChunkEncoding.Rows);
    sizer.observe(10, 10 * 20 * mib);
    expect(await sizer.next(source, ['10'], ChunkEncoding.Rows)).toBe(3);
    sizer.observe(3, 3 * 100);
    expect(await sizer.next(source, ['13'], ChunkEncoding.Rows)).toBe(50_000);
    expect(reads).toHaveLength(1);
  });

  it('reads no sample of a keyless table, nor without chunkBytes', async () => {
    const { source, reads } = wide(10 * mib);
    expect(await new ChunkSizer(limits, table([])).next(source, null, ChunkEncoding.Rows)).toBe(50_000);
    expect(
      await new ChunkSizer({ chunkRows: 10 }, table(['id'])).next(source, null, ChunkEncoding.Rows),
    ).toBe(10);
    expect(reads).toEqual([]);
  });

  it('counts the bytes of decoded rows for sources that do not', async () => {
    const { source } = wide(1000, 3);
    const chunk = countingBytes(
      await source.read(table(['id']), { after: null, upTo: ['3'] }, ChunkEncoding.Rows),
    );
    if (chunk.data.encoding !== ChunkEncoding.Rows) throw new Error('rows expected');
    for await (const _ of chunk.data.rows);
    expect(chunk.rowsRead()).toBe(3);
    expect(chunk.bytesRead?.()).toBe(3000);
  });
});

describe('chunk ranges', () => {
  const keyed = table(['id']);
  /** A source of `rows` keys 1..rows whose bound queries are recorded as [after, maxRows]. */
  const counting = (rows: number, failAfter?: string) => {
    const asked: [string | null, number][] = [];
    const source = {
      encodings: [ChunkEncoding.Rows],
      nextChunk: (_t: TableMeta, after: string[] | null, maxRows: number) => {
        asked.push([after?.[0] ?? null, maxRows]);
        if (failAfter !== undefined && after?.[0] === failAfter)
          return Promise.reject(new Error('connection lost'));
        const from = Number(after?.[0] ?? 0);
        return Promise.resolve(
          from >= rows ? null : { after, upTo: [String(Math.min(rows, from + maxRows))] },
        );
      },
    } as unknown as Source;
    return { source, asked };
  };

  it('finds the next range while a chunk is written, and gives the same ranges as one query at a time', async () => {
    const { source, asked } = counting(25);
    const ranges = new ChunkRanges(
      source,
      keyed,
      new ChunkSizer({ chunkRows: 10 }, keyed),
      ChunkEncoding.Rows,
    );
    const seen: (ChunkRange | null)[] = [];
    let after: string[] | null = null;
    for (;;) {
      const range = await ranges.next(after);
      seen.push(range);
      if (!range) break;
      after = range.upTo;
    }
    expect(seen).toEqual([
      { after: null, upTo: ['10'] },
      { after: ['10'], upTo: ['20'] },
      { after: ['20'], upTo: ['25'] },
      null,
    ]);
    // Each bound was asked once: the one after a range right when that range was handed out.
    expect(asked).toEqual([
      [null, 10],
      ['10', 10],
      ['20', 10],
      ['25', 10],
    ]);
  });

  it('asks again when the sizer changed its mind, or the caller moved elsewhere', async () => {
    const { source, asked } = counting(1000);
    // A sizer that measures rows of 100 bytes after the first chunk, as ChunkSizer does.
    let maxRows = 100;
    const sizer = { next: () => Promise.resolve(maxRows) } as unknown as ChunkSizer;
    const ranges = new ChunkRanges(source, keyed, sizer, ChunkEncoding.Rows);
    expect(await ranges.next(null)).toEqual({ after: null, upTo: ['100'] });
    maxRows = 10;
    expect(await ranges.next(['100'])).toEqual({ after: ['100'], upTo: ['110'] });
    expect(await ranges.next(['500'])).toEqual({ after: ['500'], upTo: ['510'] });
    expect(asked).toEqual([
      [null, 100],
      ['100', 100],
      ['100', 10],
      ['110', 10],
      ['500', 10],
      ['510', 10],
    ]);
  });

  it('reports a failed look-ahead to the next call only, never as an unhandled rejection', async () => {
    const { source } = counting(100, '10');
    const ranges = new ChunkRanges(
      source,
      keyed,
      new ChunkSizer({ chunkRows: 10 }, keyed),
      ChunkEncoding.Rows,
    );
    expect(await ranges.next(null)).toEqual({ after: null, upTo: ['10'] });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(ranges.next(['10'])).rejects.toThrow('connection lost');
  });
});
