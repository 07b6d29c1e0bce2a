import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const root = path.resolve(__dirname, '../..');

/** The services' settings, as `scripts/services.sh env` exported them in the global setup. */
export const services = {
  pg: {
    host: process.env.MMS_PG_HOST ?? '127.0.0.1',
    port: Number(process.env.MMS_PG_PORT ?? 55432),
    user: process.env.MMS_PG_USER ?? 'postgres',
    password: process.env.MMS_PG_PASSWORD ?? 'mms-pg-secret-7f3a',
    readerUser: process.env.MMS_PG_READER_USER ?? 'mms_reader',
    readerPassword: process.env.MMS_PG_READER_PASSWORD ?? 'mms-reader-secret-2c9d',
    sourceDb: process.env.MMS_PG_SOURCE_DB ?? 'mms_source',
    targetDb: process.env.MMS_PG_TARGET_DB ?? 'mms_target',
  },
  temporalAddress: process.env.MMS_TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
};

/** An admin pool on one of the test databases. */
export function adminPool(database: string): pg.Pool {
  const pool = new pg.Pool({
    host: services.pg.host,
    port: services.pg.port,
    user: services.pg.user,
    password: services.pg.password,
    database,
    max: 4,
  });
  // Fault tests restart the server: an idle client's broken socket must not crash the test process.
  pool.on('error', () => undefined);
  return pool;
}

/** A PostgreSQL entry of a worker's connections file: the admin user on `database`, or the read-only user; secrets from env vars. */
export function pgConnectionEntry(database: string, options: { reader?: boolean } = {}) {
  return {
    engine: 'postgres',
    host: services.pg.host,
    port: services.pg.port,
    database,
    user: options.reader ? services.pg.readerUser : services.pg.user,
    passwordEnv: options.reader ? 'MMS_PG_READER_PASSWORD' : 'MMS_PG_PASSWORD',
  };
}

/** Writes a connections file for a worker: sources read as the read-only user; secrets come from env vars. */
export function writeConnectionsFile(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mms-test-'));
  const file = path.join(dir, 'connections.json');
  const connections = {
    pg_source: pgConnectionEntry(services.pg.sourceDb, { reader: true }),
    pg_target: pgConnectionEntry(services.pg.targetDb),
    ...extra,
  };
  writeFileSync(file, JSON.stringify({ connections }, null, 2));
  return file;
}

/** A worker running as its own OS process, so tests can SIGKILL it like a crashed machine. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed on stdout and stderr. */
  output(): string;
  /** Stops it: SIGTERM for a graceful stop, SIGKILL for a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Why it exited without being stopped (a crash of the worker itself), or null while it runs or was stopped. */
  unaskedExit(): string | null;
}

/** Spawns `mms worker` on a task queue with a connections file. */
export function spawnWorker(options: {
  taskQueue: string;
  connectionsFile: string;
  env?: Record<string, string>;
  temporalAddress?: string;
}): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src/client/cli/main.ts'), 'worker'],
    {
      cwd: root,
      env: {
        ...process.env,
        MMS_TASK_QUEUE: options.taskQueue,
        MMS_CONNECTIONS_FILE: options.connectionsFile,
        MMS_TEMPORAL_ADDRESS: options.temporalAddress ?? services.temporalAddress,
        MMS_LOG_LEVEL: 'info',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    unaskedExit() {
      if (stopped || (child.exitCode === null && child.signalCode === null)) return null;
      return `the worker exited on its own (${child.signalCode ?? `code ${child.exitCode}`}); its last output:\n${output.slice(-4000)}`;
    },
  };
}

/** Polls until a condition holds, or fails after the timeout. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A short unique suffix for names, so test files never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}
