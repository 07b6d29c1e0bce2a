import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobSpecInput } from '../../src/client';
import type { TaskResult } from '../../src/core/task';
import { createMixedTable, tableDigest } from '../fixtures/pg-mixed';
import { runMms } from '../support/cli';
import { s3ConnectionEntry, s3WorkerEnv } from '../support/s3';
import { uniqueName } from '../support/services';
import { useStack } from '../support/stack';

const stack = useStack('verify', {
  connections: { s3_lake: s3ConnectionEntry(`${uniqueName('e2e_verify')}/`) },
  workerEnv: s3WorkerEnv,
});
const { source, target, schema, taskQueue } = stack;
const backSchema = uniqueName('e2e_verify_back');

/** A job over one table of the test schema; `extra` overrides the defaults. */
const spec = (table: string, extra: Partial<JobSpecInput> = {}): JobSpecInput => ({
  jobId: uniqueName('verify'),
  kind: 'tables',
  tables: [table],
  source: { connection: 'pg_source', schema },
  target: { connection: 'pg_target' },
  verify: { mode: 'checksum' },
  ...extra,
});

/** A failed task's own result, which its workflow failure carries as details. */
async function failedTask(jobId: string, table: string): Promise<TaskResult> {
  const error: unknown = await stack.client.temporal.workflow
    .getHandle(`${jobId}/${schema}.${table}`)
    .result()
    .catch((e: unknown) => e);
  if (!(error instanceof WorkflowFailedError) || !(error.cause instanceof ApplicationFailure))
    throw new Error(`task ${table} of ${jobId} did not fail with an ApplicationFailure`);
  expect(error.cause.type).toBe('VERIFICATION_FAILED');
  return error.cause.details?.[0] as TaskResult;
}

beforeAll(async () => {
  await createMixedTable(source, schema, 'big', 1_000_000);
  await createMixedTable(source, schema, 'small', 20_000);
}, 300_000);

describe('checksum verification through the real dev server and a worker process', () => {
  it('passes after a clean PostgreSQL → PostgreSQL migration of a 1,000,002-row table', async () => {
    const report = await stack.client.result((await stack.client.start(spec('big'))).jobId);

    expect(report.status).toBe('succeeded');
    const verification = report.results[0]?.verification;
    expect(verification).toMatchObject({ mode: 'checksum', matched: true, ranges: 21, rangesDiffering: 0 });
    expect(verification?.targetChecksum).toBe(verification?.sourceChecksum);
  }, 300_000);

  it('reports exactly the deleted, added and changed rows of a tampered target in a verify-only job', async () => {
    const big = `"${schema}".big`;
    await target.query(`DELETE FROM ${big} WHERE id = 500000`);
    await target.query(
      `INSERT INTO ${big} (id, qty, price, name, at, flag) VALUES (-5, 1, 1.00, 'intruder', '2024-01-01', true)`,
    );
    await target.query(`UPDATE ${big} SET price = price + 1 WHERE id = 750000`);

    const job = await stack.client.start(spec('big', { verify: { mode: 'checksum', only: true } }));
    const report = await stack.client.result(job.jobId);

    expect(report.status).toBe('failed');
    expect(report.results[0]?.error?.code).toBe('VERIFICATION_FAILED');
    const task = await failedTask(job.jobId, 'big');
    expect(task.verification).toMatchObject({
      matched: false,
      missing: 1,
      extra: 1,
      changed: 1,
      narrowed: true,
    });
    expect(task.verification?.keys).toEqual(
      expect.arrayContaining([
        { kind: 'missing', key: ['500000'] },
        { kind: 'extra', key: ['-5'] },
        { kind: 'changed', key: ['750000'], columns: ['price'] },
      ]),
    );
    expect(task.verification?.keys).toHaveLength(3);
    // The CLI says so with its exit code.
    expect((await runMms(['report', job.jobId], { taskQueue })).code).toBe(1);
  }, 300_000);

  it('repairs the tampered target re-copying only the three differing ranges, and then verifies clean', async () => {
    const repair = await stack.client.start(
      spec('big', { verify: { mode: 'checksum', only: true, repair: true } }),
    );
    const repaired = await stack.client.result(repair.jobId);

    expect(repaired.status).toBe('succeeded');
    const verification = repaired.results[0]?.verification;
    expect(verification).toMatchObject({
      matched: true,
      rangesRepaired: 3,
      missing: 1,
      extra: 1,
      changed: 1,
    });
    // Each range was narrowed to at most 64 source rows; the deleted row's range is one row short on the target.
    expect(verification?.rowsRecopied).toBeGreaterThanOrEqual(3);
    expect(verification?.rowsRecopied).toBeLessThanOrEqual(3 * 64);
    console.log(
      `repair re-copied ${verification?.rowsRecopied} rows in ${verification?.rangesRepaired} ranges`,
    );

    const again = await stack.client.result(
      (await stack.client.start(spec('big', { verify: { mode: 'checksum', only: true } }))).jobId,
    );
    expect(again.status).toBe('succeeded');
    expect(again.results[0]?.verification).toMatchObject({ matched: true, rangesDiffering: 0 });
    expect(await tableDigest(target, schema, 'big')).toEqual(await tableDigest(source, schema, 'big'));
  }, 300_000);

  it('passes from PostgreSQL to S3 Parquet and from S3 back to PostgreSQL', async () => {
    const out = await stack.client.result(
      (await stack.client.start(spec('small', { target: { connection: 's3_lake' }, chunkRows: 5_000 })))
        .jobId,
    );
    expect(out.status).toBe('succeeded');
    expect(out.results[0]?.verification).toMatchObject({ mode: 'checksum', matched: true, ranges: 1 });

    const back = await stack.client.result(
      (
        await stack.client.start(
          spec('small', {
            source: { connection: 's3_lake', schema },
            target: { connection: 'pg_target', schema: backSchema },
          }),
        )
      ).jobId,
    );
    expect(back.status).toBe('succeeded');
    expect(back.results[0]?.verification).toMatchObject({ mode: 'checksum', matched: true });
    // Both directions saw the same rows: the same sum of row hashes on all three copies.
    expect(back.results[0]?.verification?.sourceChecksum).toBe(out.results[0]?.verification?.sourceChecksum);
  }, 300_000);
});
