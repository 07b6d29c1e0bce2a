import { describe, expect, it } from 'vitest';
import { settledCount } from '../../src/activities/verify';
import { reportText, verificationCell } from '../../src/client/cli/output';
import { checksumSql } from '../../src/connectors/postgres/postgres-checksum';
import type { ColumnMeta } from '../../src/core/table';
import { initialCompareState, type CompareState } from '../../src/core/table-compare';
import type { CopyResult, JobReport, MigrationTask, VerifyResult } from '../../src/core/task';
import { gateProblems } from '../../src/workflows/table-migration';

const columns: ColumnMeta[] = [
  { name: 'id', nativeType: 'bigint', type: { kind: 'int64' }, nullable: false },
  {
    name: 'price',
    nativeType: 'numeric(12,2)',
    type: { kind: 'decimal', precision: 12, scale: 2 },
    nullable: true,
  },
];
const ref = { schema: 's', name: 't' };
const key = [{ name: 'id', nativeType: 'bigint' }];

describe('the in-SQL checksum of PostgreSQL', () => {
  it('hashes the canonical text of each column, seeded by position, then the XOR of those, per key range', () => {
    expect(
      checksumSql(
        ref,
        columns,
        columns.map((c) => c.type),
        key,
        { after: ['10'], upTo: ['20'] },
      ),
    ).toBe(
      `SELECT count(*)::text AS rows, coalesce(sum(hashtextextended((` +
        `coalesce(hashtextextended(("id")::text, 1), 1) # coalesce(hashtextextended((trim_scale("price"))::text, 2), 2)` +
        `)::text, 0)), 0)::text AS sum ` +
        `FROM "s"."t" WHERE ("id") > ('10'::bigint) AND ("id") <= ('20'::bigint)`,
    );
  });

  it('leaves a table to the JS path when a column cannot print its canonical text in SQL', () => {
    const padded: ColumnMeta = {
      name: 'code',
      nativeType: 'character(3)',
      type: { kind: 'text' },
      nullable: true,
    };
    expect(
      checksumSql(
        ref,
        [...columns, padded],
        [...columns, padded].map((c) => c.type),
        key,
        { after: null, upTo: ['1'] },
      ),
    ).toBeNull();
    // A MySQL tinyint read back from a PostgreSQL smallint is still a number, not the boolean it started as.
    const flag: ColumnMeta = {
      name: 'flag',
      nativeType: 'smallint',
      type: { kind: 'int16' },
      nullable: true,
    };
    expect(checksumSql(ref, [flag], [{ kind: 'boolean' }], key, { after: null, upTo: ['1'] })).toBeNull();
  });
});

describe('counting the target before the gate', () => {
  const sleeps: number[] = [];
  const sleep = (ms: number): Promise<void> => {
    sleeps.push(ms);
    return Promise.resolve();
  };

  it('reads a count that shows rows late again until it settles', async () => {
    const reads = [90, 95, 100];
    const result = await settledCount(() => Promise.resolve(reads.shift()!), 100, sleep, [1, 2, 4, 8]);
    expect(result).toEqual({ count: 100, reads: 3 });
  });

  it('returns the last read when the count never settles, and reads once when nothing is expected', async () => {
    expect(await settledCount(() => Promise.resolve(7), 8, sleep, [1, 2])).toEqual({ count: 7, reads: 3 });
    expect(await settledCount(() => Promise.resolve(7), undefined, sleep, [1, 2])).toEqual({
      count: 7,
      reads: 1,
    });
  });
});

describe('the completeness gate', () => {
  const task = { writeMode: 'overwrite', verify: { mode: 'checksum', repair: true } } as MigrationTask;
  const copy: CopyResult = {
    rowsRead: 10,
    rowsWritten: 10,
    chunks: 1,
    resumedAtChunk: 0,
    baselineRows: 0,
    encoding: 'rows',
    durationMs: 1,
  };
  const checksum = (changes: Partial<CompareState>): CompareState => ({
    ...initialCompareState(),
    done: true,
    ranges: 1,
    source: { rows: 10, hash: '00000000000000aa' },
    target: { rows: 10, hash: '00000000000000aa' },
    ...changes,
  });
  const verify = (changes: Partial<VerifyResult>): VerifyResult => ({
    sourceCount: 10,
    targetCount: 10,
    durationMs: 1,
    ...changes,
  });

  it('passes a copy whose counts and checksums agree', () => {
    expect(gateProblems(task, copy, verify({ checksum: checksum({}) }))).toEqual([]);
  });

  it('fails a verify-only task whose counts differ', () => {
    expect(gateProblems(task, undefined, verify({ targetCount: 9 }))).toHaveLength(1);
  });

  it('fails differing checksums unless a repair made every repaired range agree', () => {
    const differing = checksum({
      rangesDiffering: 1,
      target: { rows: 10, hash: '00000000000000ab' },
      changed: 1,
    });
    const repair = {
      supported: true,
      ranges: 1,
      rowsRecopied: 3,
      rangesStillDiffering: 0,
      targetCount: 10,
      durationMs: 1,
    };
    expect(gateProblems(task, copy, verify({ checksum: differing }))).toHaveLength(1);
    expect(gateProblems(task, copy, verify({ checksum: differing, repair }))).toEqual([]);
    expect(
      gateProblems(
        task,
        copy,
        verify({ checksum: differing, repair: { ...repair, rangesStillDiffering: 1 } }),
      ),
    ).toHaveLength(1);
    expect(
      gateProblems(task, copy, verify({ checksum: differing, repair: { ...repair, supported: false } })),
    ).toHaveLength(1);
  });
});

describe('the report', () => {
  it('shows what verification found in a column, and lists the differing keys under the table', () => {
    expect(verificationCell(undefined)).toBe('-');
    expect(verificationCell({ mode: 'checksum', matched: true, durationMs: 1 })).toBe('checksum ok');
    expect(verificationCell({ mode: 'checksum', matched: true, rowsRecopied: 147, durationMs: 1 })).toBe(
      'repaired (147 rows)',
    );
    expect(
      verificationCell({
        mode: 'checksum',
        matched: false,
        missing: 1,
        extra: 1,
        changed: 1,
        narrowed: false,
        durationMs: 1,
      }),
    ).toBe('3+ rows differ');
    const report: JobReport = {
      jobId: 'j',
      status: 'failed',
      tasks: { total: 1, succeeded: 0, failed: 1, skipped: 0 },
      rowsWritten: 0,
      durationMs: 1,
      resultsOmitted: 0,
      continuedAsNew: 0,
      results: [
        {
          taskId: 'j/s.t',
          table: 's.t',
          target: 's.t',
          status: 'failed',
          verification: {
            mode: 'checksum',
            matched: false,
            missing: 1,
            changed: 1,
            narrowed: true,
            keys: [
              { kind: 'missing', key: ['5'] },
              { kind: 'changed', key: ['7', 'a'], columns: ['price'] },
            ],
            durationMs: 1,
          },
        },
      ],
    };
    const text = reportText(report);
    expect(text).toContain('2 rows differ');
    expect(text).toContain('s.t: missing 5; changed (7, a) (price)');
  });
});
