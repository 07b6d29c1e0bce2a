import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type SchemaElement } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Row } from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import type { ColumnMeta } from '../../core/table';
import type { PartFormat } from './s3-format';
import { parquetMapping, type ParquetMapping } from './s3-types';

/**
 * Rows per row group. The encoder holds one group's rows, their physical values and their encoded
 * bytes at a time, so a part's memory is bounded by this, not by the chunk or the table.
 */
const rowGroupRows = 10_000;
/** Bytes of values per row group, so that wide rows (10 MB each) close a group long before 10,000 rows. */
const rowGroupBytes = 32 * 1024 * 1024;

/** A cheap size estimate of a row's values: exact for strings and bytes, which dominate wide rows. */
function approximateBytes(row: Row): number {
  let bytes = 0;
  for (const value of row) {
    if (typeof value === 'string') bytes += value.length;
    else if (Buffer.isBuffer(value)) bytes += value.length;
    else bytes += 8;
  }
  return bytes;
}

/** A part's bytes as hyparquet's random-access file, without copying the whole part. */
function asyncBuffer(body: Buffer): AsyncBuffer {
  return {
    byteLength: body.byteLength,
    // Node Buffers are never backed by a SharedArrayBuffer.
    slice: (start, end) =>
      (body.buffer as ArrayBuffer).slice(body.byteOffset + start, body.byteOffset + (end ?? body.byteLength)),
  };
}

/** One column's physical values for a row group, with the column named in any error. */
function physicalValues(rows: Row[], index: number, column: ColumnMeta, mapping: ParquetMapping): unknown[] {
  try {
    return rows.map((row) => {
      const value = row[index] ?? null;
      if (value !== null) return mapping.toPhysical(value);
      if (!column.nullable) throw new MigrationError(ErrorCode.OutOfRange, 'NULL in a NOT NULL column');
      return null;
    });
  } catch (e) {
    if (!(e instanceof MigrationError)) throw e;
    throw new MigrationError(e.code, `column ${column.name}: ${e.message}`, {
      ...e.context,
      column: column.name,
    });
  }
}

async function* encodeParquet(columns: ColumnMeta[], rows: AsyncIterable<Row>): AsyncGenerator<Buffer> {
  const mappings = columns.map((c) => parquetMapping(c.type));
  const schema: SchemaElement[] = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c, i) => ({
      name: c.name,
      repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const),
      ...mappings[i]!.element,
    })),
  ];
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({ writer, schema, createdBy: 'mms' });
  // Hands over what the writer produced so far; the writer only appends, so its buffer can be reused.
  const take = (): Buffer => {
    const bytes = Buffer.from(writer.getBytes());
    writer.index = 0;
    return bytes;
  };
  let group: Row[] = [];
  const writeGroup = (): void => {
    const columnData = columns.map((c, i) => ({
      name: c.name,
      data: physicalValues(group, i, c, mappings[i]!),
      statistics: mappings[i]!.statistics,
    }));
    // Synchronous: a ByteWriter has no async flush, so write() returns no promise.
    void parquet.write({ columnData, rowGroupSize: group.length });
    group = [];
  };
  let groupBytes = 0;
  for await (const row of rows) {
    group.push(row);
    groupBytes += approximateBytes(row);
    if (group.length === rowGroupRows || groupBytes >= rowGroupBytes) {
      writeGroup();
      groupBytes = 0;
      yield take();
    }
  }
  if (group.length > 0) writeGroup();
  await parquet.finish();
  yield take();
}

async function* decodeParquet(columns: ColumnMeta[], body: Buffer): AsyncGenerator<Row> {
  const file = asyncBuffer(body);
  const metadata = await parquetMetadataAsync(file);
  // Annotations stripped: hyparquet would turn decimals into floats and timestamps into Dates. The
  // manifest's logical types say how to read the raw values exactly.
  const raw = {
    ...metadata,
    schema: metadata.schema.map(({ converted_type: _c, logical_type: _l, ...element }) => element),
  };
  const names = metadata.schema.slice(1).map((e) => e.name);
  const plan = columns.map((c) => {
    const index = names.indexOf(c.name);
    if (index < 0)
      throw new MigrationError(ErrorCode.VerificationFailed, `Parquet part has no column ${c.name}`, {
        column: c.name,
      });
    return { index, mapping: parquetMapping(c.type) };
  });
  let rowStart = 0;
  // One row group decoded at a time.
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await new Promise<unknown[][]>((resolve, reject) => {
      parquetRead({ file, metadata: raw, rowStart, rowEnd, utf8: false, onComplete: resolve }).catch(reject);
    });
    for (const values of rows) {
      yield plan.map(({ index, mapping }) => {
        const value = values[index];
        return value === null || value === undefined ? null : mapping.fromPhysical(value);
      });
    }
    rowStart = rowEnd;
  }
}

/** Apache Parquet with exact logical annotations (see s3-types.ts); the default format for S3. */
export const parquetFormat: PartFormat = {
  extension: 'parquet',
  encode: encodeParquet,
  decode: decodeParquet,
  // The footer's row count: the file's own claim, read from the part itself.
  count: async (body) => Number((await parquetMetadataAsync(asyncBuffer(body))).num_rows),
};
