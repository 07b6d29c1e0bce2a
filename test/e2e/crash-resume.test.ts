import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMixedTable, tableDigest } from '../fixtures/pg-mixed';
import { spawnWorker, uniqueName, waitFor, type WorkerProcess } from '../support/services';
import { useStack } from '../support/stack';

// The test spawns (and kills) its own workers.
const stack = useStack('crash', { worker: false });
const { source, target, schema, taskQueue, connectionsFile } = stack;
const chunkRows = 5_000;
const workers: WorkerProcess[] = [];

/** The committed checkpoint of the task, read straight from the target. */
async function committedChunks(taskId: string): Promise<number> {
  const result = await target
    .query<{ chunks: number }>(`SELECT chunks FROM "${schema}"._mms_checkpoint WHERE task_id = $1`, [taskId])
    .catch(() => ({ rows: [] as { chunks: number }[] }));
  return result.rows[0]?.chunks ?? 0;
}

beforeAll(async () => {
  await createMixedTable(source, schema, 'events', 200_000);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
});

describe('a worker killed in the middle of a table', () => {
  it('is replaced by another worker and the job completes with exactly the source rows', async () => {
    const first = spawnWorker({ taskQueue, connectionsFile });
    workers.push(first);
    const job = await stack.client.start({
      jobId: uniqueName('crash-job'),
      kind: 'tables',
      tables: ['events'],
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target' },
      chunkRows,
      heartbeatTimeoutSeconds: 3,
    });
    const taskId = `${job.jobId}/${schema}.events`;

    // Kill the worker process while the copy is between a few and most of its 41 chunks.
    const before = await waitFor(
      async () => {
        const n = await committedChunks(taskId);
        return n >= 5 ? n : null;
      },
      90_000,
      'the copy to commit 5 chunks',
    );
    await first.stop('SIGKILL');
    const atKill = await committedChunks(taskId);
    expect(atKill).toBeGreaterThanOrEqual(before);
    expect(atKill).toBeLessThan(41);

    const second = spawnWorker({ taskQueue, connectionsFile });
    workers.push(second);
    const report = await stack.client.result(job.jobId);

    expect(report.status).toBe('succeeded');
    const result = report.results[0]!;
    expect(result).toMatchObject({
      rowsRead: 200_002,
      rowsWritten: 200_002,
      sourceCount: 200_002,
      targetCount: 200_002,
    });
    expect(result.chunks).toBe(41);
    const duplicates = await target.query(
      `SELECT id FROM "${schema}".events GROUP BY id HAVING count(*) > 1`,
    );
    expect(duplicates.rows).toHaveLength(0);
    expect(await tableDigest(target, schema, 'events')).toEqual(await tableDigest(source, schema, 'events'));
    // The second worker resumed from the checkpoint instead of starting over.
    expect(second.output()).not.toContain('"level":50');
  });
});
