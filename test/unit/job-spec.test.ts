import { describe, expect, it } from 'vitest';
import { formatSpecIssues, parseJobSpec } from '../../src/spec/job-spec';

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
