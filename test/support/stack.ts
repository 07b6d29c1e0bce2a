import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { MigrationClient } from '../../src/client';
import { mysqlAdminPool } from './mysql';
import {
  adminPool,
  services,
  spawnWorker,
  uniqueName,
  writeConnectionsFile,
  type WorkerProcess,
} from './services';

/** What an end-to-end test file runs against; see {@link useStack}. */
export interface Stack {
  /** Admin pool on the PostgreSQL source database. */
  source: pg.Pool;
  /** Admin pool on the PostgreSQL target database. */
  target: pg.Pool;
  /** Admin pool (root) on the MariaDB server. */
  mysql: mysql.Pool;
  /** A unique name for the file's own source schema (`e2e_<name>_…`); nothing creates it. */
  schema: string;
  /** A unique task queue (`q_<name>_…`) for the worker and the client. */
  taskQueue: string;
  /** The worker's connections file: pg_source, pg_target and the `connections` option's entries. */
  connectionsFile: string;
  /** Connected to the test Temporal server on `taskQueue`; usable from beforeAll on. */
  readonly client: MigrationClient;
  /** The worker process on `taskQueue`, unless the options said `worker: false`. */
  readonly worker: WorkerProcess;
}

export interface StackOptions {
  /** Connections-file entries beside pg_source and pg_target, by connection name. */
  connections?: Record<string, unknown>;
  /** Extra environment for the worker process. */
  workerEnv?: Record<string, string>;
  /** false: spawn no worker (the test spawns its own on `taskQueue` with `connectionsFile`). */
  worker?: boolean;
}

/**
 * The usual setup of an end-to-end test file: admin pools (they open no connection until their
 * first query), a unique schema name and task queue, a connections file, and a beforeAll that
 * spawns a worker process and connects a client. Each test fails if that worker exited without being
 * stopped. The afterAll stops the worker, closes the client
 * and ends the pools; vitest runs it after the afterAll hooks the file registers later, so those
 * can still use the pools.
 */
export function useStack(name: string, options: StackOptions = {}): Stack {
  const source = adminPool(services.pg.sourceDb);
  const target = adminPool(services.pg.targetDb);
  const my = mysqlAdminPool();
  const taskQueue = uniqueName(`q_${name}`);
  const connectionsFile = writeConnectionsFile(options.connections);
  let client: MigrationClient | undefined;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    if (options.worker !== false) {
      worker = spawnWorker({ taskQueue, connectionsFile, env: options.workerEnv });
    }
    client = await MigrationClient.connect({ address: services.temporalAddress, taskQueue });
  });

  // A worker that crashed fails the test it crashed in, and every later one at once, with its output,
  // instead of leaving each to time out waiting for a job nobody runs.
  const workerAlive = (): void => {
    const exit = worker?.unaskedExit();
    if (exit) throw new Error(exit);
  };
  beforeEach(({ onTestFailed }) => {
    workerAlive();
    // A failed or timed-out test shows what the worker was doing, so a rare failure can be diagnosed from the CI log.
    onTestFailed(() => {
      const output = worker?.output();
      if (output) console.error(`[${taskQueue}] the worker's last output:\n${output.slice(-6000)}`);
    });
  });
  afterEach(workerAlive);

  afterAll(async () => {
    await worker?.stop();
    await client?.close();
    await Promise.all([source.end(), target.end(), my.end()]);
  });

  return {
    source,
    target,
    mysql: my,
    schema: uniqueName(`e2e_${name}`),
    taskQueue,
    connectionsFile,
    get client() {
      if (!client) throw new Error('the stack connects its client in beforeAll');
      return client;
    },
    get worker() {
      if (!worker) throw new Error('the stack spawns its worker in beforeAll, unless told worker: false');
      return worker;
    },
  };
}
