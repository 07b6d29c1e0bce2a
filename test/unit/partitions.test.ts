import { describe, expect, it } from 'vitest';
import { loadDataSql, rowsOf, selectChunkSql } from '../../src/connectors/mysql/mysql-dialect';
import {
  compareLiteralsSql,
  keyCasts,
  mysqlPartitionOf,
  partitionChange,
  partitionedTable,
  plainColumns,
  type PartitionRow,
} from '../../src/connectors/mysql/mysql-partitions';
import {
  partitionClauses,
  partitionTableName,
  qualifiedName,
} from '../../src/connectors/postgres/postgres-dialect';
import {
  compareBounds,
  intersectingRanges,
  padTuple,
  parsePostgresBound,
  postgresPartitionLayout,
  parseValueList,
  rangeWidthProblem,
  type BoundValue,
  type CompareLiterals,
  type PartitionLayout,
  type ValueRange,
} from '../../src/core/partitions';
import type { LogicalType } from '../../src/core/logical-types';
import type { ColumnMeta, TableMeta } from '../../src/core/table';
import { tableLabel } from '../../src/core/table';
import { parseJobSpec } from '../../src/spec/job-spec';
import { planTask, selectionOf } from '../../src/workflows/planning';

/** Compares literals as numbers when both are numeric, else as strings: the engine's job, in JS. */
const jsCompare: CompareLiterals = (pairs) =>
  Promise.resolve(
    pairs.map(({ a, b }) => {
      const numeric = /^-?\d+$/.test(a) && /^-?\d+$/.test(b);
      const [x, y] = numeric ? [Number(a), Number(b)] : [a, b];
      return x < y ? -1 : x > y ? 1 : 0;
    }),
  );

const row = (name: string, description: string, extra: Partial<PartitionRow> = {}): PartitionRow => ({
  tbl: 'events',
  name,
  method: 'RANGE COLUMNS',
  sub_method: null,
  expression: '`at`',
  description,
  est_rows: 10,
  est_bytes: 16384,
  ...extra,
});

const monthly = ['01', '02', '03', '04'].map((m, i) =>
  row(`p${m}`, i === 3 ? 'MAXVALUE' : `'2024-${String(i + 2).padStart(2, '0')}-01'`),
);

const partitionsOf = (rows: PartitionRow[], table = 'events') => {
  const found = partitionedTable('db', table, rows);
  if (found.state !== 'partitioned') throw new Error(found.state);
  return found.partitions;
};

describe('SQL value lists', () => {
  it('reads MySQL partition descriptions: quotes, backslash escapes, keywords, tuples, introducers', () => {
    expect(parseValueList(`'a','it''s','b\\\\x',_utf8mb4'c'`, { backslashEscapes: true })).toEqual([
      'a',
      "it's",
      'b\\x',
      'c',
    ]);
    expect(parseValueList('NULL,1,-2', { backslashEscapes: true })).toEqual([null, '1', '-2']);
    expect(parseValueList(`(1,'a'),(3,NULL)`, { backslashEscapes: true })).toEqual([
      ['1', 'a'],
      ['3', null],
    ]);
    expect(parseValueList('1,MAXVALUE', { backslashEscapes: true })).toEqual([
      '1',
      { unbounded: 'MAXVALUE' },
    ]);
  });

  it('reads PostgreSQL bounds, with standard strings and DEFAULT', () => {
    expect(parsePostgresBound(`FOR VALUES FROM (MINVALUE) TO ('2024-01-01 00:00:00+00')`)).toEqual({
      from: [{ unbounded: 'MINVALUE' }],
      to: ['2024-01-01 00:00:00+00'],
    });
    expect(parsePostgresBound(`FOR VALUES FROM (1, 'x') TO (2, MAXVALUE)`)).toEqual({
      from: ['1', 'x'],
      to: ['2', { unbounded: 'MAXVALUE' }],
    });
    expect(parsePostgresBound(`FOR VALUES IN ('a', 'it''s', 'b\\c', NULL)`)).toEqual({
      values: [['a'], ["it's"], ['b\\c'], [null]],
    });
    expect(parsePostgresBound('DEFAULT')).toBeNull();
    expect(parsePostgresBound('FOR VALUES WITH (modulus 4, remainder 0)')).toBeNull();
  });
});

describe('comparing bounds', () => {
  it('orders tuples left to right, MINVALUE below and MAXVALUE above every literal, in one batch', async () => {
    let batches = 0;
    const counting: CompareLiterals = (pairs) => {
      batches++;
      return jsCompare(pairs);
    };
    const max = { unbounded: 'MAXVALUE' } as const;
    const min = { unbounded: 'MINVALUE' } as const;
    expect(
      await compareBounds(
        [
          [
            ['1', '5'],
            ['1', '7'],
          ],
          [
            ['2', '0'],
            ['1', '9'],
          ],
          [
            ['1', max],
            ['1', max],
          ],
          [[min], ['-100']],
          [['3'], [max]],
          [['10'], ['9']],
        ],
        counting,
      ),
    ).toEqual([-1, 1, 0, -1, -1, 1]);
    expect(batches).toBe(1);
  });

  it('chooses RANGE partitions whose [from, to) intersects the range asked for', async () => {
    const bounds = partitionsOf(monthly).map((p) => ({ from: p.layout.from!, to: p.layout.to! }));
    // p01 < Feb, p02 [Feb, Mar), p03 [Mar, Apr), p04 ≥ Apr.
    expect(await intersectingRanges(bounds, { from: ['2024-02-15'], to: ['2024-03-01'] }, jsCompare)).toEqual(
      [false, true, false, false],
    );
    expect(await intersectingRanges(bounds, { from: ['2024-03-01'] }, jsCompare)).toEqual([
      false,
      false,
      true,
      true,
    ]);
    expect(await intersectingRanges(bounds, { to: ['2024-02-01'] }, jsCompare)).toEqual([
      true,
      false,
      false,
      false,
    ]);
  });
});

describe('value ranges of RANGE keys of several columns', () => {
  // Quarters of (y, m): [(2023,1),(2023,4)), [(2023,4),(2023,7)), … [(2024,10), MAXVALUE).
  const quarters = [2023, 2024].flatMap((y) =>
    [1, 4, 7, 10].map((m): { from: BoundValue[]; to: BoundValue[] } => ({
      from: [String(y), String(m)],
      to: m === 10 ? [String(y + 1), '1'] : [String(y), String(m + 3)],
    })),
  );
  quarters[quarters.length - 1]!.to = [{ unbounded: 'MAXVALUE' }, { unbounded: 'MAXVALUE' }];
  const chosen = async (range: ValueRange): Promise<string[]> =>
    (await intersectingRanges(quarters, range, jsCompare)).flatMap((hit, i) =>
      hit ? [`${quarters[i]!.from[0] as string}Q${(i % 4) + 1}`] : [],
    );

  it('compares tuples left to right, as the database compares rows', async () => {
    expect(await chosen({ from: ['2023', '5'], to: ['2024', '1'] })).toEqual(['2023Q2', '2023Q3', '2023Q4']);
    expect(await chosen({ from: ['2024', '12'] })).toEqual(['2024Q4']);
    expect(await chosen({ from: ['2023', '6'], to: ['2023', '7'] })).toEqual(['2023Q2']);
  });

  it('fills a prefix up with MINVALUE: to [2024] is every year below 2024, from [2024] every month of 2024 on', async () => {
    expect(await chosen({ to: ['2024'] })).toEqual(['2023Q1', '2023Q2', '2023Q3', '2023Q4']);
    // 2023Q4 ends at (2024, 1), exclusive: it may hold (2024, 0), which is ≥ (2024, MINVALUE).
    expect(await chosen({ from: ['2024'] })).toEqual(['2023Q4', '2024Q1', '2024Q2', '2024Q3', '2024Q4']);
    expect(await chosen({ from: ['2024', '1'] })).toEqual(['2024Q1', '2024Q2', '2024Q3', '2024Q4']);
    expect(padTuple(['1'], 3)).toEqual(['1', { unbounded: 'MINVALUE' }, { unbounded: 'MINVALUE' }]);
  });

  it('takes a value or a tuple in the spec, and hands the source tuples of text', () => {
    const parsed = parseJobSpec({
      kind: 'partitions',
      source: { connection: 'pg' },
      target: { connection: 'my' },
      partitions: [{ table: 'sales', from: [2023, '5'], to: 2024 }],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    expect(selectionOf(parsed.spec).partitions).toEqual([
      { table: 'sales', include: ['*'], exclude: [], from: ['2023', '5'], to: ['2024'] },
    ]);
    const empty = parseJobSpec({
      kind: 'partitions',
      source: { connection: 'pg' },
      target: { connection: 'my' },
      partitions: [{ table: 'sales', from: [] }],
    });
    expect(empty.ok).toBe(false);
  });

  it('refuses tuples wider than the key', () => {
    expect(rangeWidthProblem({ from: ['1', '2', '3'] }, 2)).toBe(
      'from/to give 3 values, but the RANGE key has 2 columns',
    );
    expect(rangeWidthProblem({ from: ['1'], to: ['2', '3'] }, 2)).toBeNull();
  });

  it('reads MySQL RANGE COLUMNS bounds of two columns as tuples', () => {
    const parts = partitionsOf([
      row('a', '2024,4', { expression: '`y`,`m`' }),
      row('b', '2024,MAXVALUE', { expression: '`y`,`m`' }),
    ]);
    expect(parts[1]!.layout).toMatchObject({ from: ['2024', '4'], to: ['2024', { unbounded: 'MAXVALUE' }] });
    expect(parts[0]!.layout.from).toEqual([{ unbounded: 'MINVALUE' }, { unbounded: 'MINVALUE' }]);
  });
});

describe('PostgreSQL partitions on a MySQL target', () => {
  const col = (name: string, nativeType: string, type: LogicalType): ColumnMeta => ({
    name,
    nativeType,
    type,
    nullable: false,
  });
  const pgPartition = (
    layout: Partial<PartitionLayout>,
    columns: ColumnMeta[],
    primaryKey: string[] = ['id'],
  ): TableMeta => ({
    engine: 'postgres',
    ref: { schema: 'public', name: 'events_p' },
    columns: [col('id', 'bigint', { kind: 'int64' }), ...columns],
    primaryKey,
    estimatedRows: 0,
    estimatedBytes: 0,
    partition: {
      parent: 'events',
      bound: '(PostgreSQL bound)',
      keyDef: 'RANGE (at)',
      layout: { method: 'range', columns: ['at'], expression: 'RANGE (at)', ...layout },
    },
  });
  const at = col('at', 'date', { kind: 'date' });

  it('become RANGE COLUMNS partitions with their upper bound only; MAXVALUE stays at the top', () => {
    const first = pgPartition({ from: [{ unbounded: 'MINVALUE' }], to: ['2024-02-01'] }, [at]);
    expect(mysqlPartitionOf(first, false)).toEqual({
      keyDef: 'RANGE COLUMNS(`at`)',
      bound: "VALUES LESS THAN ('2024-02-01')",
      layout: { method: 'range', columns: ['at'], expression: '`at`', to: ['2024-02-01'] },
    });
    const top = pgPartition({ from: ['2024-12-01'], to: [{ unbounded: 'MAXVALUE' }] }, [at]);
    expect(mysqlPartitionOf(top, false).bound).toBe('VALUES LESS THAN (MAXVALUE)');
    const ym = pgPartition(
      { columns: ['y', 'm'], from: ['2024', '1'], to: ['2024', { unbounded: 'MAXVALUE' }] },
      [col('y', 'integer', { kind: 'int32' }), col('m', 'smallint', { kind: 'int16' })],
    );
    expect(mysqlPartitionOf(ym, false)).toMatchObject({
      keyDef: 'RANGE COLUMNS(`y`,`m`)',
      bound: 'VALUES LESS THAN (2024,MAXVALUE)',
    });
    // A timestamptz DATETIME holds UTC without the zone, as rows are written.
    const ts = pgPartition(
      { columns: ['ts'], from: [{ unbounded: 'MINVALUE' }], to: ['2024-02-01 00:00:00+00'] },
      [col('ts', 'timestamp with time zone', { kind: 'timestamptz', precision: 6 })],
    );
    expect(mysqlPartitionOf(ts, false).bound).toBe("VALUES LESS THAN ('2024-02-01 00:00:00')");
  });

  it('become LIST COLUMNS partitions, NULL and quotes kept; a text key of the primary key is a varchar', () => {
    const region = col('region', 'text', { kind: 'text' });
    const list = pgPartition(
      { method: 'list', columns: ['region'], values: [['de'], ["it's \\ x"], [null]] },
      [region],
      ['id', 'region'],
    );
    expect(mysqlPartitionOf(list, false)).toMatchObject({
      keyDef: 'LIST COLUMNS(`region`)',
      bound: "VALUES IN ('de','it''s \\\\ x',NULL)",
      layout: { values: [['de'], ["it's \\ x"], [null]] },
    });
  });

  it('are planned as partitions of their renamed parent, keeping their names; on PostgreSQL they stay tables', () => {
    const parsed = parseJobSpec({
      kind: 'partitions',
      source: { connection: 'pg', schema: 'public' },
      target: { connection: 'my', schema: 'out' },
      partitions: [{ table: 'events' }],
      naming: { prefix: 'stg_' },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const table = pgPartition({ to: ['2024-02-01'] }, [at]);
    const onMysql = planTask(parsed.spec, 'job', { ...table, targetEngine: 'mysql' });
    expect(onMysql).toMatchObject({
      taskId: 'job/public.events_p',
      targetRef: { schema: 'out', name: 'stg_events', partition: 'events_p' },
      targetParent: 'stg_events',
    });
    const onPostgres = planTask(parsed.spec, 'job', { ...table, targetEngine: 'postgres' });
    expect(onPostgres.targetRef).toEqual({ schema: 'out', name: 'stg_events_p' });
  });

  it('are refused with BAD_SPEC naming the table where MySQL cannot follow', () => {
    const refused = (table: TableMeta): string => {
      try {
        mysqlPartitionOf(table, false);
      } catch (e) {
        expect(e).toMatchObject({ code: 'BAD_SPEC', context: { table: 'public.events' } });
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    expect(
      refused(pgPartition({ columns: null, expression: 'RANGE (lower(code))', to: ['a'] }, [at])),
    ).toMatch(
      /^public\.events \(partition events_p\) is partitioned by the expression RANGE \(lower\(code\)\)/,
    );
    expect(refused(pgPartition({ from: undefined, to: undefined }, [at]))).toMatch(
      /is the DEFAULT partition/,
    );
    expect(
      refused(
        pgPartition({ from: ['1'], to: ['2'] }, [
          col('at', 'numeric(10,2)', { kind: 'decimal', precision: 10, scale: 2 }),
        ]),
      ),
    ).toMatch(/key column at of type numeric\(10,2\), decimal\(10,2\) on MySQL/);
    expect(refused(pgPartition({ from: ['x'], to: ['y'] }, [col('at', 'text', { kind: 'text' })]))).toMatch(
      /longtext on MySQL/,
    );
    const ym = [col('y', 'integer', { kind: 'int32' }), col('m', 'integer', { kind: 'int32' })];
    expect(
      refused(
        pgPartition(
          { columns: ['y', 'm'], from: ['2023', '1'], to: ['2024', { unbounded: 'MINVALUE' }] },
          ym,
        ),
      ),
    ).toMatch(/ends at MINVALUE in column m/);
    const hash = pgPartition({}, [at]);
    delete hash.partition!.layout;
    expect(refused(hash)).toMatch(/RANGE and LIST partitions only/);
  });
});

describe('MySQL partitions', () => {
  it('gives each RANGE partition the bound before it as its lower end', () => {
    const parts = partitionsOf(monthly);
    expect(parts.map((p) => p.name)).toEqual(['p01', 'p02', 'p03', 'p04']);
    expect(parts[0]).toMatchObject({
      keyDef: 'RANGE COLUMNS(`at`)',
      bound: "VALUES LESS THAN ('2024-02-01')",
      layout: { method: 'range', columns: ['at'], from: [{ unbounded: 'MINVALUE' }], to: ['2024-02-01'] },
    });
    expect(parts[3]!.layout).toMatchObject({ from: ['2024-04-01'], to: [{ unbounded: 'MAXVALUE' }] });
  });

  it('knows plain-column keys from expressions', () => {
    expect(plainColumns('`a`,`b``c`')).toEqual(['a', 'b`c']);
    expect(plainColumns('year(`at`)')).toBeNull();
    const list = partitionsOf([
      row('pa', "'a','b'", { method: 'LIST COLUMNS', expression: '`c`' }),
      row('pb', '(1,NULL)', { method: 'LIST COLUMNS', expression: '`c`,`d`', tbl: 'l2' }),
    ]);
    expect(list[0]!.layout).toEqual({
      method: 'list',
      columns: ['c'],
      expression: '`c`',
      values: [['a'], ['b']],
    });
    expect(
      partitionsOf([row('y', '2024', { method: 'RANGE', expression: 'year(`at`)' })])[0]!.layout.columns,
    ).toBeNull();
  });

  it('refuses subpartitions and HASH partitions, and tells missing and unpartitioned tables apart', () => {
    expect(() => partitionedTable('db', 'events', [row('a', '1', { sub_method: 'HASH' })])).toThrow(
      /subpartitioned/,
    );
    expect(() => partitionedTable('db', 'events', [row('a', '', { method: 'HASH' })])).toThrow(/by HASH/);
    expect(partitionedTable('db', 'other', monthly)).toEqual({ state: 'missing' });
    expect(partitionedTable('db', 'events', [row('', '', { name: null })])).toEqual({
      state: 'unpartitioned',
    });
  });

  it('adds a RANGE partition at the end, splits the partition above it otherwise, and refuses a clash', async () => {
    const source = partitionsOf(monthly);
    const [p01, p02, p03] = source;
    const parent = { schema: 'db', name: 'events' };
    const only03 = partitionsOf([row('p03', "'2024-04-01'")]);
    expect(await partitionChange(parent, only03, p01!, jsCompare)).toEqual({
      sql: "ALTER TABLE `db`.`events` REORGANIZE PARTITION `p03` INTO (PARTITION `p01` VALUES LESS THAN ('2024-02-01'), PARTITION `p03` VALUES LESS THAN ('2024-04-01'))",
      reorganized: true,
    });
    const only01 = partitionsOf([row('p01', "'2024-02-01'")]);
    expect(await partitionChange(parent, only01, p03!, jsCompare)).toEqual({
      sql: "ALTER TABLE `db`.`events` ADD PARTITION (PARTITION `p03` VALUES LESS THAN ('2024-04-01'))",
      reorganized: false,
    });
    expect(await partitionChange(parent, only01, p01!, jsCompare)).toEqual({ sql: null, reorganized: false });
    const renamed = partitionsOf([row('feb', "'2024-03-01'")]);
    await expect(partitionChange(parent, renamed, p02!, jsCompare)).rejects.toThrow(
      /already ends where p02 ends/,
    );
    const byId = partitionsOf([row('p01', '10', { method: 'RANGE', expression: '`id`' })]);
    await expect(partitionChange(parent, byId, p02!, jsCompare)).rejects.toThrow(
      /partitioned by RANGE\(`id`\)/,
    );
  });

  it('reads and writes one partition with PARTITION (p), and compares literals as key values', () => {
    const ref = { schema: 'db', name: 'events', partition: 'p01' };
    expect(rowsOf(ref)).toBe('`db`.`events` PARTITION (`p01`)');
    expect(tableLabel(ref)).toBe('db.events/p01');
    const columns: ColumnMeta[] = [
      { name: 'at', nativeType: 'date', type: { kind: 'date' }, nullable: false },
    ];
    expect(selectChunkSql(ref, columns, [], null, []).sql).toContain('FROM `db`.`events` PARTITION (`p01`)');
    expect(loadDataSql(ref, columns, true)).toContain(
      'INTO TABLE `db`.`events` PARTITION (`p01`) CHARACTER SET',
    );
    const casts = keyCasts(partitionsOf(monthly)[0]!.layout, columns);
    expect(casts).toEqual(['CAST(? AS DATE)']);
    // Text compares in the column's collation: a MySQL column's own, utf8mb4_bin for another engine's text.
    const names = partitionsOf([row('pm', "'M'", { expression: '`name`' })])[0]!.layout;
    const text = (nativeType: string): ColumnMeta[] => [
      { name: 'name', nativeType, type: { kind: 'string', length: 8 }, nullable: false },
    ];
    expect(keyCasts(names, text('varchar(8) COLLATE latin1_swedish_ci'))).toEqual([
      'CONVERT(? USING latin1) COLLATE latin1_swedish_ci',
    ]);
    expect(keyCasts(names, text('character varying(8)'), false)).toEqual([
      'CONVERT(? USING utf8mb4) COLLATE utf8mb4_bin',
    ]);
    expect(compareLiteralsSql([{ a: '2024-3-1', b: '2024-02-01', column: 0 }], casts)).toEqual({
      sql: 'SELECT (CAST(? AS DATE) > CAST(? AS DATE)) - (CAST(? AS DATE) < CAST(? AS DATE)) AS c0',
      params: ['2024-3-1', '2024-02-01', '2024-3-1', '2024-02-01'],
    });
  });
});

describe('MySQL partitions on a PostgreSQL target', () => {
  const meta = (rows: PartitionRow[], index: number): TableMeta => {
    const p = partitionsOf(rows)[index]!;
    return {
      engine: 'mysql',
      ref: { schema: 'db', name: 'events', partition: p.name },
      columns: [],
      primaryKey: [],
      estimatedRows: 0,
      estimatedBytes: 0,
      partition: { parent: 'events', bound: p.bound, keyDef: p.keyDef, layout: p.layout },
    };
  };

  it('become declarative partitions FROM the previous bound TO their own, as tables <table>_<partition>', () => {
    expect(partitionClauses(meta(monthly, 0), false)).toEqual({
      keyDef: 'RANGE ("at")',
      bound: "FOR VALUES FROM (MINVALUE) TO ('2024-02-01')",
    });
    expect(partitionClauses(meta(monthly, 3), false)?.bound).toBe(
      "FOR VALUES FROM ('2024-04-01') TO (MAXVALUE)",
    );
    const list = [row('pa', "NULL,'it''s'", { method: 'LIST COLUMNS', expression: '`c`' })];
    expect(partitionClauses(meta(list, 0), false)).toEqual({
      keyDef: 'LIST ("c")',
      bound: "FOR VALUES IN (NULL, 'it''s')",
    });
    expect(qualifiedName({ schema: 'out', name: 'events', partition: 'p01' })).toBe('"out"."events_p01"');
    // A PostgreSQL DEFAULT partition described in neutral terms (read back from an object store) stays DEFAULT.
    const other = meta(list, 0);
    other.partition!.layout = { method: 'list', columns: ['c'], expression: 'LIST (c)' };
    expect(partitionClauses(other, false)).toEqual({ keyDef: 'LIST ("c")', bound: 'DEFAULT' });
  });

  it('shorten a table name <table>_<partition> past 63 bytes to a prefix and a hash, the same every time', () => {
    const table = 'a_rather_long_table_name_of_events_by_month_and_region';
    const name = partitionTableName(table, 'p2024_01_europe');
    expect(name).toBe(`${`${table}_p2024_01_europe`.slice(0, 50)}_${name.slice(-12)}`);
    expect(name).toMatch(/_[0-9a-f]{12}$/);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(partitionTableName(table, 'p2024_01_europe')).toBe(name);
    // Names that share their first 50 bytes still differ.
    expect(partitionTableName(table, 'p2024_01_europa')).not.toBe(name);
    expect(partitionTableName('events', 'p01')).toBe('events_p01');
    expect(partitionTableName('e'.repeat(31), 'p'.repeat(31))).toBe(`${'e'.repeat(31)}_${'p'.repeat(31)}`);
    // Cut on a character boundary: 'é' is 2 bytes.
    const accented = partitionTableName('é'.repeat(40), 'p');
    expect(accented).toBe(`${'é'.repeat(25)}_${accented.slice(-12)}`);
    expect(Buffer.byteLength(accented)).toBe(63);
    expect(qualifiedName({ schema: 'out', name: table, partition: 'p2024_01_europe' })).toBe(
      `"out"."${name}"`,
    );
  });

  it('are refused with BAD_SPEC when keyed by an expression or a multi-column list', () => {
    const byYear = [row('y24', '2025', { method: 'RANGE', expression: 'year(`at`)' })];
    expect(() => partitionClauses(meta(byYear, 0), false)).toThrow(/expression year\(`at`\).*plain columns/);
    const wide = [row('pa', "(1,'a')", { method: 'LIST COLUMNS', expression: '`c`,`d`' })];
    expect(() => partitionClauses(meta(wide, 0), false)).toThrow(/LIST-partitioned by 2 columns/);
  });
});

describe('postgresPartitionLayout', () => {
  it('describes LIST and RANGE partitions keyed by columns, quoted or not', () => {
    expect(postgresPartitionLayout('LIST ("Region")', "FOR VALUES IN ('eu', NULL)")).toEqual({
      method: 'list',
      columns: ['Region'],
      expression: '"Region"',
      values: [['eu'], [null]],
    });
    expect(
      postgresPartitionLayout(
        'RANGE (at, id)',
        "FOR VALUES FROM ('2024-01-01', MINVALUE) TO ('2024-02-01', 5)",
      ),
    ).toMatchObject({
      method: 'range',
      columns: ['at', 'id'],
      from: ['2024-01-01', { unbounded: 'MINVALUE' }],
    });
  });

  it('gives expression keys no columns, and HASH or DEFAULT partitions no layout', () => {
    expect(postgresPartitionLayout('LIST (lower(name))', "FOR VALUES IN ('a')")?.columns).toBeNull();
    expect(postgresPartitionLayout('HASH (id)', 'FOR VALUES WITH (modulus 2, remainder 0)')).toBeNull();
    expect(postgresPartitionLayout('LIST (region)', 'DEFAULT')).toBeNull();
  });
});
