import { describe, expect, it } from 'vitest';
import type { DiscoverPage, TableSelection } from '../../src/core/connector';
import { discoverSelection, expandSchemas } from '../../src/core/selection';
import { tableLabel, type TableMeta } from '../../src/core/table';
import { parseJobSpec } from '../../src/spec/job-spec';
import { planShardSets, selectionOf } from '../../src/workflows/planning';

const table = (schema: string, name: string): TableMeta => ({
  engine: 'postgres',
  ref: { schema, name },
  columns: [{ name: 'id', nativeType: 'integer', type: { kind: 'int32' }, nullable: false }],
  primaryKey: ['id'],
  estimatedRows: 10,
  estimatedBytes: 100,
});

const spec = (shards: unknown): ReturnType<typeof parseJobSpec> =>
  parseJobSpec({
    kind: 'shards',
    source: { connection: 'src', schema: 'public' },
    target: { connection: 'dst' },
    shards,
  });

describe('shard sets across schemas', () => {
  it('lists members schema by schema, and keeps the one-schema selection when no pattern names another', () => {
    const across = spec([{ target: 'all', tables: ['shard_b.orders', 'shard_a.orders_*', 'orders_local'] }]);
    expect(across.ok && selectionOf(across.spec)).toMatchObject({
      include: [],
      schemas: [
        { schema: 'shard_b', include: ['orders'] },
        { schema: 'shard_a', include: ['orders_*'] },
        { schema: 'public', include: ['orders_local'] },
      ],
    });
    const local = spec([{ target: 'all', tables: ['orders_s?'] }]);
    expect(local.ok && selectionOf(local.spec)).toEqual({
      schema: 'public',
      include: ['orders_s?'],
      exclude: [],
    });
  });

  it('merges same-named tables of different schemas into one set, ordered by schema and name', () => {
    const parsed = spec([
      { target: 'all', tables: ['shard_b.orders', 'shard_a.orders'], shardColumn: 'src' },
    ]);
    if (!parsed.ok) throw new Error('spec');
    const tables = [table('shard_b', 'orders'), table('shard_a', 'orders'), table('shard_c', 'orders')];
    const [task] = planShardSets(parsed.spec, 'job', tables);
    expect(task?.members?.map((m) => m.constantColumns?.[0]?.value)).toEqual([
      'shard_a.orders',
      'shard_b.orders',
    ]);
    expect(task?.table.primaryKey).toEqual(['src', 'id']);
  });

  it('takes a glob in the schema part, and matches members by both globs', () => {
    const parsed = spec([{ target: 'all', tables: ['shop_*.orders', 'shop_?.refunds'], shardColumn: 'src' }]);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    expect(selectionOf(parsed.spec)).toMatchObject({
      schemas: [
        { schema: 'shop_*', include: ['orders'] },
        { schema: 'shop_?', include: ['refunds'] },
      ],
    });
    const tables = [
      table('shop_eu', 'orders'),
      table('shop_us', 'orders'),
      table('shop_a', 'refunds'),
      table('shop_eu', 'refunds'),
      table('other', 'orders'),
    ];
    const [task] = planShardSets(parsed.spec, 'job', tables);
    expect(task?.members?.map((m) => tableLabel(m.ref))).toEqual([
      'shop_a.refunds',
      'shop_eu.orders',
      'shop_us.orders',
    ]);
    expect(spec([{ target: 'all', tables: ['a.b.c'] }]).ok).toBe(false);
  });

  it('expands schema globs to the schemas the source lists, in order, and refuses a glob that matches none', async () => {
    const source = { listSchemas: () => Promise.resolve(['public', 'shop_eu', 'shop_us', 'shopping']) };
    expect(
      await expandSchemas(source, [
        { schema: 'shop_*', include: ['orders'] },
        { schema: 'public', include: ['orders_local'] },
        { schema: 'shop_us', include: ['refunds'] },
      ]),
    ).toEqual([
      { schema: 'shop_eu', include: ['orders'] },
      { schema: 'shop_us', include: ['orders', 'refunds'] },
      { schema: 'public', include: ['orders_local'] },
    ]);
    await expect(expandSchemas(source, [{ schema: 'shop?x*', include: ['orders'] }])).rejects.toMatchObject({
      code: 'BAD_SPEC',
      message: 'no schema (MySQL: database) of the source matches "shop?x*" (members shop?x*.orders)',
    });
    await expect(expandSchemas({}, [{ schema: 'shop_*', include: ['orders'] }])).rejects.toMatchObject({
      code: 'BAD_SPEC',
    });
    // Without globs, the source is not asked.
    const plain = [{ schema: 'a', include: ['t'] }];
    expect(await expandSchemas({}, plain)).toBe(plain);
  });

  it('pages through each schema in turn with a cursor of [schema, cursor within it]', async () => {
    const seen: TableSelection[] = [];
    const names: Record<string, string[]> = { a: ['t1', 't2', 't3'], b: [], c: ['t1'] };
    const source = {
      discover: (
        selection: TableSelection,
        after: string | null,
        pageSize: number,
      ): Promise<DiscoverPage> => {
        seen.push(selection);
        const all = names[selection.schema]!;
        const start = after === null ? 0 : all.indexOf(after) + 1;
        const page = all.slice(start, start + pageSize);
        const more = start + pageSize < all.length;
        return Promise.resolve({
          tables: page.map((n) => table(selection.schema, n)),
          nextAfter: more ? page[page.length - 1]! : null,
        });
      },
    };
    const selection: TableSelection = {
      schema: 'public',
      include: [],
      exclude: [],
      schemas: ['a', 'b', 'c'].map((schema) => ({ schema, include: ['t*'] })),
    };
    const labels: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: DiscoverPage = await discoverSelection(source, selection, after, 2);
      labels.push(...page.tables.map((t) => `${t.ref.schema}.${t.ref.name}`));
      after = page.nextAfter;
      pages++;
    } while (after !== null);
    expect(labels).toEqual(['a.t1', 'a.t2', 'a.t3', 'c.t1']);
    expect(pages).toBe(4);
    expect(seen[0]).toEqual({ schema: 'a', include: ['t*'], exclude: [] });
  });
});
