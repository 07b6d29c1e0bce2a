import { expect } from 'vitest';
import { qualifiedName } from '../../src/connectors/postgres/postgres-dialect';
import type { TaskResult } from '../../src/core/task';
import type { JobSpecInput } from '../../src/spec/job-spec';
import { uniqueName } from './services';
import type { Stack } from './stack';

/** One-table jobs for the type tests: fresh PostgreSQL target schemas, a task's result, column types. */
export interface TypeJobs {
  /** A fresh PostgreSQL target schema (named `<prefix>_…`), dropped by {@link TypeJobs.dropSchemas}. */
  pgOut: (prefix: string) => { connection: string; schema: string };
  /** Runs a checksum-verified job of one table in chunks of 500 rows and returns its task result. */
  runTable: (spec: Omit<JobSpecInput, 'kind' | 'tables'>, table: string) => Promise<TaskResult>;
  /** The column types of a PostgreSQL target table, by name, as `format_type()` prints them. */
  pgColumnTypes: (schema: string, table: string) => Promise<Record<string, string>>;
  /** Drops every schema {@link TypeJobs.pgOut} named; for an afterAll. */
  dropSchemas: () => Promise<void>;
}

export function typeJobs(stack: Stack): TypeJobs {
  const schemas: string[] = [];
  return {
    pgOut: (prefix) => {
      const name = uniqueName(prefix);
      schemas.push(name);
      return { connection: 'pg_target', schema: name };
    },
    runTable: async (spec, table) => {
      const job = await stack.client.start({
        kind: 'tables',
        tables: [table],
        chunkRows: 500,
        verify: { mode: 'checksum' },
        ...spec,
      });
      const report = await stack.client.result(job.jobId);
      expect(report.results).toHaveLength(1);
      return report.results[0]!;
    },
    pgColumnTypes: async (schema, table) => {
      const result = await stack.target.query<{ name: string; type: string }>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
         WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
        [qualifiedName({ schema, name: table })],
      );
      return Object.fromEntries(result.rows.map((r) => [r.name, r.type]));
    },
    dropSchemas: async () => {
      for (const schema of schemas) await stack.target.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}
