import { parquetMetadataAsync } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openS3Store } from '../../src/connectors/s3/s3-store';
import { createMixedTable, tableDigest } from '../fixtures/pg-mixed';
import { uniqueName } from '../support/services';
import { s3Connection, s3ConnectionEntry, s3Settings, s3WorkerEnv } from '../support/s3';
import { useStack } from '../support/stack';

const prefix = `${uniqueName('e2e_s3')}/`;
const stack = useStack('s3', { connections: { s3_lake: s3ConnectionEntry(prefix) }, workerEnv: s3WorkerEnv });
const { source, target, schema } = stack;
const backSchema = uniqueName('e2e_s3_back');
const store = openS3Store(s3Connection({ prefix }));

beforeAll(async () => {
  await createMixedTable(source, schema, 'mixed', 20_000);
});

afterAll(async () => {
  await store.close();
});

describe('PostgreSQL → S3 Parquet → PostgreSQL through the real dev server and a worker process', () => {
  it('exports a 20,002-row mixed-type table as Parquet parts with counts matching', async () => {
    const job = await stack.client.start({
      kind: 'tables',
      tables: ['mixed'],
      source: { connection: 'pg_source', schema },
      target: { connection: 's3_lake' },
      chunkRows: 5_000,
    });
    const report = await stack.client.result(job.jobId);

    expect(report.status).toBe('succeeded');
    expect(report.results[0]).toMatchObject({
      rowsRead: 20_002,
      rowsWritten: 20_002,
      sourceCount: 20_002,
      targetCount: 20_002,
      chunks: 5,
    });
    const keys = await store.list(`${schema}/mixed/`);
    const parts = keys.filter((k) => k.endsWith('.parquet'));
    expect(parts).toHaveLength(5);
    expect(keys).toContain(`${schema}/mixed/_manifest.json`);
    let footerRows = 0;
    for (const key of parts) {
      const body = (await store.get(key))!;
      footerRows += Number((await parquetMetadataAsync(new Uint8Array(body).buffer)).num_rows);
    }
    expect(footerRows).toBe(20_002);
    // The worker got the secret key from its environment and never printed it.
    expect(stack.worker.output()).not.toContain(s3Settings.secretAccessKey);
  });

  it('imports the Parquet parts back into another schema with the same contents', async () => {
    const job = await stack.client.start({
      kind: 'tables',
      tables: ['mixed'],
      source: { connection: 's3_lake', schema },
      target: { connection: 'pg_target', schema: backSchema },
    });
    const report = await stack.client.result(job.jobId);

    expect(report.status).toBe('succeeded');
    expect(report.results[0]).toMatchObject({
      rowsRead: 20_002,
      rowsWritten: 20_002,
      sourceCount: 20_002,
      targetCount: 20_002,
      chunks: 5,
    });
    // jsonb comes back as json holding jsonb's text, so every row prints the same as in the source.
    expect(await tableDigest(target, backSchema, 'mixed')).toEqual(
      await tableDigest(source, schema, 'mixed'),
    );
    const types = await target.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
       WHERE a.attrelid = format('%I.mixed', $1::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
      [backSchema],
    );
    expect(Object.fromEntries(types.rows.map((r) => [r.name, r.type]))).toMatchObject({
      id: 'bigint',
      price: 'numeric(12,2)',
      ratio: 'double precision',
      at: 'timestamp(6) without time zone',
      at_tz: 'timestamp(6) with time zone',
      raw: 'bytea',
      uid: 'uuid',
      docb: 'json',
    });
  });
});
