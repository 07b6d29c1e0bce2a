import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSpecInput } from '../../src/client';
import type { JobReport } from '../../src/core/task';
import { createMixedTable, tableDigest } from '../fixtures/pg-mixed';
import { copyActivity } from '../support/history';
import { mysqlConnectionEntry, mysqlSettings } from '../support/mysql';
import { services, uniqueName, waitFor } from '../support/services';
import { useStack } from '../support/stack';

/**
 * Server-side failures that need a live server to happen at all, through the real stack: a real
 * deadlock between a copy's chunk transaction and an outside transaction (transient: retried with
 * backoff, and the job completes with every row exactly once), and a target whose storage fills up
 * (terminal: the task fails once, naming the problem, and keeps only whole committed chunks).
 */
const stack = useStack('srv', { connections: { my_target: mysqlConnectionEntry(mysqlSettings.targetDb) } });
const { source, target, mysql: my, schema } = stack;
/** `orders`: the mixed-types fixture. `plain`: columns a MEMORY table can hold, for MySQL targets. */
const mixedRows = 20_000;
const plainRows = 20_000;
const chunkRows = 500;

/**
 * A tiny tmpfs for a PostgreSQL tablespace, mounted while this file loads so that the test can be
 * skipped (with the reason) where mounting is not allowed, e.g. without root.
 */
const tiny = ((): { dir: string } | { skip: string } => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mms-tiny-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1M,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (e) {
    rmdirSync(dir);
    const reason = (e as { stderr?: Buffer }).stderr?.toString().trim() || String(e);
    console.log(`skipping the PostgreSQL tablespace-full test: cannot mount a tmpfs (${reason})`);
    return { skip: reason };
  }
})();
const tablespace = uniqueName('mms_tiny');
let tablespaceCreated = false;

beforeAll(async () => {
  await createMixedTable(source, schema, 'orders', mixedRows);
  await source.query(`CREATE TABLE ${schema}.plain (id bigint PRIMARY KEY, name varchar(100) NOT NULL, qty int NOT NULL);
    INSERT INTO ${schema}.plain SELECT g, md5(g::text) || '-' || g, g * 7 % 1000 FROM generate_series(1, ${plainRows}) g;
    GRANT SELECT ON ${schema}.plain TO ${services.pg.readerUser}`);
}, 300_000);

afterAll(async () => {
  // The worker stops first: its sessions on the target could keep files in the tablespace open.
  await stack.worker.stop();
  if ('dir' in tiny) {
    try {
      if (tablespaceCreated) await target.query(`DROP TABLESPACE IF EXISTS ${tablespace}`);
    } finally {
      // DROP TABLESPACE makes the server close its files there; should one stay open, detach lazily.
      try {
        execFileSync('umount', [tiny.dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', tiny.dir], { stdio: 'pipe' });
      }
      rmdirSync(tiny.dir);
    }
  }
  await source.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
});

/** Starts a one-table job from the PostgreSQL source. */
async function startJob(table: string, spec: Omit<JobSpecInput, 'source'>) {
  const job = await stack.client.start({
    kind: 'tables',
    tables: [table],
    source: { connection: 'pg_source', schema },
    chunkRows,
    ...spec,
  });
  // The task's id is also the id of its tableMigration workflow.
  return { jobId: job.jobId, taskId: `${job.jobId}/${schema}.${table}` };
}

/** The checkpoint row of a task on a PostgreSQL target, or undefined before it exists. */
async function pgCheckpoint(targetSchema: string, taskId: string) {
  const result = await target
    .query<{ chunks: number; rows_written: string }>(
      `SELECT chunks, rows_written::text AS rows_written FROM "${targetSchema}"._mms_checkpoint WHERE task_id = $1`,
      [taskId],
    )
    .catch(() => ({ rows: [] }));
  return (
    result.rows[0] && { chunks: result.rows[0].chunks, rowsWritten: Number(result.rows[0].rows_written) }
  );
}

/** The checkpoint row of a task on a MySQL target, or undefined before it exists. */
async function myCheckpoint(targetSchema: string, taskId: string) {
  const [rows] = await my
    .query<mysql.RowDataPacket[]>(
      `SELECT chunks, rows_written FROM \`${targetSchema}\`._mms_checkpoint WHERE task_id = ?`,
      [taskId],
    )
    .catch(() => [[] as mysql.RowDataPacket[]] as const);
  return rows[0] && { chunks: Number(rows[0].chunks), rowsWritten: Number(rows[0].rows_written) };
}

/** The `plain` table's content digest on the PostgreSQL source: count and md5 of its rows in key order. */
async function plainSourceDigest(): Promise<{ rows: number; md5: string }> {
  const result = await source.query<{ rows: string; md5: string }>(
    `SELECT count(*)::text AS rows, md5(string_agg(concat_ws(',', id, name, qty), E'\\n' ORDER BY id)) AS md5 FROM ${schema}.plain`,
  );
  return { rows: Number(result.rows[0]!.rows), md5: result.rows[0]!.md5 };
}

/** The same digest of a copy of `plain` on MySQL. */
async function plainMysqlDigest(targetSchema: string): Promise<{ rows: number; md5: string }> {
  const conn = await my.getConnection();
  try {
    await conn.query('SET SESSION group_concat_max_len = 1073741824');
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n, MD5(GROUP_CONCAT(CONCAT_WS(',', id, name, qty) ORDER BY id SEPARATOR '\\n')) AS md5 FROM \`${targetSchema}\`.plain`,
    );
    return { rows: Number(rows[0]!.n), md5: String(rows[0]!.md5) };
  } finally {
    conn.release();
  }
}

/**
 * After a deadlock broke a chunk's transaction: the next chunk commits only after the retry's
 * backoff, the job succeeds, and the copy's history shows one failed attempt with the DEADLOCK code
 * and the engine's own code. Returns the job's report.
 */
async function expectOneDeadlockRetried(
  engine: string,
  job: { jobId: string; taskId: string },
  checkpoint: () => Promise<{ chunks: number } | undefined>,
  deadlockAt: number,
  engineCode: RegExp,
): Promise<JobReport> {
  const afterDeadlock = (await checkpoint())!.chunks;
  const resumed = await waitFor(
    async () => ((await checkpoint())?.chunks ?? 0) > afterDeadlock && Date.now(),
    90_000,
    'a chunk committed after the deadlock',
  );
  const report = await stack.client.result(job.jobId);
  expect(report.status).toBe('succeeded');
  const copy = await copyActivity(stack.client, job.taskId);
  const backoffMs = resumed - deadlockAt;
  console.log(
    `${engine} deadlock: next chunk committed ${backoffMs} ms later; copy attempts: ${copy.attempt}`,
  );
  expect(copy.attempt).toBe(2);
  expect(copy.lastFailure?.applicationFailureInfo?.type).toBe('DEADLOCK');
  expect(copy.lastFailure?.applicationFailureInfo?.nonRetryable ?? false).toBe(false);
  expect(copy.lastFailure?.message).toMatch(engineCode);
  expect(copy.failure).toBeUndefined();
  // The retry waited for its backoff (initial interval 1 s) before committing a chunk.
  expect(backoffMs).toBeGreaterThanOrEqual(900);
  return report;
}

describe('a deadlock with the chunk transaction is transient: retried with backoff, every row exactly once', () => {
  it('PostgreSQL target: 40P01 fails one attempt, the retry resumes and the copy is exact', async () => {
    const out = uniqueName('e2e_srv_dl');
    // Throttled, so the copy is still mid-table when the outside transaction steps in.
    const { jobId, taskId } = await startJob('orders', {
      target: { connection: 'pg_target', schema: out },
      throttle: { rowsPerSecond: 4_000 },
    });
    const before = await waitFor(
      async () => {
        const cp = await pgCheckpoint(out, taskId);
        return cp && cp.chunks >= 2 && cp;
      },
      90_000,
      'two committed chunks',
    );
    const outside = await target.connect();
    let deadlockAt = 0;
    try {
      // The copy's backend (deadlock_timeout 1 s) must be the one that finds the cycle, not this one.
      await outside.query(`SET deadlock_timeout = '20s'`);
      const outsidePid = (await outside.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!
        .pid;
      await outside.query('BEGIN');
      // A chunk loads its rows first (RowExclusiveLock on the table), then claims its checkpoint row:
      // holding that row makes the next chunk wait there with its rows loaded.
      await outside.query(`SELECT chunks FROM "${out}"._mms_checkpoint WHERE task_id = $1 FOR UPDATE`, [
        taskId,
      ]);
      const copyPid = await waitFor(
        async () =>
          (
            await target.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND query LIKE 'UPDATE%'`,
              [outsidePid],
            )
          ).rows[0]?.pid,
        60_000,
        'the copy to wait for its checkpoint row',
      );
      expect(copyPid).not.toBe(outsidePid);
      // Asking for a SHARE lock on the table the copy loaded into closes a cycle. The copy's backend
      // breaks it within its 1 s deadlock_timeout, after which the table is ours.
      const t0 = Date.now();
      await outside.query(`LOCK TABLE "${out}".orders IN SHARE MODE`);
      deadlockAt = Date.now();
      console.log(
        `PostgreSQL deadlock: lock granted after ${deadlockAt - t0} ms, at chunk ${before.chunks}+`,
      );
    } finally {
      await outside.query('ROLLBACK').catch(() => undefined);
      outside.release();
    }
    const report = await expectOneDeadlockRetried(
      'PostgreSQL',
      { jobId, taskId },
      () => pgCheckpoint(out, taskId),
      deadlockAt,
      /^PostgreSQL 40P01: deadlock detected/,
    );

    const result = report.results[0]!;
    expect(result).toMatchObject({
      rowsRead: mixedRows + 2,
      rowsWritten: mixedRows + 2,
      sourceCount: mixedRows + 2,
      targetCount: mixedRows + 2,
      chunks: Math.ceil((mixedRows + 2) / chunkRows),
    });
    const duplicates = await target.query(`SELECT id FROM "${out}".orders GROUP BY id HAVING count(*) > 1`);
    expect(duplicates.rows).toHaveLength(0);
    expect(await tableDigest(target, out, 'orders')).toEqual(await tableDigest(source, schema, 'orders'));
    await target.query(`DROP SCHEMA "${out}" CASCADE`);
  });

  it('MySQL target: 1213 fails one attempt, the retry resumes and the copy is exact', async () => {
    const out = uniqueName('e2e_srv_mydl');
    await my.query(`CREATE DATABASE \`${out}\``);
    // InnoDB rolls back the lighter transaction of a deadlock: the outside one first changes more rows than a chunk.
    await my.query(`CREATE TABLE \`${out}\`.ballast (id int PRIMARY KEY) ENGINE=InnoDB`);
    const { jobId, taskId } = await startJob('plain', {
      target: { connection: 'my_target', schema: out },
      throttle: { rowsPerSecond: 4_000 },
    });
    await waitFor(
      async () => {
        const cp = await myCheckpoint(out, taskId);
        return cp && cp.chunks >= 2;
      },
      90_000,
      'two committed chunks',
    );
    const outside = await my.getConnection();
    let deadlockAt = 0;
    try {
      await outside.query('SET SESSION innodb_lock_wait_timeout = 60');
      await outside.query('START TRANSACTION');
      await outside.query(
        `INSERT INTO \`${out}\`.ballast SELECT seq FROM \`${out}\`.seq_1_to_${4 * chunkRows}`,
      );
      // A chunk loads its rows first, then claims its checkpoint row: holding that row makes the next
      // chunk wait there with its rows loaded (and locked).
      await outside.query(`SELECT chunks FROM \`${out}\`._mms_checkpoint WHERE task_id = ? FOR UPDATE`, [
        taskId,
      ]);
      const [[{ id: outsideId }]] = (await outside.query('SELECT CONNECTION_ID() AS id')) as unknown as [
        [{ id: number }],
      ];
      await waitFor(
        async () => {
          const [waits] = await my.query<mysql.RowDataPacket[]>(
            `SELECT r.trx_mysql_thread_id AS waiting FROM information_schema.INNODB_LOCK_WAITS w
               JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
               JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
             WHERE b.trx_mysql_thread_id = ?`,
            [outsideId],
          );
          return waits.length > 0;
        },
        60_000,
        'the copy to wait for its checkpoint row',
      );
      // A locking read of the whole table, the copy's new rows included, closes the cycle; InnoDB detects it at once.
      const t0 = Date.now();
      await outside.query(`SELECT COUNT(*) FROM \`${out}\`.plain FOR UPDATE`);
      deadlockAt = Date.now();
      console.log(`MySQL deadlock: locking read returned after ${deadlockAt - t0} ms`);
    } finally {
      await outside.query('ROLLBACK').catch(() => undefined);
      outside.release();
    }
    const report = await expectOneDeadlockRetried(
      'MySQL',
      { jobId, taskId },
      () => myCheckpoint(out, taskId),
      deadlockAt,
      /^MySQL 1213 ER_LOCK_DEADLOCK: Deadlock found/,
    );

    expect(report.results[0]).toMatchObject({
      rowsRead: plainRows,
      rowsWritten: plainRows,
      sourceCount: plainRows,
      targetCount: plainRows,
      chunks: plainRows / chunkRows,
    });
    const [duplicates] = await my.query<mysql.RowDataPacket[]>(
      `SELECT id FROM \`${out}\`.plain GROUP BY id HAVING COUNT(*) > 1`,
    );
    expect(duplicates).toHaveLength(0);
    expect(await plainMysqlDigest(out)).toEqual(await plainSourceDigest());
    await my.query(`DROP DATABASE \`${out}\``);
  });
});

describe('a full target is terminal: the task fails once, naming the problem, with only whole chunks kept', () => {
  /** Runs a job that must fail its one task; returns that task's error and the copy's attempts. */
  async function failingJob(table: string, spec: Omit<JobSpecInput, 'source'>) {
    const started = Date.now();
    const { jobId, taskId } = await startJob(table, spec);
    const report = await stack.client.result(jobId);
    const ms = Date.now() - started;
    expect(report.status).toBe('failed');
    expect(report.tasks).toMatchObject({ failed: 1 });
    const copy = await copyActivity(stack.client, taskId);
    return { error: report.results[0]?.error, copy, taskId, ms };
  }

  it('MariaDB: a MEMORY table that is full (1114) fails the task once with DISK_FULL', async () => {
    const out = uniqueName('e2e_srv_full');
    const conn = await my.getConnection();
    try {
      // A MEMORY table's capacity is fixed when it is created, from this setting: about 600 of these rows.
      await conn.query('SET SESSION max_heap_table_size = 262144');
      await conn.query(`CREATE DATABASE \`${out}\``);
      await conn.query(
        `CREATE TABLE \`${out}\`.plain (id bigint PRIMARY KEY, name varchar(100) NOT NULL, qty int NOT NULL) ENGINE=MEMORY`,
      );
    } finally {
      conn.release();
    }
    const small = 100;
    const { error, copy, taskId, ms } = await failingJob('plain', {
      target: { connection: 'my_target', schema: out },
      createMode: 'never',
      writeMode: 'append',
      chunkRows: small,
    });
    console.log(
      `MariaDB table full: ${error?.code} after ${ms} ms, copy attempts ${copy.attempt}: ${error?.message}`,
    );
    expect(error?.code).toBe('DISK_FULL');
    expect(error?.message).toMatch(/MySQL 1114 ER_RECORD_FILE_FULL: The table .*plain.* is full/);
    expect(copy.attempt).toBe(1);
    expect(copy.failure?.applicationFailureInfo).toMatchObject({ type: 'DISK_FULL', nonRetryable: true });
    const checkpoint = (await myCheckpoint(out, taskId))!;
    const [[{ n }]] = (await my.query(`SELECT COUNT(*) AS n FROM \`${out}\`.plain`)) as unknown as [
      [{ n: string }],
    ];
    console.log(
      `MariaDB table full: ${checkpoint.chunks} chunks committed (${checkpoint.rowsWritten} rows); ${n} rows in the table`,
    );
    // Some chunks committed whole before the table filled up, and the checkpoint counts only those.
    expect(checkpoint.chunks).toBeGreaterThan(0);
    expect(checkpoint.rowsWritten).toBe(checkpoint.chunks * small);
    // MEMORY cannot roll back: the failed chunk's rows that fitted stay (fewer than one chunk), which is
    // why targets mms creates are InnoDB. No row beyond that, and none twice (a retry would have added some).
    expect(Number(n)).toBeGreaterThanOrEqual(checkpoint.rowsWritten);
    expect(Number(n)).toBeLessThan(checkpoint.rowsWritten + small);
    await my.query(`DROP DATABASE \`${out}\``);
  });

  it.skipIf('skip' in tiny)(
    'PostgreSQL: a tablespace on a full disk (53100) fails the task once with DISK_FULL, keeping whole chunks',
    async () => {
      const dir = (tiny as { dir: string }).dir;
      // The tablespace directory must belong to the OS user that runs the server.
      const dataDir = (await target.query<{ d: string }>("SELECT current_setting('data_directory') AS d"))
        .rows[0]!.d;
      const owner = statSync(dataDir);
      execFileSync('chown', [`${owner.uid}:${owner.gid}`, dir]);
      await target.query(`CREATE TABLESPACE ${tablespace} LOCATION '${dir}'`);
      tablespaceCreated = true;
      const out = uniqueName('e2e_srv_pgfull');
      try {
        await target.query(`CREATE SCHEMA "${out}";
          CREATE TABLE "${out}".plain (id bigint PRIMARY KEY, name varchar(100) NOT NULL, qty int NOT NULL) TABLESPACE ${tablespace}`);
        const { error, copy, taskId, ms } = await failingJob('plain', {
          target: { connection: 'pg_target', schema: out },
          createMode: 'never',
          writeMode: 'append',
        });
        console.log(
          `PostgreSQL disk full: ${error?.code} after ${ms} ms, copy attempts ${copy.attempt}: ${error?.message}`,
        );
        expect(error?.code).toBe('DISK_FULL');
        expect(error?.message).toMatch(/^PostgreSQL 53100: could not extend file .*No space left on device/);
        expect(copy.attempt).toBe(1);
        expect(copy.failure?.applicationFailureInfo).toMatchObject({ type: 'DISK_FULL', nonRetryable: true });
        const checkpoint = (await pgCheckpoint(out, taskId))!;
        const count = Number(
          (await target.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${out}".plain`)).rows[0]!.n,
        );
        console.log(
          `PostgreSQL disk full: ${checkpoint.chunks} chunks committed (${checkpoint.rowsWritten} rows); ${count} rows in the table`,
        );
        // The failed chunk rolled back with its checkpoint: exactly the committed chunks remain, in key order.
        expect(checkpoint.chunks).toBeGreaterThan(0);
        expect(checkpoint.rowsWritten).toBe(checkpoint.chunks * chunkRows);
        expect(count).toBe(checkpoint.rowsWritten);
        const kept = await target.query<{ min: string; max: string; ids: string }>(
          `SELECT min(id)::text AS min, max(id)::text AS max, count(DISTINCT id)::text AS ids FROM "${out}".plain`,
        );
        expect(kept.rows[0]).toEqual({ min: '1', max: String(count), ids: String(count) });
      } finally {
        await target.query(`DROP SCHEMA IF EXISTS "${out}" CASCADE`);
      }
    },
  );
});
