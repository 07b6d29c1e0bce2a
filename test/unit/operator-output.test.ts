import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/client/cli/output';
import { jobSpecJsonSchema } from '../../src/spec/json-schema';
import { progressDetails } from '../../src/workflows/current-details';
import type { JobProgress } from '../../src/workflows/definitions';

describe('the job spec JSON Schema', () => {
  it('in docs/job-spec.schema.json is what `npm run schema` generates now', () => {
    const committed = JSON.parse(
      readFileSync(path.resolve(__dirname, '../../docs/job-spec.schema.json'), 'utf8'),
    ) as unknown;
    expect(committed, 'docs/job-spec.schema.json is stale: run `npm run schema`').toEqual(
      jobSpecJsonSchema(),
    );
  });

  it('describes the input form: only the connections are required, and URLs are refused', () => {
    const schema = jobSpecJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: { source: { properties: { connection: { pattern: string } } } };
    };
    expect(schema.required).toEqual(['source', 'target']);
    expect(schema.additionalProperties).toBe(false);
    expect(
      new RegExp(schema.properties.source.properties.connection.pattern).test('postgres://u:p@h/db'),
    ).toBe(false);
  });
});

describe('progress for people', () => {
  const progress: JobProgress = {
    jobId: 'job1',
    status: 'running',
    paused: true,
    parallelism: 2,
    discoveryDone: false,
    tasks: { total: 7, pending: 3, running: 2, succeeded: 1, failed: 1, skipped: 0 },
    rowsWritten: 1234567,
    estimatedRows: 5000000,
    rowsPerSecond: 4321,
    etaSeconds: 75,
    running: ['job1/public.orders', 'job1/public.items'],
    continuedAsNew: 0,
  };

  it('the Web UI current details are a short Markdown list', () => {
    expect(progressDetails(progress)).toBe(
      [
        '- **running (paused)**: 2/7+ tasks done, 2 running, 1 failed',
        '- **rows written** by finished tasks: 1,234,567 of ~5,000,000 (4,321 rows/s, ETA 1m15s)',
        '- **copying**: public.orders, public.items',
        '- **parallelism**: 2',
      ].join('\n'),
    );
  });

  it('sizes read in binary units', () => {
    expect([0, 1536, 28.2 * 1024 * 1024, 3 * 1024 ** 4].map(formatBytes)).toEqual([
      '0 B',
      '1.5 KiB',
      '28.2 MiB',
      '3.0 TiB',
    ]);
  });
});
