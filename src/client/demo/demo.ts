import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { JobReport } from '../../core/task';
import { ConnectionConfig } from '../../spec/connections';
import { ErrorCode, MigrationError } from '../../core/errors';
import type { ConnectionResolver } from '../../worker/connections';
import { createWorker, installRuntime } from '../../worker/worker';
import { searchAttributes } from '../../workflows/definitions';
import { MigrationClient } from '../migration-client';
import { progressLine, reportText } from '../cli/output';
import { sampleSchemaSql } from './sample-data';

/** Options of the zero-setup demo. */
export interface DemoOptions {
  outDir: string;
  orders: number;
  keep: boolean;
}

/** Finds a `temporal` CLI: $MMS_TEMPORAL_CLI, else PATH; null means let the SDK download one. */
export function findTemporalCli(): string | null {
  if (process.env.MMS_TEMPORAL_CLI) return process.env.MMS_TEMPORAL_CLI;
  try {
    return execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

/** A resolver over fixed, in-process connections (the demo has no connections file). */
function fixedConnections(configs: Record<string, unknown>): ConnectionResolver {
  return {
    names: () => Object.keys(configs),
    resolve(name) {
      const config = configs[name];
      if (!config) throw new MigrationError(ErrorCode.UnknownConnection, `unknown connection "${name}"`);
      return { name, config: ConnectionConfig.parse(config) };
    },
  };
}

/**
 * Runs a real migration with nothing installed but Node: an embedded Temporal dev server,
 * an embedded PostgreSQL (PGlite over the wire protocol) as the source, a local directory as the target.
 */
export async function runDemo(options: DemoOptions): Promise<JobReport> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const started = Date.now();
  installRuntime();

  say(`• sample source: embedded PostgreSQL (PGlite) with ${options.orders.toLocaleString('en-US')} orders`);
  const db = await PGlite.create();
  for (const sql of sampleSchemaSql(options.orders)) await db.exec(sql);
  const pgPort = 15432 + Math.floor(Math.random() * 1000);
  const pgServer = new PGLiteSocketServer({ db, port: pgPort, host: '127.0.0.1', maxConnections: 16 });
  await pgServer.start();

  const cli = findTemporalCli();
  say(`• Temporal dev server: ${cli ? `${cli} (found)` : 'downloading through the SDK'}`);
  const dbDir = mkdtempSync(path.join(os.tmpdir(), 'mms-demo-'));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ...(cli ? { executable: { type: 'existing-path' as const, path: cli } } : {}),
      ip: '127.0.0.1',
      uiPort: Number(process.env.MMS_DEMO_UI_PORT ?? 8233),
      searchAttributes: Object.values(searchAttributes),
      extraArgs: ['--log-level', 'error'],
    },
  });
  const address = env.connection.options.address;
  const uiUrl = `http://127.0.0.1:${process.env.MMS_DEMO_UI_PORT ?? 8233}`;
  const outDir = path.resolve(options.outDir);
  rmSync(outDir, { recursive: true, force: true });
  const connections = fixedConnections({
    demo_source: {
      engine: 'postgres',
      host: '127.0.0.1',
      port: pgPort,
      database: 'postgres',
      user: 'postgres',
      maxConnections: 4,
    },
    demo_target: { engine: 'local', path: outDir, format: 'jsonl' },
  });
  const settings = { address, uiUrl, taskQueue: 'mms-demo' };
  const { worker, close } = await createWorker({ settings, connections });
  const running = worker.run();
  const client = await MigrationClient.connect(settings);
  try {
    const job = await client.start({
      kind: 'database',
      source: { connection: 'demo_source', schema: 'public' },
      target: { connection: 'demo_target', schema: 'shop' },
      chunkRows: 5000,
      maxParallelTasks: 3,
    });
    say(`• started job ${job.jobId}\n  Web UI: ${job.url}`);
    const result = client.result(job.jobId);
    let done = false;
    void result.finally(() => (done = true)).catch(() => undefined);
    while (!done) {
      await new Promise((r) => setTimeout(r, 500));
      if (!done) say(`  ${progressLine(await client.progress(job.jobId))}`);
    }
    const report = await result;
    console.log(reportText(report));
    say(
      `\n• output: ${outDir}/shop/<table>/part-*.jsonl with _manifest.json (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    if (options.keep) {
      say(`• the Web UI stays up at ${uiUrl} — press Ctrl-C to stop`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    return report;
  } finally {
    await client.close();
    worker.shutdown();
    await running;
    await close();
    await env.teardown();
    await pgServer.stop();
    await db.close();
    rmSync(dbDir, { recursive: true, force: true });
  }
}
