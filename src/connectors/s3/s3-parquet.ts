import {
  parquetMetadataAsync,
  parquetRead,
  type AsyncBuffer,
  type RowGroup,
  type SchemaElement,
  type Statistics,
} from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { unconvertMinMax } from 'hyparquet-writer/src/unconvert.js';
import { approximateRowBytes } from '../../core/chunking';
import type { Row } from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import type { ColumnMeta } from '../../core/table';
import type { PartFormat } from './s3-format';
import { parquetMapping, type ParquetMapping } from './s3-types';
import { rowBatches } from '../../core/row-batches';

/**
 * Rows per row group. The encoder holds one group's rows, their physical values and their encoded
 * bytes at a time, so a part's memory is bounded by this, not by the chunk or the table.
 */
const rowGroupRows = 10_000;
/** Bytes of values per row group, so that wide rows (10 MB each) close a group long before 10,000 rows. */
const rowGroupBytes = 8 * 1024 * 1024;
/** Encoded bytes are handed on in pieces of about this size, instead of piling up into a whole row group. */
const pieceBytes = 1024 * 1024;
/** Longest min/max statistic kept, in bytes: the writer's own footer default. */
const statisticBytes = 16;

/**
 * The part's bytes as pieces of about {@link pieceBytes}: the writer only appends, so what it wrote
 * can leave as soon as the next append needs room. A plain ByteWriter would double its buffer up to
 * the whole row group, copying at every step.
 */
class PieceWriter extends ByteWriter {
  private pieces: Buffer[] = [];

  override ensure(size: number): void {
    if (this.index >= pieceBytes) this.cut();
    super.ensure(size);
  }

  /** Everything written so far, in order. */
  take(): Buffer[] {
    this.cut();
    return this.pieces.splice(0);
  }

  private cut(): void {
    if (this.index === 0) return;
    // The filled buffer leaves as it is; a fresh one takes the next bytes (no copy, no growth).
    this.pieces.push(Buffer.from(this.buffer, 0, this.index));
    this.buffer = new ArrayBuffer(pieceBytes);
    this.view = new DataView(this.buffer);
    this.index = 0;
  }
}

/**
 * Cuts a written row group's min/max statistics down to what the footer will hold. The writer keeps
 * the values themselves until the footer is written, so every row group of 10 MB texts would keep
 * two of them alive for the whole part. The bounds are cut exactly as the writer would cut them.
 */
function trimStatistics(group: RowGroup | undefined, schema: SchemaElement[]): void {
  for (const [i, chunk] of (group?.columns ?? []).entries()) {
    const statistics = chunk.meta_data?.statistics;
    const element = schema[i + 1];
    if (!statistics || !element) continue;
    trimBound(statistics, element, 'min_value', 'is_min_value_exact');
    trimBound(statistics, element, 'max_value', 'is_max_value_exact');
  }
}

function trimBound(
  statistics: Statistics,
  element: SchemaElement,
  key: 'min_value' | 'max_value',
  exact: 'is_min_value_exact' | 'is_max_value_exact',
): void {
  const value = statistics[key];
  if (!(typeof value === 'string' || value instanceof Uint8Array) || value.length <= statisticBytes) return;
  // A prefix one unit longer than the cut gives the same bound without encoding a whole 10 MB text.
  const head =
    typeof value === 'string' ? value.slice(0, statisticBytes + 1) : value.subarray(0, statisticBytes + 1);
  const cut = unconvertMinMax(head, element, key === 'max_value', statisticBytes);
  if (cut && cut.length <= statisticBytes) {
    statistics[key] = cut;
    statistics[exact] = false;
  } else {
    // No short bound exists (JSON is never cut): no bound is better than a whole value held.
    delete statistics[key];
    delete statistics[exact];
  }
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
  const writer = new PieceWriter(pieceBytes);
  const parquet = new ParquetWriter({
    writer,
    schema,
    createdBy: 'mms',
    statisticsTruncateLength: statisticBytes,
  });
  let group: Row[] = [];
  const writeGroup = (): void => {
    const columnData = columns.map((c, i) => ({
      name: c.name,
      data: physicalValues(group, i, c, mappings[i]!),
      statistics: mappings[i]!.statistics,
    }));
    // Synchronous: a ByteWriter has no async flush, so write() returns no promise.
    void parquet.write({ columnData, rowGroupSize: group.length });
    trimStatistics(parquet.row_groups.at(-1), schema);
    group = [];
  };
  let groupBytes = 0;
  for await (const batch of rowBatches(rows))
    for (const row of batch) {
      group.push(row);
      groupBytes += approximateRowBytes(row);
      if (group.length === rowGroupRows || groupBytes >= rowGroupBytes) {
        writeGroup();
        groupBytes = 0;
        yield* writer.take();
      }
    }
  if (group.length > 0) writeGroup();
  await parquet.finish();
  yield* writer.take();
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
