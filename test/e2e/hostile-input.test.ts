import { beforeAll, describe, expect, it } from 'vitest';
import type { JobReport } from '../../src/core/task';
import { createMixedTable } from '../fixtures/pg-mixed';
import { mysqlConnectionEntry, mysqlSettings } from '../support/mysql';
import { pgConnectionEntry, services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';

/**
 * Bad input through the real stack: each mistake gets its own error code, is tried once when
 * retrying cannot help, and leaves nothing half-written behind.
 */
const stack = useStack('bad', {
  connections: {
    // Read-only user pointed at the target: it may not create anything there.
    readonly_target: pgConnectionEntry(services.pg.targetDb, { reader: true }),
    // Waits at most 1 s for a lock, so a held lock shows up fast as LOCK_TIMEOUT.
    impatient_target: { ...pgConnectionEntry(services.pg.targetDb), lockTimeoutSeconds: 1 },
    missing_db: pgConnectionEntry('no_such_database'),
    my_target: mysqlConnectionEntry(mysqlSettings.targetDb),
  },
});
const { source, target, mysql: my, schema } = stack;

beforeAll(async () => {
  await createMixedTable(source, schema, 'orders', 5_000);
  await source.query(`CREATE TABLE ${schema}.secret (id int PRIMARY KEY)`);
  await source.query(`REVOKE ALL ON ${schema}.secret FROM ${services.pg.readerUser}`);
});

/** Runs a job and returns its outcome: the failure's code when the job fails, else the report. */
async function outcome(
  spec: Record<string, unknown>,
): Promise<{ code?: string; report?: JobReport; jobId: string }> {
  const job = await stack.client.start({
    source: { connection: 'pg_source', schema },
    target: { connection: 'pg_target' },
    ...spec,
  });
  try {
    return { report: await stack.client.result(job.jobId), jobId: job.jobId };
  } catch (e) {
    let cause: unknown = e;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    return { code: (cause as { type?: string }).type, jobId: job.jobId };
  }
}

/** How many times activities of a workflow were attempted, from its history. */
async function attempts(workflowId: string): Promise<number> {
  const history = await stack.client.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes)
    .reduce((max, e) => Math.max(max, e.activityTaskStartedEventAttributes?.attempt ?? 1), 0);
}

describe('bad specs fail fast with a named error, once', () => {
  it('names an unknown connection', async () => {
    const { code, jobId } = await outcome({ source: { connection: 'nobody_knows_me', schema } });
    expect(code).toBe('UNKNOWN_CONNECTION');
    expect(await attempts(jobId)).toBe(1);
  });

  it('refuses a pattern that matches no table', async () => {
    expect((await outcome({ include: ['no_table_like_this_*'] })).code).toBe('BAD_SPEC');
  });

  it('refuses a missing table', async () => {
    expect((await outcome({ kind: 'tables', tables: ['orders', 'missing_one'] })).code).toBe(
      'TABLE_NOT_FOUND',
    );
  });

  it('refuses a bad chunk size before anything starts, with its path', async () => {
    await expect(
      stack.client.start({
        source: { connection: 'pg_source' },
        target: { connection: 'pg_target' },
        chunkRows: 0,
      }),
    ).rejects.toMatchObject({
      code: 'BAD_SPEC',
      message: expect.stringContaining('→ at chunkRows') as unknown,
    });
  });
});

describe('server-side failures are classified, terminal ones tried once', () => {
  it('reports a database that does not exist', async () => {
    const { code, jobId } = await outcome({ source: { connection: 'missing_db', schema } });
    expect(code).toBe('DATABASE_MISSING');
    expect(await attempts(jobId)).toBe(1);
  });

  it('reports a permission denied on the source table, failing only that task', async () => {
    const { report } = await outcome({
      kind: 'tables',
      tables: ['orders', 'secret'],
      target: { connection: 'pg_target', schema: uniqueName('e2e_bad_out') },
    });
    expect(report?.tasks).toMatchObject({ succeeded: 1, failed: 1 });
    expect(report?.results.find((r) => r.table.endsWith('.secret'))?.error?.code).toBe('PERMISSION_DENIED');
  });

  it('reports a permission denied on the target and creates nothing there', async () => {
    const out = uniqueName('e2e_bad_ro');
    const { report } = await outcome({
      kind: 'tables',
      tables: ['orders'],
      target: { connection: 'readonly_target', schema: out },
    });
    expect(report?.results[0]?.error?.code).toBe('PERMISSION_DENIED');
    const created = await target.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [out]);
    expect(created.rows).toHaveLength(0);
  });

  it('retries a lock timeout (transient) until the lock is released, then completes', async () => {
    const out = uniqueName('e2e_bad_lock');
    await target
      .query(`CREATE SCHEMA ${out}; CREATE TABLE ${out}.orders (LIKE ${schema}.orders)`)
      .catch(() => undefined);
    // The target table must match the source; create it by a first run, then lock it and run again.
    const first = await outcome({
      kind: 'tables',
      tables: ['orders'],
      target: { connection: 'pg_target', schema: out },
      createMode: 'recreate',
    });
    expect(first.report?.status).toBe('succeeded');
    const locker = await target.connect();
    await locker.query(`BEGIN; LOCK TABLE ${out}.orders IN ACCESS EXCLUSIVE MODE`);
    const job = await stack.client.start({
      kind: 'tables',
      tables: ['orders'],
      source: { connection: 'pg_source', schema },
      target: { connection: 'impatient_target', schema: out },
    });
    await new Promise((r) => setTimeout(r, 4_000));
    await locker.query('ROLLBACK');
    locker.release();
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    const events =
      (await stack.client.temporal.workflow.getHandle(`${job.jobId}/${schema}.orders`).fetchHistory())
        .events ?? [];
    // A retried attempt's start event carries the failure that caused the retry.
    const causes = events.map(
      (e) => e.activityTaskStartedEventAttributes?.lastFailure?.applicationFailureInfo?.type,
    );
    expect(causes).toContain('LOCK_TIMEOUT');
  });

  it('reports a value the target cannot hold as OUT_OF_RANGE, keeping only whole committed chunks', async () => {
    // The fixture's first key holds the date 0001-01-01, which a MySQL DATETIME cannot.
    const out = uniqueName('e2e_bad_range');
    await my.query(`CREATE DATABASE ${out}`);
    const { report } = await outcome({
      kind: 'tables',
      tables: ['orders'],
      target: { connection: 'my_target', schema: out },
      chunkRows: 1_000,
    });
    const result = report!.results[0]!;
    expect(result.error?.code).toBe('OUT_OF_RANGE');
    const [[checkpoint]] = await my.query<import('mysql2/promise').RowDataPacket[]>(
      `SELECT rows_written FROM ${out}._mms_checkpoint`,
    );
    const [[count]] = await my.query<import('mysql2/promise').RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${out}.orders`,
    );
    // Exactly the committed chunks: no rows of the failed chunk.
    expect(Number(count!.n)).toBe(Number(checkpoint!.rows_written));
    await my.query(`DROP DATABASE ${out}`);
  });
});
