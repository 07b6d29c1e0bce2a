import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/core/connector';
import { mapRows, readableBatches, rowBatches, rowsFromBatches } from '../../src/core/row-batches';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const rowsOf = (n: number): Row[] => Array.from({ length: n }, (_, i) => [i, `r${i}`]);

/** The items one at a time, as an async source hands them over. */
async function* each<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}

describe('row batches', () => {
  it('reads what an object stream has buffered as batches, bounded by its buffer and by max', async () => {
    const stream = Readable.from(rowsOf(10), { highWaterMark: 4 });
    const batches = await collect(readableBatches<Row>(stream, { items: 3 }));
    expect(batches.flat()).toEqual(rowsOf(10));
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(3);
    expect(batches.length).toBeGreaterThanOrEqual(4);
  });

  it('ends a batch at the item that reaches its size, so a wide item is a batch alone', async () => {
    const stream = Readable.from(['a', 'bb', 'x'.repeat(10), 'c', 'd'], { highWaterMark: 16 });
    const limit = { items: 100, size: { of: (s: string) => s.length, maxSize: 3 } };
    expect(await collect(readableBatches<string>(stream, limit))).toEqual([
      ['a', 'bb'],
      ['x'.repeat(10)],
      ['c', 'd'],
    ]);
  });

  it('fails with the error that destroyed the stream, after the rows before it', async () => {
    const stream = new Readable({ objectMode: true, read() {} });
    stream.push([1]);
    const seen: Row[][] = [];
    const reading = (async () => {
      for await (const batch of readableBatches<Row>(stream, { items: 100 })) {
        seen.push(batch);
        stream.destroy(new Error('connection lost'));
      }
    })();
    await expect(reading).rejects.toThrow('connection lost');
    expect(seen).toEqual([[[1]]]);
  });

  it('fails when the stream closes without an end or an error', async () => {
    const stream = new Readable({ objectMode: true, read() {} });
    setImmediate(() => stream.destroy());
    await expect(collect(readableBatches<Row>(stream, { items: 100 }))).rejects.toThrow(
      /closed before its end/,
    );
  });

  it('gives batched rows row by row, and their own batches to rowBatches', async () => {
    const batches = [rowsOf(2), rowsOf(3)];
    expect(await collect(rowsFromBatches(each(batches)))).toEqual([...rowsOf(2), ...rowsOf(3)]);
    expect(await collect(rowBatches(rowsFromBatches(each(batches))))).toEqual(batches);
  });

  it('turns plain rows into batches of one, so wide rows are never gathered', async () => {
    expect(await collect(rowBatches(each(rowsOf(3))))).toEqual(rowsOf(3).map((r) => [r]));
  });

  it('maps rows batch by batch, keeping the batches', async () => {
    const doubled = mapRows(rowsFromBatches(each([rowsOf(2), rowsOf(1)])), (row) => [Number(row[0]) * 2]);
    expect(await collect(rowBatches(doubled))).toEqual([[[0], [2]], [[0]]]);
  });
});
