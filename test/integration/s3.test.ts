import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ChunkEncoding, type Checkpoint, type ChunkStream, type Row } from '../../src/core/connector';
import type { TableMeta, TableRef } from '../../src/core/table';
import { LocalStore } from '../../src/connectors/s3/local-store';
import type { ObjectBody, ObjectStore } from '../../src/connectors/s3/object-store';
import { partFormats } from '../../src/connectors/s3/s3-format';
import { S3Source } from '../../src/connectors/s3/s3-source';
import { openS3Store } from '../../src/connectors/s3/s3-store';
import { S3Target } from '../../src/connectors/s3/s3-target';
import { collect, edgeColumns, edgeRows } from '../fixtures/edge-values';
import { uniqueName } from '../support/services';
import { s3Connection, s3Settings } from '../support/s3';

const runPrefix = `${uniqueName('it_s3')}/`;
const opened: ObjectStore[] = [];

/** The stores every target and source test runs against: the real S3 server and a local directory. */
const stores: { name: string; open: (prefix: string) => ObjectStore }[] = [
  { name: 'S3 (SeaweedFS)', open: (prefix) => openS3Store(s3Connection({ prefix: runPrefix + prefix })) },
  {
    name: 'a local directory',
    open: () => new LocalStore(mkdtempSync(path.join(os.tmpdir(), 'mms-it-local-'))),
  },
];

function open(make: () => ObjectStore): ObjectStore {
  const store = make();
  opened.push(store);
  return store;
}

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

/** A chunk that delivers rows the way a source does. */
function chunkOf(rows: Row[]): ChunkStream {
  let read = 0;
  return {
    data: {
      encoding: ChunkEncoding.Rows,
      rows: (async function* () {
        for (const row of rows) {
          read++;
          yield await Promise.resolve(row);
        }
      })(),
    },
    rowsRead: () => read,
    release: () => undefined,
  };
}

const table = (name: string): TableMeta => ({
  engine: 'postgres',
  ref: { schema: 'src', name },
  columns: edgeColumns,
  primaryKey: ['id'],
  estimatedRows: 0,
  estimatedBytes: 0,
});

/** Rows with distinct ids, cycling through the edge values. */
const rowsFrom = (start: number, count: number): Row[] =>
  Array.from({ length: count }, (_, i) => [BigInt(start + i), ...edgeRows[i % edgeRows.length]!.slice(1)]);

/**
 * A store that, once told, fails the next checkpoint write: it dies right after a chunk's parts are
 * stored, before the checkpoint names them, the worst moment.
 */
function crashing(inner: ObjectStore): { store: ObjectStore; crashAtNextCheckpoint: () => void } {
  let crash = false;
  const store: ObjectStore = Object.assign(Object.create(inner) as ObjectStore, {
    put: async (key: string, body: ObjectBody) => {
      if (crash && key.endsWith('_mms_checkpoint.json')) {
        crash = false;
        throw Object.assign(new Error('worker killed'), { code: 'ECONNRESET' });
      }
      await inner.put(key, body);
    },
  });
  return { store, crashAtNextCheckpoint: () => (crash = true) };
}

/** Prepares, writes the chunks and finishes one task, returning the last checkpoint. */
async function writeTask(
  target: S3Target,
  taskId: string,
  meta: TableMeta,
  ref: TableRef,
  chunks: Row[][],
  writeMode: 'overwrite' | 'append' = 'overwrite',
): Promise<Checkpoint> {
  let { checkpoint } = await target.prepare({
    taskId,
    table: meta,
    targetRef: ref,
    writeMode,
    createMode: 'ifMissing',
  });
  for (const rows of chunks) {
    const upTo = [String(rows[rows.length - 1]![0])];
    checkpoint = await target.writeChunk({
      taskId,
      table: meta,
      targetRef: ref,
      range: { after: checkpoint.cursor, upTo },
      previous: checkpoint,
      chunk: chunkOf(rows),
    });
  }
  await target.finish(taskId, meta, ref);
  return checkpoint;
}

describe('S3Store against the real S3 server', () => {
  const s3 = (prefix: string) => open(() => openS3Store(s3Connection({ prefix: runPrefix + prefix })));

  it('puts, gets, lists and deletes objects under its prefix', async () => {
    const store = s3('store-basic');
    const neighbour = s3('store-basic-other');
    await store.put('a/b/one.txt', 'one');
    await store.put('a/c/two.bin', Buffer.from([0, 1, 2]));
    await neighbour.put('a/b/three.txt', 'three');

    expect((await store.get('a/b/one.txt'))?.toString()).toBe('one');
    expect(await store.get('a/missing')).toBeNull();
    expect(await store.list('a/')).toEqual(['a/b/one.txt', 'a/c/two.bin']);
    expect(await store.listFolders('a/')).toEqual(['b', 'c']);
    await store.delete(['a/b/one.txt', 'a/never-was']);
    expect(await store.list('')).toEqual(['a/c/two.bin']);
    expect(await neighbour.list('')).toEqual(['a/b/three.txt']);
  });

  it('streams a 17 MiB body up as a multipart upload without holding it', async () => {
    const store = s3('store-big');
    const mib = 1024 * 1024;
    const piece = (i: number): Buffer => Buffer.alloc(mib, i % 251);
    const expected = createHash('sha256');
    for (let i = 0; i < 17; i++) expected.update(piece(i));
    const started = Date.now();
    await store.put(
      'big.bin',
      Readable.from(
        (function* () {
          for (let i = 0; i < 17; i++) yield piece(i);
        })(),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const body = await store.get('big.bin');
    expect(body?.length).toBe(17 * mib);
    expect(createHash('sha256').update(body!).digest('hex')).toBe(expected.digest('hex'));
    // A multipart object's ETag ends in -<parts>: 8 + 8 + 1 MiB.
    const client = new S3Client({
      endpoint: s3Settings.endpoint,
      region: s3Settings.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3Settings.accessKeyId, secretAccessKey: s3Settings.secretAccessKey },
    });
    const head = await client.send(
      new HeadObjectCommand({ Bucket: s3Settings.bucket, Key: `${runPrefix}store-big/big.bin` }),
    );
    client.destroy();
    expect(head.ETag).toMatch(/-3"?$/);
    expect(seconds).toBeLessThan(30);
  });

  it('leaves no object behind when the body stream fails half way', async () => {
    const store = s3('store-fail');
    const failing = Readable.from(
      (function* () {
        for (let i = 0; i < 12; i++) yield Buffer.alloc(1024 * 1024, 1);
        throw Object.assign(new Error('source went away'), { code: 'ECONNRESET' });
      })(),
    );
    await expect(store.put('half.bin', failing)).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
    expect(await store.get('half.bin')).toBeNull();
  });

  it('deletes more than 1,000 objects in batches', async () => {
    const store = s3('store-many');
    const keys = Array.from({ length: 1_005 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, 'x')));
    expect(await store.list('k/')).toHaveLength(1_005);
    await store.delete(keys);
    expect(await store.list('k/')).toEqual([]);
  });

  it('fails as AUTH_FAILED with a wrong secret key', async () => {
    const store = open(() => openS3Store(s3Connection({ prefix: runPrefix, secret: 'wrong-secret-xyz' })));
    await expect(store.list('')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('fails as DATABASE_MISSING when the bucket does not exist', async () => {
    const store = open(() => openS3Store(s3Connection({ bucket: 'mms-no-such-bucket' })));
    await expect(store.get('x')).rejects.toMatchObject({ code: 'DATABASE_MISSING' });
  });
});

describe.each(stores)('S3Target and S3Source on $name', ({ open: make }) => {
  const ref = (name: string): TableRef => ({ schema: 'lake', name });

  it('writes Parquet parts and a manifest that count back to the rows written', async () => {
    const store = open(() => make('target-basic'));
    const target = new S3Target(store, partFormats.parquet);
    const checkpoint = await writeTask(target, 'job-a/src.t', table('t'), ref('t'), [
      rowsFrom(0, 1_000),
      rowsFrom(1_000, 1_000),
      rowsFrom(2_000, 7),
    ]);
    expect(checkpoint).toMatchObject({ rowsRead: 2_007, rowsWritten: 2_007, chunks: 3, cursor: ['2006'] });
    expect(await target.count(ref('t'))).toBe(2_007);
    const keys = await store.list('lake/t/');
    expect(keys.filter((k) => k.endsWith('.parquet'))).toHaveLength(3);
    expect(keys).toContain('lake/t/_manifest.json');
  });

  it('reads back with S3Source exactly the rows S3Target wrote, in the Value forms', async () => {
    const store = open(() => make('source-roundtrip'));
    const target = new S3Target(store, partFormats.parquet);
    const chunks = [rowsFrom(0, 600), rowsFrom(600, 600), [...edgeRows]];
    await writeTask(target, 'job-r/src.edge', table('edge'), ref('edge'), chunks);

    const source = new S3Source(store);
    const page = await source.discover({ schema: 'lake', include: ['*'], exclude: [] }, null, 100);
    expect(page.tables).toHaveLength(1);
    const meta = page.tables[0]!;
    expect(meta).toMatchObject({
      engine: 's3',
      ref: ref('edge'),
      primaryKey: ['id'],
      estimatedRows: 1_200 + edgeRows.length,
    });
    expect(meta.columns).toEqual(edgeColumns);
    expect(meta.estimatedBytes).toBeGreaterThan(0);

    const read: Row[][] = [];
    let after: string[] | null = null;
    for (;;) {
      const range = await source.nextChunk(meta, after, 50_000);
      if (!range) break;
      const chunk = await source.read(meta, range, ChunkEncoding.Rows);
      if (chunk.data.encoding !== ChunkEncoding.Rows) throw new Error('rows expected');
      const rows = await collect(chunk.data.rows);
      expect(chunk.rowsRead()).toBe(rows.length);
      read.push(rows);
      after = range.upTo;
    }
    expect(read).toEqual(chunks);
    expect(await source.count(meta)).toBe(1_200 + edgeRows.length);
  });

  it('discovers tables a page at a time, in name order, skipping tables without a manifest', async () => {
    const store = open(() => make('discover'));
    const target = new S3Target(store, partFormats.jsonl);
    for (const name of ['b', 'a/slash', 'c'])
      await writeTask(target, `job-d/src.${name}`, table(name), ref(name), [rowsFrom(0, 3)]);
    await store.put('lake/unfinished/part-x.jsonl', '{}\n');
    const source = new S3Source(store);
    const selection = { schema: 'lake', include: ['*'], exclude: [] };
    const first = await source.discover(selection, null, 2);
    expect(first.tables.map((t) => t.ref.name)).toEqual(['a/slash', 'b']);
    expect(first.nextAfter).toBe('b');
    const second = await source.discover(selection, first.nextAfter, 2);
    expect(second.tables.map((t) => t.ref.name)).toEqual(['c']);
    expect(second.nextAfter).toBeNull();
    expect((await source.discover({ ...selection, tables: ['c'] }, null, 10)).tables).toHaveLength(1);
  });

  it('overwrite mode replaces what an earlier job wrote', async () => {
    const store = open(() => make('overwrite'));
    const target = new S3Target(store, partFormats.parquet);
    await writeTask(target, 'job-1/src.o', table('o'), ref('o'), [rowsFrom(0, 100), rowsFrom(100, 100)]);
    const checkpoint = await writeTask(target, 'job-2/src.o', table('o'), ref('o'), [rowsFrom(0, 30)]);
    expect(checkpoint.baselineRows).toBe(0);
    expect(await target.count(ref('o'))).toBe(30);
    expect((await store.list('lake/o/')).filter((k) => k.includes('part-'))).toHaveLength(1);
  });

  it('append mode keeps the earlier job’s parts and counts them as the baseline', async () => {
    const store = open(() => make('append'));
    const target = new S3Target(store, partFormats.parquet);
    await writeTask(target, 'job-1/src.p', table('p'), ref('p'), [rowsFrom(0, 100)]);
    const checkpoint = await writeTask(
      target,
      'job-2/src.p',
      table('p'),
      ref('p'),
      [rowsFrom(100, 40)],
      'append',
    );
    expect(checkpoint).toMatchObject({ baselineRows: 100, rowsWritten: 40 });
    expect(await target.count(ref('p'))).toBe(140);
    const source = new S3Source(store);
    const [meta] = (
      await source.discover({ schema: 'lake', tables: ['p'], include: ['*'], exclude: [] }, null, 10)
    ).tables;
    expect(await source.count(meta!)).toBe(140);
  });

  it('a chunk rewritten after a crash between part and checkpoint leaves no duplicate', async () => {
    const inner = open(() => make('crash'));
    const { store, crashAtNextCheckpoint } = crashing(inner);
    const target = new S3Target(store, partFormats.parquet);
    const meta = table('c');
    const taskId = 'job-c/src.c';
    const { checkpoint: fresh } = await target.prepare({
      taskId,
      table: meta,
      targetRef: ref('c'),
      writeMode: 'overwrite',
      createMode: 'ifMissing',
    });
    const write = (previous: Checkpoint, rows: Row[]) =>
      target.writeChunk({
        taskId,
        table: meta,
        targetRef: ref('c'),
        range: { after: previous.cursor, upTo: [String(rows[rows.length - 1]![0])] },
        previous,
        chunk: chunkOf(rows),
      });
    const first = await write(fresh, rowsFrom(0, 500));
    crashAtNextCheckpoint();
    await expect(write(first, rowsFrom(500, 500))).rejects.toThrow('worker killed');

    // The restarted copy trusts the stored checkpoint, which still says one chunk.
    const resumed = await target.readCheckpoint(taskId, ref('c'));
    expect(resumed).toMatchObject({ chunks: 1, rowsWritten: 500 });
    const second = await write(resumed!, rowsFrom(500, 500));
    await target.finish(taskId, meta, ref('c'));

    expect(second).toMatchObject({ chunks: 2, rowsWritten: 1_000 });
    expect((await inner.list('lake/c/')).filter((k) => k.includes('part-'))).toHaveLength(2);
    expect(await target.count(ref('c'))).toBe(1_000);
    // A stale attempt that still thinks it is at chunk 1 is refused.
    await expect(write(resumed!, rowsFrom(500, 500))).rejects.toMatchObject({ code: 'CHECKPOINT_CONFLICT' });
  });

  it('lists the keys a prefix starts, whether or not it ends at a folder', async () => {
    const store = open(() => make('list-prefix'));
    for (const key of ['a/b.txt', 'a/bc/d.txt', 'a/c.txt', 'ab.txt']) await store.put(key, 'x');
    expect(await store.list('a/b')).toEqual(['a/b.txt', 'a/bc/d.txt']);
    expect(await store.list('a/')).toEqual(['a/b.txt', 'a/bc/d.txt', 'a/c.txt']);
    expect(await store.list('a')).toEqual(['a/b.txt', 'a/bc/d.txt', 'a/c.txt', 'ab.txt']);
    expect(await store.list('a/z')).toEqual([]);
  });

  it('writes every logical type as a Hive folder value and reads it back exactly, NULL included', async () => {
    const store = open(() => make('hive-types'));
    const target = new S3Target(store, partFormats.jsonl);
    const source = new S3Source(store);
    // bytes, json and arrays name no folders (BAD_SPEC, see the unit tests).
    for (const column of edgeColumns
      .slice(1)
      .filter((c) => !['bytes', 'json', 'array'].includes(c.type.kind))) {
      const name = `by_${column.name}`;
      const meta = table(name);
      const taskId = `job-h/src.${name}`;
      let { checkpoint } = await target.prepare({
        taskId,
        table: meta,
        targetRef: ref(name),
        writeMode: 'overwrite',
        createMode: 'ifMissing',
        partitionBy: [column.name],
      });
      checkpoint = await target.writeChunk({
        taskId,
        table: meta,
        targetRef: ref(name),
        range: { after: null, upTo: ['99'] },
        previous: checkpoint,
        chunk: chunkOf(edgeRows),
      });
      await target.finish(taskId, meta, ref(name));
      const [found] = (
        await source.discover({ schema: 'lake', tables: [name], include: ['*'], exclude: [] }, null, 10)
      ).tables;
      const read: Row[] = [];
      for (let after: string[] | null = null; ;) {
        const range = await source.nextChunk(found!, after, 1_000);
        if (!range) break;
        const chunk = await source.read(found!, range, ChunkEncoding.Rows);
        if (chunk.data.encoding === ChunkEncoding.Rows) read.push(...(await collect(chunk.data.rows)));
        after = range.upTo;
      }
      const byId = (a: Row, b: Row): number => (a[0]! < b[0]! ? -1 : 1);
      expect(read.sort(byId), column.name).toEqual([...edgeRows].sort(byId));
      const keys = (await store.list(`lake/${name}/`)).filter((k) => k.includes('part-'));
      expect(keys.some((k) => k.includes(`/${column.name}=__HIVE_DEFAULT_PARTITION__/`))).toBe(true);
    }
  });

  it('a Hive chunk rewritten after a crash leaves no part of the first attempt behind', async () => {
    const inner = open(() => make('hive-crash'));
    const { store, crashAtNextCheckpoint } = crashing(inner);
    const target = new S3Target(store, partFormats.parquet);
    const meta = table('hc');
    const taskId = 'job-hc/src.hc';
    const target_ = { taskId, table: meta, targetRef: ref('hc') };
    const { checkpoint: fresh } = await target.prepare({
      ...target_,
      writeMode: 'overwrite',
      createMode: 'ifMissing',
      partitionBy: ['flag'],
    });
    const write = (previous: Checkpoint, rows: Row[]) =>
      target.writeChunk({
        ...target_,
        range: { after: previous.cursor, upTo: [String(rows[rows.length - 1]![0])] },
        previous,
        chunk: chunkOf(rows),
      });
    const withFlag = (rows: Row[], flag: boolean | null): Row[] =>
      rows.map((r) => [r[0]!, flag, ...r.slice(2)]);
    const first = await write(fresh, withFlag(rowsFrom(0, 10), true));
    // The first attempt of chunk 1 spreads over flag=true and flag=false, then dies before its checkpoint.
    crashAtNextCheckpoint();
    await expect(
      write(first, [...withFlag(rowsFrom(10, 5), true), ...withFlag(rowsFrom(15, 5), false)]),
    ).rejects.toThrow('worker killed');
    const partsNow = (await inner.list('lake/hc/')).filter((k) => k.includes('part-'));
    expect(partsNow).toHaveLength(3);
    // The retry reads a smaller chunk 1 whose rows all have flag=true: same key there, nothing in flag=false.
    const resumed = (await target.readCheckpoint(taskId, ref('hc')))!;
    await write(resumed, withFlag(rowsFrom(10, 5), true));
    await target.finish(taskId, meta, ref('hc'));
    const keys = (await inner.list('lake/hc/')).filter((k) => k.includes('part-'));
    const manifest = JSON.parse((await inner.get('lake/hc/_manifest.json'))!.toString()) as {
      parts: { key: string; rows: number; partition: Record<string, string> }[];
    };
    expect(keys).toEqual(manifest.parts.map((p) => p.key).sort());
    expect(keys).toHaveLength(2);
    expect(keys.every((k) => k.startsWith('lake/hc/flag=true/part-'))).toBe(true);
    expect(manifest.parts.map((p) => [p.rows, p.partition])).toEqual([
      [10, { flag: 'true' }],
      [5, { flag: 'true' }],
    ]);
    expect(await target.count(ref('hc'))).toBe(15);
  });

  it('partition tasks share their table folder, each with its own manifest, and overwrite only their own parts', async () => {
    const store = open(() => make('hive-partitions'));
    const target = new S3Target(store, partFormats.csv);
    const partition = (name: string): TableMeta => ({
      ...table(name),
      partition: {
        parent: 'ev',
        keyDef: 'RANGE (id)',
        bound: name === 'ev_a' ? 'FOR VALUES FROM (0) TO (1000)' : 'FOR VALUES FROM (1000) TO (2000)',
      },
    });
    const p = (name: string): TableRef => ({ ...ref('ev'), partition: name });
    await writeTask(target, 'job-1/src.ev_a', partition('ev_a'), p('ev_a'), [rowsFrom(0, 30)]);
    await writeTask(target, 'job-1/src.ev_b', partition('ev_b'), p('ev_b'), [rowsFrom(100, 20)]);
    // The second job rewrites ev_a only: ev_b's parts stay.
    await writeTask(target, 'job-2/src.ev_a', partition('ev_a'), p('ev_a'), [rowsFrom(0, 7)]);
    const keys = await store.list('lake/ev/');
    expect(keys.filter((k) => !k.includes('/part-'))).toEqual([
      'lake/ev/_manifest.ev_a.json',
      'lake/ev/_manifest.ev_b.json',
      'lake/ev/_mms_checkpoint.ev_a.json',
      'lake/ev/_mms_checkpoint.ev_b.json',
    ]);
    expect(keys.filter((k) => k.includes('/part-')).map((k) => k.replace(/part-.*/, ''))).toEqual([
      'lake/ev/partition=ev_a/',
      'lake/ev/partition=ev_b/',
    ]);
    expect(await target.count(p('ev_a'))).toBe(7);
    expect(await target.count(p('ev_b'))).toBe(20);
    const source = new S3Source(store);
    const selection = { schema: 'lake', include: ['*'], exclude: [] };
    const [whole] = (await source.discover({ ...selection, tables: ['ev'] }, null, 10)).tables;
    expect(await source.count(whole!)).toBe(27);
    const parts = await source.discover(
      { ...selection, partitions: [{ table: 'ev', include: ['partition=ev_b'], exclude: [] }] },
      null,
      10,
    );
    // The folder of a source partition becomes that partition again, with its bound.
    expect(parts.tables.map((t) => [t.ref, t.estimatedRows, t.partition?.layout])).toEqual([
      [p('ev_b'), 20, { method: 'range', columns: ['id'], expression: 'id', from: ['1000'], to: ['2000'] }],
    ]);
    // from/to choose such folders by their source bounds, compared as the key's type (999 < 1000).
    const byValue = async (from: string, to?: string): Promise<(string | undefined)[]> =>
      (
        await source.discover(
          {
            ...selection,
            partitions: [
              {
                table: 'ev',
                include: ['*'],
                exclude: [],
                from: [from],
                ...(to === undefined ? {} : { to: [to] }),
              },
            ],
          },
          null,
          10,
        )
      ).tables.map((t) => t.ref.partition);
    expect(await byValue('999', '1000')).toEqual(['ev_a']);
    expect(await byValue('1500')).toEqual(['ev_b']);
    expect(await byValue('0')).toEqual(['ev_a', 'ev_b']);
    await expect(byValue('x')).rejects.toMatchObject({ code: 'BAD_SPEC' });
    expect(await source.count(parts.tables[0]!)).toBe(20);
    // A whole-table copy beside partition copies would count rows twice: refused.
    await writeTask(target, 'job-3/src.ev', table('ev'), ref('ev'), [rowsFrom(0, 5)]);
    await expect(
      writeTask(target, 'job-4/src.ev_a', partition('ev_a'), p('ev_a'), [rowsFrom(0, 1)]),
    ).rejects.toMatchObject({ code: 'TARGET_CONFLICT' });
    // Appending with other folders than the table was written with would mix layouts: refused.
    await expect(
      target.prepare({
        taskId: 'job-5/src.ev',
        table: table('ev'),
        targetRef: ref('ev'),
        writeMode: 'append',
        createMode: 'ifMissing',
        partitionBy: ['flag'],
      }),
    ).rejects.toMatchObject({ code: 'TARGET_CONFLICT' });
  });

  it('refuses to create a table when createMode is never', async () => {
    const target = new S3Target(
      open(() => make('never')),
      partFormats.parquet,
    );
    await expect(
      target.prepare({
        taskId: 'j/n',
        table: table('n'),
        targetRef: ref('n'),
        writeMode: 'overwrite',
        createMode: 'never',
      }),
    ).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
  });

  it.each(['csv', 'jsonl'] as const)('round-trips the edge values through %s parts too', async (format) => {
    const store = open(() => make(`fmt-${format}`));
    await writeTask(
      new S3Target(store, partFormats[format]),
      `job-f/src.${format}`,
      table(format),
      ref(format),
      [[...edgeRows]],
    );
    const source = new S3Source(store);
    const [meta] = (
      await source.discover({ schema: 'lake', tables: [format], include: [], exclude: [] }, null, 10)
    ).tables;
    const range = await source.nextChunk(meta!, null, 1);
    const chunk = await source.read(meta!, range!, ChunkEncoding.Rows);
    if (chunk.data.encoding !== ChunkEncoding.Rows) throw new Error('rows expected');
    expect(await collect(chunk.data.rows)).toEqual(edgeRows);
  });
});
