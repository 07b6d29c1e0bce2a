import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ChunkEncoding, type ChunkStream, type Row } from '../../src/core/connector';
import {
  collectingAfterWideRows,
  limitWorkflowThreadYoungGeneration,
  wideRowBytes,
} from '../../src/worker/heap';

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

describe("the workflow thread's young generation", () => {
  /** The young generation (MB) of a new thread once short-lived garbage has made it grow. */
  const youngGenerationOfNewThread = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const thread = new Worker(
        `const { parentPort } = require('node:worker_threads');
         const v8 = require('node:v8');
         const kept = [];
         for (let i = 0; i < 2e6; i++) { kept.push({ i }); if (kept.length > 2e5) kept.length = 0; }
         const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
         parentPort.postMessage(young.space_size / 1048576);`,
        { eval: true },
      );
      thread.once('message', (mb: number) => resolve(mb));
      thread.once('error', reject);
    });

  it('is capped for threads started after the limit, as the workflow thread is', async () => {
    // V8's default lets the same garbage grow it to 32 MB (two semi-spaces of 16 MB).
    expect(await youngGenerationOfNewThread()).toBeGreaterThan(16);
    limitWorkflowThreadYoungGeneration();
    expect(await youngGenerationOfNewThread()).toBeLessThanOrEqual(8);
  });
});
