import { describe, expect, it } from 'vitest';
import type { TableMeta } from '../../src/core/table';
import { formatSpecIssues, parseJobSpec } from '../../src/spec/job-spec';
import { readSpecFile } from '../../src/spec/load';
import { partitionByOf, planShardSets, planTask } from '../../src/workflows/planning';

const minimal = { source: { connection: 'pg_src' }, target: { connection: 'pg_dst' } };

describe('the job spec', () => {
  it('fills in defaults for a minimal spec', () => {
    const parsed = parseJobSpec(minimal);
    expect(parsed.ok && parsed.spec).toMatchObject({
      kind: 'database',
      source: { connection: 'pg_src', schema: 'public' },
      include: ['*'],
      writeMode: 'overwrite',
      createMode: 'ifMissing',
      chunkRows: 50_000,
      verify: { mode: 'count' },
    });
  });

  it('refuses a connection URL, so credentials never enter a workflow input', () => {
    const parsed = parseJobSpec({ ...minimal, source: { connection: 'postgres://u:secret@db/x' } });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues[0]?.path).toBe('source.connection');
  });

  it('reports every problem with its path', () => {
    const parsed = parseJobSpec({ ...minimal, kind: 'tables', chunkRows: 0, extra: 1 });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((i) => i.path).sort()).toEqual(['(root)', 'chunkRows', 'tables']);
    expect(formatSpecIssues(parsed.issues)).toMatch(/^✖ .+\n {2}→ at /);
  });
});

describe('target.partitionBy', () => {
  const table = (name: string, targetEngine: string, parent?: string): TableMeta => ({
    engine: 'postgres',
    ref: { schema: 'public', name },
    columns: [],
    primaryKey: [],
    estimatedRows: 0,
    estimatedBytes: 0,
    targetEngine,
    ...(parent ? { partition: { parent, bound: '', keyDef: '' } } : {}),
  });
  const spec = (partitionBy: unknown) => {
    const parsed = parseJobSpec({ ...minimal, target: { connection: 'lake', partitionBy } });
    if (!parsed.ok) throw new Error(formatSpecIssues(parsed.issues));
    return parsed.spec;
  };

  it('takes a list for every table, or table globs mapped to columns (the first match applies)', () => {
    expect(partitionByOf(spec(['region', 'day']), table('orders', 's3'))).toEqual(['region', 'day']);
    const byTable = spec({ 'events*': ['day'], '*': ['region'] });
    expect(partitionByOf(byTable, table('events_2024', 'local'))).toEqual(['day']);
    expect(partitionByOf(byTable, table('orders', 's3'))).toEqual(['region']);
    // A partition goes by its parent's name.
    expect(partitionByOf(spec({ events: ['day'] }), table('p1', 's3', 'events'))).toEqual(['day']);
    expect(partitionByOf(spec({ events: ['day'] }), table('orders', 's3'))).toBeUndefined();
  });

  it('applies to a shard set by its target name', () => {
    const parsed = parseJobSpec({
      ...minimal,
      kind: 'shards',
      target: { connection: 'lake', partitionBy: { orders_all: ['region'] } },
      shards: [{ target: 'orders_all', tables: ['orders_s*'] }],
    });
    if (!parsed.ok) throw new Error(formatSpecIssues(parsed.issues));
    const [task] = planShardSets(parsed.spec, 'j', [table('orders_s1', 's3'), table('orders_s2', 's3')]);
    expect(task?.partitionBy).toEqual(['region']);
  });

  it('is valid as examples/job-hive.yaml writes it', () => {
    const parsed = parseJobSpec(readSpecFile('examples/job-hive.yaml'));
    expect(parsed.ok && parsed.spec.target.partitionBy).toEqual({
      'orders*': ['region', 'day'],
      events: ['day'],
    });
  });

  it('refuses an empty list, and a database target', () => {
    const parsed = parseJobSpec({ ...minimal, target: { connection: 'lake', partitionBy: [] } });
    expect(!parsed.ok && parsed.issues[0]?.path).toBe('target.partitionBy');
    expect(() => partitionByOf(spec(['region']), table('orders', 'postgres'))).toThrow(
      'target.partitionBy writes Hive folders on object stores (S3, local); lake is a postgres target',
    );
  });

  it('puts a PostgreSQL partition into its parent’s folder on an object store, and leaves it a table on PostgreSQL', () => {
    const partitions = { ...spec(['region']), kind: 'partitions' as const };
    expect(planTask(partitions, 'j', table('events_eu', 's3', 'events'))).toMatchObject({
      taskId: 'j/public.events_eu',
      targetRef: { schema: 'public', name: 'events', partition: 'events_eu' },
      targetParent: 'events',
      partitionBy: ['region'],
    });
    const { partitionBy: _, ...plain } = spec(['region']).target;
    const toPg = { ...spec(['region']), target: plain };
    expect(planTask(toPg, 'j', table('events_eu', 'postgres', 'events')).targetRef).toEqual({
      schema: 'public',
      name: 'events_eu',
    });
  });
});
