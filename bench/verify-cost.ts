/**
 * What checksum verification costs next to the copy it verifies (issue 6): a 2,000,002-row mixed-type
 * PostgreSQL table is copied PostgreSQL → PostgreSQL by a real worker through Temporal, then verified
 * by verify-only jobs (counts, then checksums). Run with `npx tsx bench/verify-cost.ts [rows]`.
 */
import { MigrationClient, type JobReport, type JobSpecInput } from '../src/client';
import { createMixedTable } from '../test/fixtures/pg-mixed';
import { adminPool, spawnWorker, uniqueName, writeConnectionsFile } from '../test/support/services';
import { loadServices } from './env';

const rows = Number(process.argv[2] ?? 2_000_000);

async function main(): Promise<void> {
  const services = loadServices();
  const schema = uniqueName('bench_verify');
  const taskQueue = uniqueName('q_bench_verify');
  const source = adminPool(services.pg.sourceDb);
  const target = adminPool(services.pg.targetDb);
  const worker = spawnWorker({ taskQueue, connectionsFile: writeConnectionsFile() });
  const client = await MigrationClient.connect({ address: services.temporalAddress, taskQueue });
  // A job whose worker died would wait forever: fail the measurement instead.
  const workerGone = new Promise<never>((_, reject) =>
    worker.child.once('exit', () => reject(new Error(`the worker exited:\n${worker.output().slice(-2000)}`))),
  );
  workerGone.catch(() => undefined);
  const run = async (verify: JobSpecInput['verify']): Promise<{ report: JobReport; wallMs: number }> => {
    const started = Date.now();
    const job = await client.start({
      kind: 'tables',
      tables: ['mixed'],
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target' },
      verify,
    });
    const report = await Promise.race([client.result(job.jobId), workerGone]);
    if (report.status !== 'succeeded')
      throw new Error(`job failed: ${JSON.stringify(report.results[0]?.error)}`);
    return { report, wallMs: Date.now() - started };
  };
  const seconds = (ms: number | undefined): string => ((ms ?? NaN) / 1000).toFixed(1).padStart(6);
  try {
    console.log(`creating ${schema}.mixed with ${rows.toLocaleString('en-US')} rows (+2 extremes)…`);
    await createMixedTable(source, schema, 'mixed', rows);
    const copy = await run({ mode: 'none' });
    const count = await run({ mode: 'count', only: true });
    const checksum = await run({ mode: 'checksum', only: true });
    const copyMs = copy.report.results[0]?.copyMs ?? copy.report.results[0]?.durationMs;
    const verification = checksum.report.results[0]?.verification;
    const line = (what: string, activityMs: number | undefined, wallMs: number): string =>
      `${what.padEnd(36)} ${seconds(activityMs)} s in activities ${seconds(wallMs)} s for the job`;
    console.log(line('copy (PG → PG, COPY pass-through)', copyMs, copy.wallMs));
    console.log(line('verify-only: counts', count.report.results[0]?.verification?.durationMs, count.wallMs));
    console.log(line('verify-only: checksums per range', verification?.durationMs, checksum.wallMs));
    console.log(
      `checksum verification / copy = ${((verification?.durationMs ?? NaN) / (copyMs ?? NaN)).toFixed(2)}` +
        ` (${verification?.ranges} ranges, sum ${verification?.sourceChecksum})`,
    );
  } finally {
    await client.close();
    await worker.stop();
    await source.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await target.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await Promise.all([source.end(), target.end()]);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
