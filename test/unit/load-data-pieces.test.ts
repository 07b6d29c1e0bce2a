import { describe, expect, it } from 'vitest';
import { loadDataParts } from '../../src/connectors/mysql/mysql-dialect';
import { lineFieldDecoder } from '../../src/connectors/mysql/mysql-copy-lines';
import { fieldDecoder, fieldText } from '../../src/connectors/mysql/mysql-types';
import {
  loadDataFromFields,
  loadDataFromLines,
  LoadDataPieces,
  rowsOfFields,
  rowsOfLines,
} from '../../src/connectors/mysql/load-data-pieces';
import type { ChunkData, Row, ValueCheck } from '../../src/core/connector';
import type { JoinedLines } from '../../src/core/joined-lines';
import type { ColumnMeta } from '../../src/core/table';
import { asyncRows, collect } from '../fixtures/edge-values';
import { joinedLine as line } from '../fixtures/joined-lines';

const columns: ColumnMeta[] = [
  { name: 'id', nativeType: 'bigint', type: { kind: 'int64' }, nullable: false },
  { name: 'body', nativeType: 'text', type: { kind: 'text' }, nullable: true },
  { name: 'raw', nativeType: 'blob', type: { kind: 'bytes' }, nullable: true },
  { name: 'at', nativeType: 'timestamp(6)', type: { kind: 'timestamptz', precision: 6 }, nullable: true },
  { name: 'tm', nativeType: 'time', type: { kind: 'time', precision: 0 }, nullable: true },
];
const encode = (row: Row): string =>
  loadDataParts(columns.map((c, i) => fieldText(row[i] ?? null, c.type, c.name))).join('');

/** A chunk of joined lines over {@link columns}; a K line's row comes from `fetched`. */
function chunk(rows: Row[], fetched: Row | null = null, checks?: (ValueCheck | undefined)[]): JoinedLines {
  return {
    encoding: 'copy-text-lines',
    rows: asyncRows(rows),
    decoders: columns.map(lineFieldDecoder),
    fetchRow: () => Promise.resolve(fetched),
    ...(checks ? { checks } : {}),
  };
}

const newPieces = (pieceBytes: number): LoadDataPieces =>
  new LoadDataPieces(
    columns.map((c) => c.type.kind),
    encode,
    pieceBytes,
  );

/** The chunk as LOAD DATA text, built in pieces of `pieceBytes`. */
async function loadData(data: JoinedLines, pieceBytes = 1024): Promise<string[]> {
  const out = await collect(loadDataFromLines(data, newPieces(pieceBytes)));
  expect(out.every((piece) => piece.length <= 2 * pieceBytes)).toBe(true);
  return Buffer.concat(out).toString('utf8').split('\n');
}

/** A chunk of text fields over {@link columns}, as a MySQL source reads them. */
function fieldsChunk(rows: Row[], checks?: (ValueCheck | undefined)[]): TextFields {
  return {
    encoding: 'text-fields',
    rows: asyncRows(rows),
    decoders: columns.map((c) => fieldDecoder(c.type)),
    ...(checks ? { checks } : {}),
  };
}
type TextFields = Extract<ChunkData, { encoding: 'text-fields' }>;
const fields = (...values: (string | Buffer | null)[]): Row =>
  values.map((v) => (typeof v === 'string' ? Buffer.from(v) : v));

describe('joined lines into LOAD DATA text', () => {
  it('copies each line once: escapes, NULLs, the bytea hex prefix and a timestamptz offset dropped, tags C alike, K fetched', async () => {
    const input: Row[] = [];
    for (let i = 0; i < 3000; i++)
      input.push(line('L', `${i}`, `body ${i}`, '\\x0aff', '2020-01-02 03:04:05.5+00', '10:00:00'));
    input[1] = line('L', '1', 'tab\tline\nreturn\rback\\slash nul\0 þ 😀', null, null, null);
    input[2] = line('C', '2', '', '\\x', '0000-00-00 00:00:00+00', '838:59:59');
    input[3] = line('L', '3', '+00', '\\x5c', '2020-01-02 00:00:00+00', '-00:00:01');
    input[2999] = line('K', '2999');
    const fetched: Row = [2999n, 'fetched\tx', Buffer.from([0, 255]), '2020-01-04 00:00:00+00', '25:00:00'];
    const lines = await loadData(chunk(input, fetched));
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(3000);
    expect(lines[0]).toBe('0\tbody 0\t0aff\t2020-01-02 03:04:05.5\t10:00:00');
    expect(lines[1]).toBe('1\ttab\\tline\\nreturn\\rback\\\\slash nul\\0 þ 😀\t\\N\t\\N\t\\N');
    expect(lines[2]).toBe('2\t\t\t0000-00-00 00:00:00\t838:59:59');
    expect(lines[3]).toBe('3\t+00\t5c\t2020-01-02 00:00:00\t-00:00:01');
    expect(lines[2998]).toBe('2998\tbody 2998\t0aff\t2020-01-02 03:04:05.5\t10:00:00');
    expect(lines[2999]).toBe('2999\tfetched\\tx\t00ff\t2020-01-04 00:00:00\t25:00:00');
  });

  it('fails a line whose field count is not the column count, and a row the server returned no line for', async () => {
    await expect(loadData(chunk([line('L', '1', 'a', null, null)]))).rejects.toThrow(
      /a joined line of 4 fields for 5 columns/,
    );
    await expect(loadData(chunk([line('L', '1', 'a', null, null, null, 'extra')]))).rejects.toThrow(
      /6 fields for 5 columns/,
    );
    await expect(loadData(chunk([[null]]))).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
  });

  it('takes every line of a chunk with checks through its values, checked', async () => {
    const upper: ValueCheck = (value) => (typeof value === 'string' ? value.toUpperCase() : value);
    const input = [line('L', '1', 'a\tb', '\\x00ff', '2020-01-02 00:00:00+00', null), line('K', '2')];
    const fetched: Row = [2n, 'fetched', null, null, '01:00:00'];
    expect(await loadData(chunk(input, fetched, [undefined, upper]))).toEqual([
      '1\tA\\tB\t00ff\t2020-01-02 00:00:00\t\\N',
      '2\tFETCHED\t\\N\t\\N\t01:00:00',
      '',
    ]);
    // The INSERT path reads the same values.
    expect(await collect(rowsOfLines(chunk(input, fetched, [undefined, upper])))).toEqual([
      [1n, 'A\tB', Buffer.from([0, 255]), '2020-01-02 00:00:00+00', null],
      [2n, 'FETCHED', null, null, '01:00:00'],
    ]);
  });
});

describe('text fields into LOAD DATA text', () => {
  it('escapes texts, writes bytes as hex and NULL as \\N, and sends a wide clean field as views of its bytes', async () => {
    const wide = Buffer.from('0123456789abcdef'.repeat(200_000)); // 3.2 MB, nothing to escape
    const wideEscaped = Buffer.from('a\tb\\'.repeat(400_000)); // 2 MB
    const wideBytes = Buffer.from(Array.from({ length: 1_500_000 }, (_, i) => i % 256));
    const input = [
      fields(
        '1',
        'tab\tline\nreturn\rback\\slash nul\0 þ 😀',
        Buffer.from([0, 255, 10]),
        '2020-01-02 03:04:05.5',
        null,
      ),
      fields('2', wide, null, null, '838:59:59'),
      fields('3', wideEscaped, wideBytes, '2020-01-02 00:00:00', '-00:00:01'),
      fields('4', '', Buffer.alloc(0), null, null),
    ];
    const pieceBytes = 64 * 1024;
    const out = await collect(loadDataFromFields(fieldsChunk(input), newPieces(pieceBytes)));
    // The wide clean field went out as views of the buffer it came in, never copied.
    const views = out.filter((piece) => piece.buffer === wide.buffer);
    expect(views.length).toBe(Math.ceil(wide.length / pieceBytes));
    expect(out.every((piece) => piece.length <= 2 * pieceBytes)).toBe(true);
    expect(Buffer.concat(out).toString('utf8').split('\n')).toEqual([
      '1\ttab\\tline\\nreturn\\rback\\\\slash nul\\0 þ 😀\t00ff0a\t2020-01-02 03:04:05.5\t\\N',
      `2\t${wide.toString()}\t\\N\t\\N\t838:59:59`,
      `3\t${'a\\tb\\\\'.repeat(400_000)}\t${wideBytes.toString('hex')}\t2020-01-02 00:00:00\t-00:00:01`,
      '4\t\t\t\\N\t\\N',
      '',
    ]);
  });

  it('fails a row whose field count is not the column count', async () => {
    await expect(
      collect(loadDataFromFields(fieldsChunk([fields('1', 'a')]), newPieces(1024))),
    ).rejects.toThrow(/a row of 2 fields for 5 columns/);
  });

  it('takes the rows of a chunk with checks through their values, checked, as the INSERT path reads them', async () => {
    const upper: ValueCheck = (value) => (typeof value === 'string' ? value.toUpperCase() : value);
    const input = () => [fields('1', 'a\tb', Buffer.from([0, 255]), '2020-01-02 00:00:00', null)];
    const out = await collect(loadDataFromFields(fieldsChunk(input(), [undefined, upper]), newPieces(1024)));
    expect(Buffer.concat(out).toString('utf8')).toBe('1\tA\\tB\t00ff\t2020-01-02 00:00:00\t\\N\n');
    expect(await collect(rowsOfFields(fieldsChunk(input(), [undefined, upper])))).toEqual([
      [1n, 'A\tB', Buffer.from([0, 255]), '2020-01-02 00:00:00+00', null],
    ]);
  });
});
