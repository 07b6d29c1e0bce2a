import type { Row, Value } from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import { pgTextValue } from '../../core/array-values';
import type { LogicalType } from '../../core/logical-types';
import type { ColumnMeta } from '../../core/table';
import { parquetFormat } from './s3-parquet';
import { rowBatches } from '../../core/row-batches';

/** A file format for object-store parts: how rows become bytes and back. */
export interface PartFormat {
  /** The file extension, without a dot; the manifest names the format by it. */
  extension: string;
  /** Encodes rows as byte chunks, pulling rows only as fast as the bytes are consumed. */
  encode(columns: ColumnMeta[], rows: AsyncIterable<Row>): AsyncIterable<Buffer>;
  /** Decodes one part back into rows in the `Value` forms, in the given column order. */
  decode(columns: ColumnMeta[], body: Buffer): Iterable<Row> | AsyncIterable<Row>;
  /** Counts a part's rows from its own bytes, independently of any manifest. */
  count(body: Buffer): number | Promise<number>;
}

/** Text is emitted in pieces of about this size, so a part is streamed rather than built whole. */
const textPieceChars = 64 * 1024;

/** Turns rows into text pieces, one `line` per row. */
async function* textPieces(rows: AsyncIterable<Row>, line: (row: Row) => string): AsyncGenerator<Buffer> {
  let piece = '';
  for await (const batch of rowBatches(rows))
    for (const row of batch) {
      piece += line(row);
      if (piece.length >= textPieceChars) {
        yield Buffer.from(piece, 'utf8');
        piece = '';
      }
    }
  if (piece) yield Buffer.from(piece, 'utf8');
}

/** The text of a float that plain JSON or `String()` would get wrong: -0, NaN and the infinities. */
const floatText = (value: number): string | number =>
  Object.is(value, -0) ? '-0' : Number.isFinite(value) ? value : String(value);

/** The JSON form of a value: int64 and special floats as strings, bytes as base64; the manifest says the type. */
function jsonValue(value: Value): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return floatText(value);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return value;
}

/**
 * A value's text in a CSV field or a JSON string → its `Value` form for the column's type: as
 * PostgreSQL's text reads, but booleans are `true`/`false` and bytes base64.
 */
export function fromText(text: string, type: LogicalType): Value {
  if (type.kind === 'boolean') return text === 'true';
  return type.kind === 'bytes' ? Buffer.from(text, 'base64') : pgTextValue(text, type);
}

/** A parsed JSON value → its `Value` form: strings go through {@link fromText}, numbers and booleans stay. */
const fromJson = (value: unknown, type: LogicalType): Value =>
  typeof value === 'string' ? fromText(value, type) : (value as Value);

const malformed = (format: string, detail: string): MigrationError =>
  new MigrationError(ErrorCode.VerificationFailed, `malformed ${format} part: ${detail}`);

/** One JSON object per line, keyed by column name. */
export const jsonlFormat: PartFormat = {
  extension: 'jsonl',
  encode(columns, rows) {
    const keys = columns.map((c) => `${JSON.stringify(c.name)}:`);
    return textPieces(
      rows,
      (row) => `{${keys.map((key, i) => key + JSON.stringify(jsonValue(row[i] ?? null))).join(',')}}\n`,
    );
  },
  *decode(columns, body) {
    for (const line of body.toString('utf8').split('\n')) {
      if (!line) continue;
      const record = JSON.parse(line) as Record<string, unknown>;
      yield columns.map((c) => {
        const value = Object.hasOwn(record, c.name) ? record[c.name] : null;
        return value === null ? null : fromJson(value, c.type);
      });
    }
  },
  count: (body) =>
    body
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0).length,
};

/** A non-null value as text (CSV fields, Hive folder values), read back by {@link fromText}: bytes as base64. */
export function valueText(value: Exclude<Value, null>): string {
  return Buffer.isBuffer(value)
    ? value.toString('base64')
    : String(typeof value === 'number' ? floatText(value) : value);
}

const csvField = (value: Value): string => {
  if (value === null) return '';
  const text = valueText(value);
  return /[",\r\n]/.test(text) || text === '' ? `"${text.replace(/"/g, '""')}"` : text;
};

/** Splits CSV text into records; a field is null when empty and unquoted, and `""` is the empty string. */
function* csvRecords(text: string): Generator<(string | null)[]> {
  let i = 0;
  while (i < text.length) {
    const record: (string | null)[] = [];
    for (;;) {
      if (text[i] === '"') {
        let field = '';
        for (let from = i + 1; ;) {
          const quote = text.indexOf('"', from);
          if (quote < 0) throw malformed('CSV', 'unterminated quoted field');
          field += text.slice(from, quote);
          if (text[quote + 1] !== '"') {
            i = quote + 1;
            break;
          }
          field += '"';
          from = quote + 2;
        }
        record.push(field);
      } else {
        let end = i;
        while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
        record.push(end === i ? null : text.slice(i, end));
        i = end;
      }
      if (text[i] === ',') i++;
      else if (text[i] === '\n' || i === text.length) break;
      else throw malformed('CSV', `unexpected character after a quoted field at ${i}`);
    }
    i++;
    yield record;
  }
}

/** RFC 4180 CSV with a header; NULL is an empty unquoted field and the empty string is `""`. */
export const csvFormat: PartFormat = {
  extension: 'csv',
  async *encode(columns, rows) {
    yield Buffer.from(columns.map((c) => csvField(c.name)).join(',') + '\n', 'utf8');
    yield* textPieces(rows, (row) => row.map(csvField).join(',') + '\n');
  },
  *decode(columns, body) {
    const records = csvRecords(body.toString('utf8'));
    const header = records.next();
    if (header.done) return;
    const positions = columns.map((c) => header.value.indexOf(c.name));
    const missing = columns.find((_, i) => positions[i]! < 0);
    if (missing) throw malformed('CSV', `no column ${missing.name}`);
    for (const record of records) {
      yield columns.map((c, i) => {
        const field = record[positions[i]!] ?? null;
        return field === null ? null : fromText(field, c.type);
      });
    }
  },
  count(body) {
    let records = 0;
    for (const _ of csvRecords(body.toString('utf8'))) records++;
    return Math.max(0, records - 1);
  },
};

/** The formats by name. */
export const partFormats = { jsonl: jsonlFormat, csv: csvFormat, parquet: parquetFormat } as const;

/** The format a manifest names, or a terminal error for an unknown one. */
export function formatNamed(name: string): PartFormat {
  const format = (partFormats as Record<string, PartFormat>)[name];
  if (!format) throw new MigrationError(ErrorCode.VerificationFailed, `unknown part format "${name}"`);
  return format;
}
