import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSpecInput } from '../../src/client';
import { quoteIdent } from '../../src/connectors/mysql/mysql-dialect';
import type { TaskResult } from '../../src/core/task';
import { createMysqlMixedTable } from '../fixtures/my-mixed';
import { createMixedTable } from '../fixtures/pg-mixed';
import { mysqlConnectionEntries, mysqlSettings } from '../support/mysql';
import { uniqueName } from '../support/services';
import { useStack } from '../support/stack';

const rows = 20_000;
const stack = useStack('verify_my', { connections: mysqlConnectionEntries() });
const { mysql: myAdmin, source: pgAdmin, target: pgTargetAdmin } = stack;
const myTable = uniqueName('e2e_vmy');
const pgSchema = uniqueName('e2e_vpg');
const backSchema = uniqueName('e2e_vmy_pg');

/** Runs a job with checksum verification to its end. */
async function run(spec: Omit<JobSpecInput, 'kind'>) {
  const job = await stack.client.start({
    kind: 'tables',
    chunkRows: 5_000,
    verify: { mode: 'checksum' },
    ...spec,
  });
  return { jobId: job.jobId, report: await stack.client.result(job.jobId) };
}

beforeAll(async () => {
  await createMysqlMixedTable(myAdmin, mysqlSettings.sourceDb, myTable, rows);
  await createMixedTable(pgAdmin, pgSchema, 'orders', rows);
  // MySQL stores no NaN: such a row could not be copied (see the MySQL e2e test).
  await pgAdmin.query(`UPDATE "${pgSchema}".orders SET ratio = NULL WHERE ratio = 'NaN'`);
}, 300_000);

afterAll(async () => {
  await myAdmin.query(`DROP TABLE IF EXISTS ${quoteIdent(mysqlSettings.sourceDb)}.${quoteIdent(myTable)}`);
  await myAdmin.query(`DROP DATABASE IF EXISTS ${quoteIdent(pgSchema)}`);
  await pgAdmin.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
  await pgTargetAdmin.query(`DROP SCHEMA IF EXISTS "${backSchema}" CASCADE`);
});

describe('checksum verification between PostgreSQL and MySQL through a worker', () => {
  it('passes MySQL → PostgreSQL: the same logical values hash alike in both engines', async () => {
    const { report } = await run({
      tables: [myTable],
      source: { connection: 'my_source', schema: mysqlSettings.sourceDb },
      target: { connection: 'pg_target', schema: backSchema },
    });
    expect(report.status).toBe('succeeded');
    expect(report.results[0]?.verification).toMatchObject({ mode: 'checksum', matched: true, ranges: 5 });
  }, 300_000);

  it('passes PostgreSQL → MySQL, where booleans, time zones and -0 are stored differently', async () => {
    const { report } = await run({
      tables: ['orders'],
      source: { connection: 'pg_source', schema: pgSchema },
      target: { connection: 'my_target', schema: pgSchema },
    });
    expect(report.status).toBe('succeeded');
    expect(report.results[0]?.verification).toMatchObject({ mode: 'checksum', matched: true, ranges: 5 });
  }, 300_000);

  it('names the differing keys of a tampered MySQL target', async () => {
    const orders = `${quoteIdent(pgSchema)}.${quoteIdent('orders')}`;
    await myAdmin.query(`DELETE FROM ${orders} WHERE id = 123`);
    await myAdmin.query(`UPDATE ${orders} SET body = 'edited', qty = qty + 1 WHERE id = 4567`);
    const { jobId, report } = await run({
      tables: ['orders'],
      source: { connection: 'pg_source', schema: pgSchema },
      target: { connection: 'my_target', schema: pgSchema },
      verify: { mode: 'checksum', only: true },
    });
    expect(report.status).toBe('failed');
    const error: unknown = await stack.client.temporal.workflow
      .getHandle(`${jobId}/${pgSchema}.orders`)
      .result()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('VERIFICATION_FAILED');
    expect((cause.details?.[0] as TaskResult).verification?.keys).toEqual([
      { kind: 'missing', key: ['123'] },
      { kind: 'changed', key: ['4567'], columns: ['qty', 'body'] },
    ]);
  }, 300_000);

  it('repairs a tampered MySQL target by re-copying only the two differing ranges', async () => {
    const { report } = await run({
      tables: ['orders'],
      source: { connection: 'pg_source', schema: pgSchema },
      target: { connection: 'my_target', schema: pgSchema },
      verify: { mode: 'checksum', only: true, repair: true },
    });
    expect(report.status).toBe('succeeded');
    const verification = report.results[0]?.verification;
    expect(verification).toMatchObject({ matched: true, rangesRepaired: 2, missing: 1, changed: 1 });
    expect(verification?.rowsRecopied).toBeLessThanOrEqual(2 * 64);
    expect(report.results[0]?.targetCount).toBe(rows + 2);
  }, 300_000);
});
