import { beforeAll, describe, expect, it } from 'vitest';
import type { JobSpecInput } from '../../src/client';
import { services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';

const stack = useStack('vkinds');
const { source, schema } = stack;

beforeAll(async () => {
  await source.query(`CREATE SCHEMA ${schema}`);
  await source.query(
    `CREATE TABLE ${schema}.events (id bigint, at date NOT NULL, body text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
  );
  for (const m of [1, 2, 3]) {
    await source.query(
      `CREATE TABLE ${schema}.events_0${m} PARTITION OF ${schema}.events FOR VALUES FROM ('2024-0${m}-01') TO ('2024-0${m + 1}-01')`,
    );
    await source.query(
      `INSERT INTO ${schema}.events SELECT g, date '2024-0${m}-01' + (g % 28), 'e' || g FROM generate_series(${m * 1000}, ${m * 1000 + 499}) g`,
    );
  }
  for (const s of [1, 2, 3]) {
    await source.query(
      `CREATE TABLE ${schema}.orders_s${s} (id int PRIMARY KEY, amount numeric(10,2) NOT NULL)`,
    );
    await source.query(
      `INSERT INTO ${schema}.orders_s${s} SELECT g, g * ${s} FROM generate_series(1, 300) g`,
    );
  }
  await source.query(`CREATE TABLE ${schema}.log (at timestamptz, line text)`);
  await source.query(
    `INSERT INTO ${schema}.log SELECT timestamptz '2024-01-01' + g * interval '1 minute', 'line ' || g FROM generate_series(1, 700) g`,
  );
  await source.query(`GRANT USAGE ON SCHEMA ${schema} TO ${services.pg.readerUser}`);
  await source.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`);
});

/** Runs a job with checksum verification into a fresh target schema. */
async function run(spec: Partial<JobSpecInput>) {
  const job = await stack.client.start({
    source: { connection: 'pg_source', schema },
    target: { connection: 'pg_target', schema: uniqueName('e2e_vkinds_t') },
    chunkRows: 200,
    verify: { mode: 'checksum' },
    ...spec,
  });
  return stack.client.result(job.jobId);
}

describe('checksum verification of every job kind', () => {
  it('compares partitions by key range, each against the partition it created', async () => {
    const report = await run({ kind: 'partitions', partitions: [{ table: 'events' }] });
    expect(report.status).toBe('succeeded');
    expect(report.results).toHaveLength(3);
    for (const result of report.results) {
      expect(result.verification).toMatchObject({ mode: 'checksum', matched: true, ranges: 3 });
    }
  });

  it('compares a shard set as a whole, the shard column included', async () => {
    const report = await run({
      kind: 'shards',
      shards: [{ target: 'orders_all', tables: ['orders_s?'], shardColumn: 'source_table' }],
    });
    expect(report.status).toBe('succeeded');
    expect(report.results[0]?.verification).toMatchObject({ mode: 'checksum', matched: true, ranges: 1 });
  });

  it('compares a table without a primary key as a whole', async () => {
    const report = await run({ kind: 'tables', tables: ['log'] });
    expect(report.status).toBe('succeeded');
    expect(report.results[0]?.verification).toMatchObject({ mode: 'checksum', matched: true, ranges: 1 });
  });
});
