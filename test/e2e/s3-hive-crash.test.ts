import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskHash } from '../../src/connectors/s3/s3-layout';
import { openS3Store } from '../../src/connectors/s3/s3-store';
import { services, spawnWorker, uniqueName, waitFor, type WorkerProcess } from '../support/services';
import { s3Connection, s3ConnectionEntry, s3WorkerEnv } from '../support/s3';
import { useStack } from '../support/stack';

// The test spawns (and kills) its own workers.
const prefix = `${uniqueName('e2e_hive_crash')}/`;
const stack = useStack('hive_crash', { connections: { s3_lake: s3ConnectionEntry(prefix) }, worker: false });
const { source, schema, taskQueue, connectionsFile } = stack;
const store = openS3Store(s3Connection({ prefix }));
const workers: WorkerProcess[] = [];
const rows = 100_000;
const chunkRows = 5_000;
const folders = 8;

beforeAll(async () => {
  await source.query(
    `CREATE SCHEMA ${schema};
     CREATE TABLE ${schema}.events (id bigint PRIMARY KEY, k int NOT NULL, body text);
     INSERT INTO ${schema}.events SELECT g, g % ${folders}, repeat('x', 50) || g FROM generate_series(1, ${rows}) g;
     GRANT USAGE ON SCHEMA ${schema} TO ${services.pg.readerUser};
     GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`,
  );
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await store.close();
});

describe('a worker killed while it writes Hive folders to S3', () => {
  it('is replaced, and the folders hold exactly the source rows: one part per chunk and folder, nothing else', async () => {
    const first = spawnWorker({ taskQueue, connectionsFile, env: s3WorkerEnv });
    workers.push(first);
    const job = await stack.client.start({
      jobId: uniqueName('hive-crash-job'),
      kind: 'tables',
      tables: ['events'],
      source: { connection: 'pg_source', schema },
      target: { connection: 's3_lake', partitionBy: ['k'] },
      chunkRows,
      // Slow enough to be killed in the middle: about 10 s for the table.
      throttle: { rowsPerSecond: 10_000 },
      heartbeatTimeoutSeconds: 3,
      verify: { mode: 'checksum' },
    });
    const checkpoint = `${schema}/events/_mms_checkpoint.json`;
    const committed = async (): Promise<number> => {
      const body = await store.get(checkpoint);
      return body ? (JSON.parse(body.toString('utf8')) as { chunks: number }).chunks : 0;
    };
    await waitFor(async () => (await committed()) >= 3, 90_000, 'the copy to commit 3 chunks');
    await first.stop('SIGKILL');
    const atKill = await committed();
    expect(atKill).toBeLessThan(rows / chunkRows);

    const second = spawnWorker({ taskQueue, connectionsFile, env: s3WorkerEnv });
    workers.push(second);
    const report = await stack.client.result(job.jobId);

    expect(report.status).toBe('succeeded');
    expect(report.results[0]).toMatchObject({
      rowsRead: rows,
      rowsWritten: rows,
      sourceCount: rows,
      targetCount: rows,
      chunks: rows / chunkRows,
      verification: { mode: 'checksum', matched: true },
    });
    const hash = taskHash(`${job.jobId}/${schema}.events`);
    const expected = Array.from({ length: rows / chunkRows }, (_, chunk) =>
      Array.from(
        { length: folders },
        (_, k) => `${schema}/events/k=${k}/part-${hash}-${String(chunk).padStart(6, '0')}.parquet`,
      ),
    ).flat();
    expect(await store.list(`${schema}/events/`)).toEqual(
      [...expected, `${schema}/events/_manifest.json`, checkpoint].sort(),
    );
    const manifest = JSON.parse((await store.get(`${schema}/events/_manifest.json`))!.toString('utf8')) as {
      rows: number;
      parts: { key: string; rows: number }[];
    };
    expect(manifest.rows).toBe(rows);
    expect(manifest.parts.map((p) => p.key).sort()).toEqual([...expected].sort());
    expect(manifest.parts.reduce((sum, p) => sum + p.rows, 0)).toBe(rows);
  });
});
