import { describe, expect, it } from 'vitest';
import { ChunkEncoding, type ChunkStream, type Row } from '../../src/core/connector';
import { collectingAfterWideRows, wideRowBytes } from '../../src/worker/heap';

const chunkOf = (rows: Row[], rowBytes: number): ChunkStream => {
  let read = 0;
  async function* generate(): AsyncGenerator<Row> {
    for (const row of rows) {
      read++;
      yield await Promise.resolve(row);
    }
  }
  return {
    data: { encoding: ChunkEncoding.Rows, rows: generate() },
    rowsRead: () => read,
    bytesRead: () => read * rowBytes,
    release: () => undefined,
  };
};

describe('collection after wide rows', () => {
  it('leaves chunks of ordinary rows as they are', () => {
    const chunk = chunkOf([[1n, 'a']], 100);
    expect(collectingAfterWideRows(chunk, 100)).toBe(chunk);
  });

  it('passes wide rows through unchanged, in order, with the same counts', async () => {
    const rows: Row[] = [1, 2, 3].map((i) => [BigInt(i), 'x'.repeat(100)]);
    const chunk = collectingAfterWideRows(chunkOf(rows, 10 * 1024 * 1024), wideRowBytes);
    if (chunk.data.encoding !== ChunkEncoding.Rows) throw new Error('rows expected');
    const seen: Row[] = [];
    for await (const row of chunk.data.rows) seen.push(row);
    expect(seen).toEqual(rows);
    expect(chunk.rowsRead()).toBe(3);
    expect(chunk.bytesRead?.()).toBe(30 * 1024 * 1024);
  });
});
