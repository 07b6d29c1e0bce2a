import { parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/core/connector';
import type { ColumnMeta } from '../../src/core/table';
import { partFormats, type PartFormat } from '../../src/connectors/s3/s3-format';
import { asyncRows, collect, edgeColumns, edgeRows } from '../fixtures/edge-values';

async function encode(format: PartFormat, columns: ColumnMeta[], rows: Row[]): Promise<Buffer> {
  return Buffer.concat(await collect(format.encode(columns, asyncRows(rows))));
}

async function roundTrip(format: PartFormat, columns: ColumnMeta[], rows: Row[]): Promise<Row[]> {
  return collect(format.decode(columns, await encode(format, columns, rows)));
}

const column = (name: string, type: ColumnMeta['type']): ColumnMeta => ({
  name,
  nativeType: type.kind,
  type,
  nullable: true,
});

describe.each(Object.values(partFormats))('the $extension part format', (format) => {
  it('gives back every logical type’s edge values exactly, NULLs included', async () => {
    const decoded = await roundTrip(format, edgeColumns, edgeRows);
    expect(decoded).toEqual(edgeRows);
  });

  it('keeps -0 negative and NaN not a number', async () => {
    const columns = [column('f32', { kind: 'float32' }), column('f64', { kind: 'float64' })];
    const [row] = await roundTrip(format, columns, [[-0, NaN]]);
    expect(Object.is(row?.[0], -0)).toBe(true);
    expect(Number.isNaN(row?.[1])).toBe(true);
  });

  it('counts a part’s rows from its own bytes', async () => {
    const body = await encode(format, edgeColumns, edgeRows);
    expect(await format.count(body)).toBe(edgeRows.length);
  });

  it('writes a part with no rows that reads back as no rows', async () => {
    const body = await encode(format, edgeColumns, []);
    expect(await format.count(body)).toBe(0);
    expect(await collect(format.decode(edgeColumns, body))).toEqual([]);
  });

  it('reads columns by name, whatever order they are asked for in', async () => {
    const reversed = [...edgeColumns].reverse();
    const decoded = await collect(format.decode(reversed, await encode(format, edgeColumns, edgeRows)));
    expect(decoded).toEqual(edgeRows.map((row) => [...row].reverse()));
  });
});

describe('the Parquet part format', () => {
  const parquet = partFormats.parquet;

  it('maps each logical type to its exact Parquet type and annotation', async () => {
    const metadata = await parquetMetadataAsync(
      new Uint8Array(await encode(parquet, edgeColumns, edgeRows)).buffer,
    );
    const schema = Object.fromEntries(
      metadata.schema.slice(1).map((e) => [
        e.name,
        {
          type: e.type,
          length: e.type_length,
          converted: e.converted_type,
          logical: e.logical_type,
          repetition: e.repetition_type,
        },
      ]),
    );
    expect(schema).toMatchObject({
      id: { type: 'INT64', repetition: 'REQUIRED' },
      flag: { type: 'BOOLEAN', repetition: 'OPTIONAL' },
      i16: { type: 'INT32', converted: 'INT_16', logical: { type: 'INTEGER', bitWidth: 16, isSigned: true } },
      i32: { type: 'INT32', converted: undefined },
      i64: { type: 'INT64' },
      f32: { type: 'FLOAT' },
      f64: { type: 'DOUBLE' },
      dec: {
        type: 'FIXED_LEN_BYTE_ARRAY',
        length: 16,
        converted: 'DECIMAL',
        logical: { type: 'DECIMAL', precision: 38, scale: 18 },
      },
      money: {
        type: 'FIXED_LEN_BYTE_ARRAY',
        length: 6,
        logical: { type: 'DECIMAL', precision: 12, scale: 2 },
      },
      num: { type: 'BYTE_ARRAY', converted: 'UTF8' },
      name: { type: 'BYTE_ARRAY', converted: 'UTF8', logical: { type: 'STRING' } },
      body: { type: 'BYTE_ARRAY', converted: 'UTF8' },
      doc: { type: 'BYTE_ARRAY', logical: { type: 'JSON' } },
      uid: { type: 'FIXED_LEN_BYTE_ARRAY', length: 16, logical: { type: 'UUID' } },
      mood: { type: 'BYTE_ARRAY', converted: 'UTF8' },
      raw: { type: 'BYTE_ARRAY', converted: undefined, logical: undefined },
      day: { type: 'INT32', converted: 'DATE', logical: { type: 'DATE' } },
      clock: { type: 'INT64', logical: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' } },
      at: {
        type: 'INT64',
        converted: undefined,
        logical: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' },
      },
      at_tz: {
        type: 'INT64',
        converted: 'TIMESTAMP_MICROS',
        logical: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      },
      tags: { type: 'BYTE_ARRAY', converted: 'UTF8' },
    });
  });

  it('is read by another Parquet reader as the same instants and numbers', async () => {
    const columns = [
      column('at_tz', { kind: 'timestamptz', precision: 6 }),
      column('money', { kind: 'decimal', precision: 12, scale: 2 }),
    ];
    const body = await encode(parquet, columns, [['2024-03-31 00:30:00.123+00', '-12.50']]);
    const [row] = await parquetReadObjects({ file: new Uint8Array(body).buffer });
    expect(row).toEqual({ at_tz: new Date('2024-03-31T00:30:00.123Z'), money: -12.5 });
  });

  it('normalises timestamp text: trailing fraction zeros dropped, offsets turned into +00', async () => {
    const columns = [
      column('at', { kind: 'timestamp', precision: 6 }),
      column('tz', { kind: 'timestamptz' }),
    ];
    const decoded = await roundTrip(parquet, columns, [
      ['2000-01-01 00:00:00.500000', '2024-01-01 05:30:00.000001+05:30'],
      ['2000-01-01T00:00:00.000000', '1999-12-31 20:00:00-04'],
    ]);
    expect(decoded).toEqual([
      ['2000-01-01 00:00:00.5', '2024-01-01 00:00:00.000001+00'],
      ['2000-01-01 00:00:00', '2000-01-01 00:00:00+00'],
    ]);
  });

  it('pads decimals to their scale and keeps uuids in lowercase canonical form', async () => {
    const columns = [column('d', { kind: 'decimal', precision: 6, scale: 3 }), column('u', { kind: 'uuid' })];
    const decoded = await roundTrip(parquet, columns, [['+1.5', 'A0EEBC999C0B4EF8BB6D6BB9BD380A11']]);
    expect(decoded).toEqual([['1.500', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']]);
  });

  it.each([
    [
      'a decimal with more digits than its precision',
      { kind: 'decimal', precision: 4, scale: 2 } as const,
      '123.45',
    ],
    [
      'a decimal with digits beyond its scale',
      { kind: 'decimal', precision: 10, scale: 2 } as const,
      '1.005',
    ],
    ['NaN in a decimal with a precision', { kind: 'decimal', precision: 10, scale: 2 } as const, 'NaN'],
    ['a date at infinity', { kind: 'date' } as const, 'infinity'],
    ['an impossible date', { kind: 'date' } as const, '2023-02-29'],
    ['a timestamp with nanoseconds', { kind: 'timestamp' } as const, '2020-01-01 00:00:00.123456789'],
    ['a zoneless timestamp with an offset', { kind: 'timestamp' } as const, '2020-01-01 00:00:00+00'],
    ['an int32 out of range', { kind: 'int32' } as const, 2 ** 31],
    ['an int64 out of range', { kind: 'int64' } as const, 2n ** 63n],
  ])('refuses %s instead of writing something else', async (_what, type, value) => {
    await expect(encode(parquet, [column('c', type)], [[value]])).rejects.toMatchObject({
      code: 'OUT_OF_RANGE',
      context: { column: 'c' },
    });
  });

  it('keeps wide texts whole in the data, and only 16-byte bounds of them in the footer', async () => {
    const columns = [column('id', { kind: 'int64' }), column('body', { kind: 'text' })];
    const rows: Row[] = [
      [1n, `${'a'.repeat(3_000_000)}z`],
      [2n, `${'b'.repeat(3_000_000)}é`],
    ];
    const body = await encode(parquet, columns, rows);
    const statistics = (await parquetMetadataAsync(new Uint8Array(body).buffer)).row_groups[0]!.columns[1]!
      .meta_data!.statistics!;
    expect(statistics).toMatchObject({ is_min_value_exact: false, is_max_value_exact: false });
    expect(statistics.min_value).toBe('a'.repeat(16));
    expect(statistics.max_value).toBe(`${'b'.repeat(15)}c`);
    expect(await collect(parquet.decode(columns, body))).toEqual(rows);
  });

  it('encodes in row-group pieces, pulling no more rows than one group ahead of the bytes', async () => {
    const columns = [column('id', { kind: 'int64' }), column('name', { kind: 'text' })];
    let pulled = 0;
    async function* rows(): AsyncGenerator<Row> {
      for (let i = 0; i < 25_000; i++) {
        pulled++;
        yield await Promise.resolve([BigInt(i), `row ${i}`]);
      }
    }
    const pieces: Buffer[] = [];
    const pulledAtPiece: number[] = [];
    for await (const piece of parquet.encode(columns, rows())) {
      pieces.push(piece);
      pulledAtPiece.push(pulled);
    }
    expect(pulledAtPiece).toEqual([10_000, 20_000, 25_000]);
    const body = Buffer.concat(pieces);
    expect((await parquetMetadataAsync(new Uint8Array(body).buffer)).row_groups).toHaveLength(3);
    const decoded = await collect(parquet.decode(columns, body));
    expect(decoded).toHaveLength(25_000);
    expect(decoded[24_999]).toEqual([24_999n, 'row 24999']);
  });
});
