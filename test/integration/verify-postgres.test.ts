import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCopyLine } from '../../src/connectors/postgres/postgres-copy-text';
import { createTableSql, quoteIdent } from '../../src/connectors/postgres/postgres-dialect';
import { openSource, openTarget } from '../../src/connectors/registry';
import { checksumOf, RowChecksum } from '../../src/core/checksum';
import { ChunkEncoding, type Source } from '../../src/core/connector';
import type { TableMeta } from '../../src/core/table';
import {
  compareMatched,
  compareTables,
  countDifferingRanges,
  type CompareOptions,
} from '../../src/core/table-compare';
import { ConnectionConfig } from '../../src/spec/connections';
import { edgeColumns, edgeRows } from '../fixtures/edge-values';
import { createMixedTable } from '../fixtures/pg-mixed';
import { adminPool, services, uniqueName } from '../support/services';

const schema = uniqueName('it_verify');
const sourceAdmin = adminPool(services.pg.sourceDb);
const targetAdmin = adminPool(services.pg.targetDb);

/** A connector over one of the test databases, as the worker would open it. */
const connection = (database: string) => ({
  name: database,
  config: ConnectionConfig.parse({
    engine: 'postgres',
    host: services.pg.host,
    port: services.pg.port,
    database,
    user: services.pg.user,
  }),
  password: services.pg.password,
});
const source = openSource(connection(services.pg.sourceDb));
const target = openSource(connection(services.pg.targetDb));
const writer = openTarget(connection(services.pg.targetDb));

/** The same source without its in-SQL checksum, so every row is hashed in JS. */
const jsOnly = (s: Source): Source => Object.create(s, { checksum: { value: undefined } }) as Source;

async function tableIn(side: Source, name: string): Promise<TableMeta> {
  const page = await side.discover({ schema, tables: [name], include: ['*'], exclude: [] }, null, 10);
  return page.tables[0]!;
}

beforeAll(async () => {
  await createMixedTable(sourceAdmin, schema, 'mixed', 5_000);
  await createMixedTable(targetAdmin, schema, 'mixed', 5_000);
  // The edge values, written the way a copy writes them.
  const ref = { schema, name: 'edges' };
  await sourceAdmin.query(createTableSql(ref, edgeColumns, ['id'], false));
  const client = await sourceAdmin.connect();
  try {
    const copy = client.query(
      copyFrom(
        `COPY ${quoteIdent(schema)}.edges (${edgeColumns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`,
      ),
    );
    await pipeline(Readable.from(edgeRows.map(encodeCopyLine)), copy);
  } finally {
    client.release();
  }
});

afterAll(async () => {
  await Promise.all([source.close(), target.close(), writer.close(), sourceAdmin.end(), targetAdmin.end()]);
});

describe('checksums computed in PostgreSQL', () => {
  it('equal the JS checksum of the rows read back and of the original values, for every edge value', async () => {
    const table = await tableIn(source, 'edges');
    const types = edgeColumns.map((c) => c.type);
    const range = (await source.nextChunk(table, null, 1_000_000))!;
    const inSql = await source.checksum!(table, range, types);
    const readBack = new RowChecksum(types);
    const chunk = await source.read(table, range, ChunkEncoding.Rows);
    if (chunk.data.encoding !== ChunkEncoding.Rows) throw new Error('rows expected');
    for await (const row of chunk.data.rows) readBack.add(row);

    expect(inSql).not.toBeNull();
    expect(readBack.result()).toEqual(inSql);
    expect(checksumOf(edgeRows, types)).toEqual(inSql);
  });

  it('equal the JS checksum for infinities, NaN, -0, quotes, backslashes, arrays and jsonb', async () => {
    const t = `${quoteIdent(schema)}.specials`;
    await sourceAdmin.query(`CREATE TABLE ${t} (id int PRIMARY KEY, ts timestamp, tstz timestamptz, d date,
      n numeric, r real, f double precision, tm time(3), j jsonb, a text[], s text, b bytea)`);
    await sourceAdmin.query(`INSERT INTO ${t} VALUES
      (1, 'infinity', '-infinity', 'infinity', 'Infinity', 'Infinity', '-Infinity', '24:00', '{"b": [1.50, null], "a": "é"}',
          '{"x y","q\\"z",NULL,""}', 'a"b\\c(d),e f' || chr(9) || 'g', '\\x'),
      (2, '-infinity', 'infinity', '-infinity', 'NaN', 'NaN', 'NaN', '00:00:00.100', '[]', '{}', '', NULL),
      (3, '2000-01-01 00:00:00.100', '1999-12-31 23:00:00-01', '2000-01-01', '-0.000', '-0', '-0', '12:00:00.5',
          'null', NULL, ' ', '\\x00')`);
    const table = await tableIn(source, 'specials');
    const types = table.columns.map((c) => c.type);
    const range = (await source.nextChunk(table, null, 100))!;
    const readBack = new RowChecksum(types);
    const chunk = await source.read(table, range, ChunkEncoding.Rows);
    if (chunk.data.encoding !== ChunkEncoding.Rows) throw new Error('rows expected');
    for await (const row of chunk.data.rows) readBack.add(row);

    expect(await source.checksum!(table, range, types)).toEqual(readBack.result());
  });
});

describe('comparing a PostgreSQL table with its copy', () => {
  let options: CompareOptions;
  let sourceTable: TableMeta;
  let targetTable: TableMeta;

  beforeAll(async () => {
    // The target is the same generated table, then tampered with; the source loses its last row,
    // so the target has a row past the source's last key.
    const t = `${quoteIdent(schema)}.mixed`;
    await targetAdmin.query(`DELETE FROM ${t} WHERE id = 100`);
    await targetAdmin.query(
      `INSERT INTO ${t} (id, qty, price, name, at, flag) VALUES (-7, 1, 1.5, 'new', now(), true)`,
    );
    await targetAdmin.query(`UPDATE ${t} SET name = 'changed' WHERE id = 2000`);
    await sourceAdmin.query(`DELETE FROM ${t} WHERE id = 9223372036854775807`);
    sourceTable = await tableIn(source, 'mixed');
    targetTable = await tableIn(target, 'mixed');
    options = {
      types: sourceTable.columns.map((c) => c.type),
      columnNames: sourceTable.columns.map((c) => c.name),
      keyIndexes: [0],
      byKey: true,
      rangeRows: 1_000,
      leafRows: 64,
      maxKeys: 20,
      maxRepairRanges: 100,
    };
  });

  const sides = (s: Source, t: Source) =>
    [
      { source: s, tables: [sourceTable] },
      { source: t, tables: [targetTable] },
    ] as const;

  it('names the missing, extra and changed keys, with extra rows past the last source key', async () => {
    const state = await compareTables(...sides(source, target), options);

    expect(compareMatched(state)).toBe(false);
    expect(state).toMatchObject({ missing: 1, extra: 2, changed: 1, narrowed: true, ranges: 7 });
    expect(state.keys).toEqual(
      expect.arrayContaining([
        { kind: 'missing', key: ['100'] },
        { kind: 'extra', key: ['-7'] },
        { kind: 'extra', key: ['9223372036854775807'] },
        { kind: 'changed', key: ['2000'], columns: ['name'] },
      ]),
    );
    expect(state.repairRanges).toHaveLength(4);
  });

  it('finds the same differences when every row is hashed in JS', async () => {
    const inSql = await compareTables(...sides(source, target), options);
    const inJs = await compareTables(...sides(jsOnly(source), jsOnly(target)), options);
    expect(inJs).toEqual(inSql);
  });

  it('repairs the differing ranges by re-copying at most 64 rows each, after which the tables match', async () => {
    const state = await compareTables(...sides(source, target), options);
    let recopied = 0;
    for (const range of state.repairRanges!) {
      const chunk = await source.read(sourceTable, range, ChunkEncoding.PgCopyText);
      recopied += await writer.replaceRange!(sourceTable, { schema, name: 'mixed' }, range, chunk);
    }

    expect(recopied).toBeGreaterThan(0);
    expect(recopied).toBeLessThanOrEqual(4 * 64);
    expect(await countDifferingRanges(...sides(source, target), options.types, state.repairRanges!)).toBe(0);
    expect(compareMatched(await compareTables(...sides(source, target), options))).toBe(true);
  });
});

describe('chunks read from PostgreSQL', () => {
  it('hand a chunk released unread its error on reading, instead of crashing the process', async () => {
    const table = await tableIn(source, 'mixed');
    const range = (await source.nextChunk(table, null, 1_000))!;
    for (const encoding of [ChunkEncoding.PgCopyText, ChunkEncoding.Rows]) {
      const chunk = await source.read(table, range, encoding);
      // The next chunk, waiting its turn, when the one before it failed.
      chunk.release(new Error('the chunk before failed'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const reading = async (): Promise<void> => {
        const data = chunk.data;
        const items = 'stream' in data ? data.stream : data.rows;
        for await (const item of items as AsyncIterable<unknown>) void item;
      };
      await expect(reading()).rejects.toThrow('the chunk before failed');
    }
    // The pool still serves whole chunks.
    const again = await source.read(table, range, ChunkEncoding.Rows);
    if (again.data.encoding !== ChunkEncoding.Rows) throw new Error('expected rows');
    let rows = 0;
    for await (const row of again.data.rows) if (row) rows++;
    expect(rows).toBe(1_000);
  });
});
