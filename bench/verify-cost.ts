/**
 * What checksum verification costs next to the copy it verifies (issue 6): a 2,000,002-row mixed-type
 * PostgreSQL table is copied PostgreSQL → PostgreSQL by a real worker through Temporal, then verified
 * by a verify-only checksum job. Run with `npx tsx bench/verify-cost.ts [rows]`.
 */
import { MigrationClient, type JobReport, type JobSpecInput } from '../src/client';
import { createMixedTable } from '../test/fixtures/pg-mixed';
import { adminPool, spawnWorker, uniqueName, writeConnectionsFile } from '../test/support/services';
import { loadServices } from './env';

const rows = Number(process.argv[2] ?? 2_000_000);

async function timed(
  client: MigrationClient,
  spec: JobSpecInput,
): Promise<{ report: JobReport; wallMs: number }> {
  const started = Date.now();
  const report = await client.result((await client.start(spec)).jobId);
  if (report.status !== 'succeeded')
    throw new Error(`job failed: ${JSON.stringify(report.results[0]?.error)}`);
  return { report, wallMs: Date.now() - started };
}

async function main(): Promise<void> {
  const services = loadServices();
  const schema = uniqueName('bench_verify');
  const taskQueue = uniqueName('q_bench_verify');
  const source = adminPool(services.pg.sourceDb);
  const target = adminPool(services.pg.targetDb);
  const worker = spawnWorker({ taskQueue, connectionsFile: writeConnectionsFile() });
  const client = await MigrationClient.connect({ address: services.temporalAddress, taskQueue });
  try {
    console.log(`creating ${schema}.mixed with ${rows.toLocaleString('en-US')} rows (+2 extremes)…`);
    await createMixedTable(source, schema, 'mixed', rows);
    const spec = (verify: JobSpecInput['verify']): JobSpecInput => ({
      kind: 'tables',
      tables: ['mixed'],
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target' },
      verify,
    });
    const copy = await timed(client, spec({ mode: 'none' }));
    const count = await timed(client, spec({ mode: 'count', only: true }));
    const checksum = await timed(client, spec({ mode: 'checksum', only: true }));
    const copyMs = copy.report.results[0]?.copyMs ?? copy.report.results[0]?.durationMs ?? NaN;
    const verifyMs = checksum.report.results[0]?.verification?.durationMs ?? NaN;
    const line = (what: string, activityMs: number, wallMs: number): string =>
      `${what.padEnd(34)} ${(activityMs / 1000).toFixed(1).padStart(6)} s activity ${(wallMs / 1000).toFixed(1).padStart(6)} s job`;
    console.log(line('copy (PG → PG, COPY pass-through)', copyMs, copy.wallMs));
    console.log(
      line('verify: counts only', count.report.results[0]?.verification?.durationMs ?? NaN, count.wallMs),
    );
    console.log(line('verify: checksums per chunk range', verifyMs, checksum.wallMs));
    console.log(
      `checksum verification / copy = ${(verifyMs / copyMs).toFixed(2)} ` +
        `(${checksum.report.results[0]?.verification?.ranges} ranges, sum ${checksum.report.results[0]?.verification?.sourceChecksum})`,
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
