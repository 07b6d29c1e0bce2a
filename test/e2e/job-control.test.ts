import { WorkflowFailedError } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMixedTable } from '../fixtures/pg-mixed';
import { uniqueName, waitFor } from '../support/services';
import { useStack } from '../support/stack';

const stack = useStack('control');
const { source, target, schema } = stack;

const spec = (extra: Record<string, unknown>) => ({
  source: { connection: 'pg_source', schema },
  target: { connection: 'pg_target' },
  ...extra,
});

beforeAll(async () => {
  for (const name of ['t1', 't2', 't3', 't4', 't5']) await createMixedTable(source, schema, name, 500);
  await createMixedTable(source, schema, 'big', 100_000);
});

describe('controlling a running job', () => {
  it('pauses (no new task starts) and resumes, and can change its parallelism', async () => {
    const job = await stack.client.start(
      spec({ kind: 'tables', tables: ['t1', 't2', 't3', 't4', 't5'], maxParallelTasks: 1 }),
    );
    await stack.client.pause(job.jobId);
    const paused = await waitFor(
      async () => {
        const p = await stack.client.progress(job.jobId);
        return p.paused && p.tasks.running === 0 && p.discoveryDone ? p : null;
      },
      30_000,
      'the job to be paused with nothing running',
    );
    await new Promise((r) => setTimeout(r, 1500));
    const later = await stack.client.progress(job.jobId);
    expect(later.tasks.succeeded).toBe(paused.tasks.succeeded);
    expect(later.tasks.succeeded).toBeLessThan(5);

    expect(await stack.client.setParallelism(job.jobId, 3)).toBe(1);
    await expect(stack.client.setParallelism(job.jobId, 0)).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/parallelism must be/) as unknown },
    });
    await stack.client.resume(job.jobId);
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    expect(report.tasks).toMatchObject({ total: 5, succeeded: 5, failed: 0 });
  });

  it('collects a failed task without failing the others, and retries only that task once its cause is fixed', async () => {
    const targetSchema = uniqueName('e2e_retry');
    await target.query(`CREATE SCHEMA ${targetSchema}; CREATE TABLE ${targetSchema}.t3 (unrelated int)`);
    const job = await stack.client.start(
      spec({
        kind: 'tables',
        tables: ['t1', 't2', 't3'],
        target: { connection: 'pg_target', schema: targetSchema },
      }),
    );
    const first = await stack.client.result(job.jobId);
    expect(first.status).toBe('failed');
    expect(first.tasks).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    expect(first.results.find((r) => r.table === `${schema}.t3`)?.error?.code).toBe('TARGET_CONFLICT');

    await target.query(`DROP TABLE ${targetSchema}.t3`);
    expect(await stack.client.retryFailed(job.jobId)).toEqual({ jobId: job.jobId, rerun: true });
    const second = await stack.client.result(job.jobId);
    expect(second.status).toBe('succeeded');
    expect(second.tasks).toMatchObject({ total: 3, succeeded: 1, skipped: 2, failed: 0 });
    expect(second.results.filter((r) => !r.skipped).map((r) => r.table)).toEqual([`${schema}.t3`]);
    const counts = await target.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${targetSchema}.t1`);
    expect(counts.rows[0]?.n).toBe('502');
  });

  it('cancels gracefully: the copy stops at a chunk boundary and the target holds exactly the committed chunks', async () => {
    const targetSchema = uniqueName('e2e_cancel');
    const job = await stack.client.start(
      spec({
        kind: 'tables',
        tables: ['big'],
        target: { connection: 'pg_target', schema: targetSchema },
        chunkRows: 500,
        throttle: { rowsPerSecond: 5_000 },
      }),
    );
    const taskId = `${job.jobId}/${schema}.big`;
    const checkpoint = async () =>
      (
        await target
          .query<{ chunks: number; rows_written: string }>(
            `SELECT chunks, rows_written FROM ${targetSchema}._mms_checkpoint WHERE task_id = $1`,
            [taskId],
          )
          .catch(() => ({ rows: [] }))
      ).rows[0];
    await waitFor(async () => ((await checkpoint())?.chunks ?? 0) >= 3, 60_000, 'three committed chunks');
    await stack.client.cancel(job.jobId);
    const error = await stack.client.result(job.jobId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');

    const committed = await checkpoint();
    expect(committed!.chunks).toBeLessThan(201);
    const rows = await target.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${targetSchema}.big`);
    expect(rows.rows[0]?.n).toBe(committed!.rows_written);
    await waitFor(
      async () =>
        (await stack.client.list({ status: 'cancelled', limit: 100 })).some((j) => j.jobId === job.jobId),
      10_000,
      'the job to be listed as cancelled',
    );
  });

  it('keeps a throttled copy within 10% of its configured rate', async () => {
    const job = await stack.client.start(
      spec({
        kind: 'tables',
        tables: ['big'],
        target: { connection: 'pg_target', schema: uniqueName('e2e_throttle') },
        chunkRows: 2_000,
        // Far below what this machine copies unthrottled (~100k rows/s), so only the throttle sets the pace.
        throttle: { rowsPerSecond: 12_500 },
      }),
    );
    const report = await stack.client.result(job.jobId);
    const result = report.results[0]!;
    expect(result.status).toBe('succeeded');
    const rate = result.rowsWritten! / (result.copyMs! / 1000);
    console.log(
      `throttle: 12,500 rows/s configured, ${Math.round(rate).toLocaleString('en-US')} rows/s measured`,
    );
    expect(rate).toBeLessThanOrEqual(12_500 * 1.1);
    expect(rate).toBeGreaterThanOrEqual(12_500 * 0.9);
  });
});
