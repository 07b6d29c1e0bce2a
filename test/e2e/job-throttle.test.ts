import { beforeAll, describe, expect, it } from 'vitest';
import { createMixedTable } from '../fixtures/pg-mixed';
import { uniqueName } from '../support/services';
import { useStack } from '../support/stack';

/*
 * A job-wide rate limit (`jobThrottle`) is shared by the tasks that may run at once: two tables
 * copied side by side under 10,000 rows/s each go at about 5,000 rows/s, so the job stays within its
 * limit while both run.
 */
const stack = useStack('jthrottle');
const { source, schema } = stack;
const rows = 20_000;

beforeAll(async () => {
  for (const name of ['a', 'b']) await createMixedTable(source, schema, name, rows);
});

describe('a job-wide throttle', () => {
  it('splits its limit between the tasks running at once: each stays under its share, and near it', async () => {
    const job = await stack.client.start({
      kind: 'tables',
      tables: ['a', 'b'],
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target', schema: uniqueName('e2e_jthrottle_out') },
      chunkRows: 1_000,
      maxParallelTasks: 2,
      jobThrottle: { rowsPerSecond: 10_000 },
    });
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    const rates = report.results.map((r) => r.rowsWritten! / (r.copyMs! / 1000));
    console.log(
      `job throttle 10,000 rows/s over 2 tasks: ${rates.map((r) => Math.round(r).toLocaleString('en-US')).join(' and ')} rows/s`,
    );
    expect(report.results).toHaveLength(2);
    for (const rate of rates) {
      // Never over the share (10% for clock noise); under it by what a task's start and end cost.
      expect(rate).toBeLessThanOrEqual(5_000 * 1.1);
      expect(rate).toBeGreaterThanOrEqual(5_000 * 0.75);
    }
  });
});
