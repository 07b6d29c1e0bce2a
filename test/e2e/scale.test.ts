import { execFileSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationClient } from '../../src/client';
import { searchAttributes } from '../../src/workflows/definitions';
import {
  adminPool,
  services,
  spawnWorker,
  uniqueName,
  writeConnectionsFile,
  type WorkerProcess,
} from '../support/services';

/** 200 tables in the regular run; `MMS_SCALE_TABLES=10000` for the full-size check. */
const tables = Number(process.env.MMS_SCALE_TABLES ?? 200);
/** Low enough that the job must continue as new several times. */
const suggestContinueAsNew = Number(process.env.MMS_SCALE_SUGGEST_CAN ?? 300);
const source = adminPool(services.pg.sourceDb);
const schema = uniqueName('e2e_scale');
const taskQueue = uniqueName('q_scale');
let env: TestWorkflowEnvironment;
let worker: WorkerProcess;
let client: MigrationClient;

beforeAll(async () => {
  await source.query(`CREATE SCHEMA ${schema}`);
  // In batches: one transaction creating 10,000 tables would run out of lock slots.
  for (let from = 1; from <= tables; from += 500) {
    const to = Math.min(tables, from + 499);
    await source.query(`DO $$ BEGIN FOR i IN ${from}..${to} LOOP
        EXECUTE format('CREATE TABLE ${schema}.t%s (id int PRIMARY KEY, v text); INSERT INTO ${schema}.t%s VALUES (1, %L)', i, i, 'row ' || i);
      END LOOP; END $$`);
  }
  await source.query(`GRANT USAGE ON SCHEMA ${schema} TO ${services.pg.readerUser}`);
  await source.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`);
  // A server of its own, so its low continue-as-new threshold does not touch other tests.
  const cli = execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ip: '127.0.0.1',
      searchAttributes: Object.values(searchAttributes),
      extraArgs: [
        '--dynamic-config-value',
        `limit.historyCount.suggestContinueAsNew=${suggestContinueAsNew}`,
        '--log-level',
        'error',
      ],
    },
  });
  const address = env.connection.options.address;
  worker = spawnWorker({ taskQueue, connectionsFile: writeConnectionsFile(), temporalAddress: address });
  client = await MigrationClient.connect({ address, taskQueue });
}, 600_000);

afterAll(async () => {
  await worker?.stop();
  await client?.close();
  await env?.teardown();
  await source.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
  await source.end();
});

describe(`one job over ${tables} tables`, () => {
  it('accounts for every task across several continue-as-new runs', async () => {
    const started = Date.now();
    const job = await client.start({
      kind: 'database',
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target', schema: uniqueName('e2e_scale_out') },
      maxParallelTasks: 20,
    });
    const report = await client.result(job.jobId);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `scale: ${tables} tables in ${seconds.toFixed(1)} s (${((seconds * 1000) / tables).toFixed(0)} ms per task), ` +
        `${report.continuedAsNew} continue-as-new`,
    );

    expect(report.results.filter((r) => r.status === 'failed').slice(0, 3)).toEqual([]);
    expect(report.status).toBe('succeeded');
    expect(report.tasks).toMatchObject({ total: tables, succeeded: tables, failed: 0, skipped: 0 });
    expect(report.rowsWritten).toBe(tables);
    expect(report.results.length + report.resultsOmitted).toBe(tables);
    expect(report.continuedAsNew).toBeGreaterThanOrEqual(2);
    // Each run stayed short: the longest history is bounded by the threshold plus one window of tasks.
    const runs = [];
    for await (const run of client.temporal.workflow.list({ query: `WorkflowId = '${job.jobId}'` }))
      runs.push(run);
    expect(runs.length).toBe(report.continuedAsNew + 1);
    for (const run of runs) expect(run.historyLength).toBeLessThan(suggestContinueAsNew + 20 * 12);
  });
});
