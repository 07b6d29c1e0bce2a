import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationClient } from '../../src/client';
import type { JobReport } from '../../src/core/task';
import { searchAttributeNames } from '../../src/workflows/definitions';
import { createMixedTable, tableDigest } from '../fixtures/pg-mixed';
import {
  adminPool,
  services,
  spawnWorker,
  uniqueName,
  waitFor,
  writeConnectionsFile,
  type WorkerProcess,
} from '../support/services';

/** A dev server of its own that keeps its state in a file, so it can be stopped and started again mid-job. */
const dbFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'mms-temporal-')), 'temporal.db');
const source = adminPool(services.pg.sourceDb);
const target = adminPool(services.pg.targetDb);
const schema = uniqueName('fault_tr');
const taskQueue = uniqueName('q_tr');
const rows = Number(process.env.MMS_FAULT_ROWS ?? 500_000);
let port: number;
let server: ChildProcess;
let worker: WorkerProcess;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function startServer(): Promise<void> {
  server = spawn(
    'temporal',
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--headless',
      '--db-filename',
      dbFile,
      '--log-level',
      'error',
      ...searchAttributeNames.flatMap((n) => ['--search-attribute', `${n}=Keyword`]),
    ],
    { stdio: 'ignore' },
  );
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = net
          .connect(port, '127.0.0.1', () => resolve(socket.end() && true))
          .on('error', () => resolve(false));
      }),
    30_000,
    'the dev server to listen',
  );
}

async function stopServer(): Promise<void> {
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  await startServer();
  await createMixedTable(source, schema, 'big', rows);
  worker = spawnWorker({
    taskQueue,
    connectionsFile: writeConnectionsFile(),
    temporalAddress: `127.0.0.1:${port}`,
  });
}, 300_000);

afterAll(async () => {
  await worker?.stop('SIGKILL');
  if (server && server.exitCode === null) await stopServer();
  await source.end();
  await target.end();
});

describe('the Temporal server restarted mid-job', () => {
  it('loses nothing: the job resumes from its history and completes with every row exactly once', async () => {
    const targetSchema = uniqueName('fault_tr_out');
    const address = `127.0.0.1:${port}`;
    let client = await MigrationClient.connect({ address, taskQueue });
    const job = await client.start({
      kind: 'tables',
      tables: ['big'],
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target', schema: targetSchema },
      chunkRows: 20_000,
      heartbeatTimeoutSeconds: 5,
    });
    const committed = async (): Promise<number> =>
      (
        await target
          .query<{ chunks: number }>(`SELECT chunks FROM "${targetSchema}"._mms_checkpoint`)
          .catch(() => ({ rows: [] as { chunks: number }[] }))
      ).rows[0]?.chunks ?? 0;
    await waitFor(async () => (await committed()) >= 5, 120_000, 'five committed chunks');
    // Stopped mid-table. The copy may go on committing chunks while the server is down (it needs only
    // the databases); its heartbeats and its completion wait for the server to come back.
    expect(await committed()).toBeLessThan(Math.ceil((rows + 2) / 20_000));
    await client.close();
    await stopServer();
    await new Promise((r) => setTimeout(r, 2000));
    await startServer();

    client = await MigrationClient.connect({ address, taskQueue });
    let report: JobReport | undefined;
    // The first long-poll after the restart may see the server still warming up.
    await waitFor(
      async () => (report = await client.result(job.jobId).catch(() => undefined)),
      240_000,
      'the job to complete after the restart',
    );
    await client.close();
    expect(report!.status, JSON.stringify(report!.results[0]?.error ?? report!.results[0])).toBe('succeeded');
    expect(report!.results[0]).toMatchObject({
      rowsRead: rows + 2,
      rowsWritten: rows + 2,
      targetCount: rows + 2,
    });
    expect(await tableDigest(target, targetSchema, 'big')).toEqual(await tableDigest(source, schema, 'big'));
  });
});
