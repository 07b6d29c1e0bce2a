import type { Row, Value } from '../../core/connector';
import type { ColumnMeta } from '../../core/table';

/** A file format for object-store parts: how rows become bytes. */
export interface PartFormat {
  /** The file extension, without a dot. */
  extension: string;
  /** Encodes the rows of one part. */
  encode(columns: ColumnMeta[], rows: Row[]): string;
}

/** The JSON form of a value: int64 and non-finite floats as strings, bytes as base64; the manifest says the type. */
function jsonValue(value: Value): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return value;
}

/** One JSON object per line, keyed by column name. */
export const jsonlFormat: PartFormat = {
  extension: 'jsonl',
  encode(columns, rows) {
    return rows
      .map((row) => {
        const record: Record<string, unknown> = {};
        columns.forEach((c, i) => (record[c.name] = jsonValue(row[i] ?? null)));
        return JSON.stringify(record) + '\n';
      })
      .join('');
  },
};

const csvField = (value: Value): string => {
  if (value === null) return '';
  const text = Buffer.isBuffer(value) ? value.toString('base64') : String(value);
  return /[",\r\n]/.test(text) || text === '' ? `"${text.replace(/"/g, '""')}"` : text;
};

/** RFC 4180 CSV with a header; NULL is an empty unquoted field and the empty string is `""`. */
export const csvFormat: PartFormat = {
  extension: 'csv',
  encode(columns, rows) {
    const header = columns.map((c) => csvField(c.name)).join(',') + '\n';
    return header + rows.map((row) => row.map(csvField).join(',') + '\n').join('');
  },
};

/** The formats by name. */
export const partFormats = { jsonl: jsonlFormat, csv: csvFormat } as const;
