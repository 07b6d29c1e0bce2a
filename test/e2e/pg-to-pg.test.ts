import { beforeAll, describe, expect, it } from 'vitest';
import { createMixedTable, tableDigest } from '../fixtures/pg-mixed';
import { useStack } from '../support/stack';

const stack = useStack('basic');
const { source, target, schema } = stack;

beforeAll(async () => {
  await createMixedTable(source, schema, 'orders', 100_000);
  await createMixedTable(source, schema, 'Mixed Case "quoted"', 1_000);
});

/** When the target table was last analyzed by hand (ANALYZE), or null; statistics may show it a moment late. */
async function lastAnalyzed(tableSchema: string, table: string): Promise<string | null> {
  for (let attempt = 0; ; attempt++) {
    const { rows } = await target.query<{ at: string | null }>(
      'SELECT last_analyze::text AS at FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2',
      [tableSchema, table],
    );
    const at = rows[0]?.at ?? null;
    if (at !== null || attempt >= 20) return at;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('PostgreSQL → PostgreSQL through the real dev server and a worker process', () => {
  it('migrates a 100,000-row mixed-type table with counts and contents matching', async () => {
    const job = await stack.client.start({
      kind: 'database',
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target' },
      chunkRows: 20_000,
    });
    const report = await stack.client.result(job.jobId);

    expect(report.status).toBe('succeeded');
    expect(report.tasks).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
    const orders = report.results.find((r) => r.table === `${schema}.orders`);
    expect(orders).toMatchObject({
      rowsRead: 100_002,
      rowsWritten: 100_002,
      sourceCount: 100_002,
      targetCount: 100_002,
    });
    expect(orders?.chunks).toBe(6);
    for (const table of ['orders', 'Mixed Case "quoted"']) {
      expect(await tableDigest(target, schema, table)).toEqual(await tableDigest(source, schema, table));
    }
    // The verification refreshed the new table's statistics beside its counts.
    expect(await lastAnalyzed(schema, 'orders')).not.toBeNull();
  });

  it('analyzes the new table at the end of a copy without verification', async () => {
    const noVerify = `${schema}_noverify`;
    const job = await stack.client.start({
      kind: 'tables',
      tables: ['orders'],
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target', schema: noVerify },
      verify: { mode: 'none' },
    });
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    expect(report.results[0]?.targetCount).toBeUndefined();
    expect(await lastAnalyzed(noVerify, 'orders')).not.toBeNull();
  });

  it('keeps native column types on the way, json text byte for byte', async () => {
    const types = await target.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, format_type(a.atttypid, a.atttypmod) AS data_type
       FROM information_schema.columns c JOIN pg_attribute a
         ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
       WHERE c.table_schema = $1 AND c.table_name = 'orders' ORDER BY c.ordinal_position`,
      [schema],
    );
    expect(Object.fromEntries(types.rows.map((r) => [r.column_name, r.data_type]))).toMatchObject({
      id: 'bigint',
      price: 'numeric(12,2)',
      doc: 'json',
      docb: 'jsonb',
      at: 'timestamp(6) without time zone',
    });
    const doc = await target.query<{ doc: string }>(`SELECT doc::text FROM "${schema}".orders WHERE id = 7`);
    expect(doc.rows[0]?.doc).toBe('{"b" : 7, "a": [1, 2.50, "x"]}');
  });

  it('refuses a spec that names a missing table, without retrying', async () => {
    const job = await stack.client.start({
      kind: 'tables',
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target' },
      tables: ['no_such_table'],
    });
    await expect(stack.client.result(job.jobId)).rejects.toMatchObject({
      cause: { cause: { type: 'TABLE_NOT_FOUND' } },
    });
  });
});
