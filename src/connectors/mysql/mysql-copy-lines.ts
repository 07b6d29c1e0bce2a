import { joinedNull, joinedSeparator, LineTag, type FieldDecoder, type KeyTuple } from '../../core/connector';
import { textualKinds, type LogicalType } from '../../core/logical-types';
import type { ColumnMeta, TableMeta } from '../../core/table';
import { keyText, quoteIdent, selectRangeSql, type KeyColumn, type Statement } from './mysql-dialect';
import { baseNativeType, fieldDecoder, quoteLiteral } from './mysql-types';

/**
 * The server joins each row's fields into one value ({@link ChunkEncoding.CopyTextLines}): one
 * `CONCAT_WS` per row, fields separated by byte 0xFF and NULL written as the one byte 0xFE, bytes UTF-8
 * never holds. The worker then scans one value per row into COPY text instead of handling a `Buffer` of
 * every field, which was most of its work MySQL → PostgreSQL (docs/performance.md). Escaping stays in
 * the worker: `REPLACE` on the server cost the source as much CPU as it saved the worker.
 */

/**
 * Above this many bytes of long-text and long-blob values, a row is fetched by its key instead (tag K):
 * the server returns NULL for a string longer than `max_allowed_packet` (16 MB by default on MariaDB).
 */
export const longValueBytes = 256 * 1024;

/** The joined line's separator and NULL as SQL byte literals (`X'FF'`, `X'FE'`). */
const byteLiteral = (byte: number): string => `X'${byte.toString(16).toUpperCase()}'`;
const separatorBytes = byteLiteral(joinedSeparator);
const nullBytes = byteLiteral(joinedNull);

/** A text's UTF-8 bytes: utf8mb4, utf8mb3 and ascii columns are already, others are converted. */
function utf8Bytes(column: ColumnMeta, expression: string): string {
  const collation = / COLLATE (\w+)$/.exec(column.nativeType)?.[1] ?? '';
  return /^(utf8|ascii)/i.test(collation)
    ? `CAST(${expression} AS BINARY)`
    : `CAST(CONVERT(${expression} USING utf8mb4) AS BINARY)`;
}

/** A column's field in a joined line, or null for a type this path does not write (booleans, arrays, unmapped). */
function fieldExpression(column: ColumnMeta): string | null {
  const c = quoteIdent(column.name);
  const field = ((type: LogicalType): string | null => {
    switch (type.kind) {
      case 'int16':
      case 'int32':
      case 'int64':
      case 'decimal':
      case 'uuid':
      case 'date':
      case 'timestamp':
      case 'time':
        return c;
      // The session time zone is UTC.
      case 'timestamptz':
        return `CONCAT(${c}, '+00')`;
      // The server's shortest exact text, as the text-fields path reads them (mysql-types.ts).
      case 'float32':
        return `CAST(CAST(${c} AS DOUBLE) AS CHAR)`;
      case 'float64':
        return `CAST(${c} AS CHAR)`;
      case 'string':
      case 'text':
      case 'json':
      case 'enum':
        return utf8Bytes(column, c);
      // bytea's hex input: `\x…`.
      case 'bytes':
        return `CONCAT('\\\\x', HEX(${c}))`;
      default:
        return null;
    }
  })(column.type);
  if (field === null || column.unmapped) return null;
  if (!column.nullable) return field;
  // IFNULL takes the character set of its other argument, in which 0xFE is no character: bytes on both sides.
  return `IFNULL(CAST(${field} AS BINARY), ${nullBytes})`;
}

/** Long texts and blobs: the values whose length decides whether the server builds a row's line. */
const isLong = (column: ColumnMeta): boolean =>
  column.type.kind === 'json' || /^(?:medium|long)(?:text|blob)$/i.test(baseNativeType(column.nativeType));

/** Whether the server can join a table's rows into lines: a key, and every column a type it writes. */
export function copyLinesFit(table: TableMeta): boolean {
  return table.primaryKey.length > 0 && table.columns.every((c) => fieldExpression(c) !== null);
}

/**
 * `SELECT <line> … WHERE key in (after, upTo] ORDER BY key`: one value per row, a {@link LineTag} and
 * then each field after a 0xFF byte (shard constants last). A row with a time of day PostgreSQL cannot
 * hold is tagged C; one whose long values pass {@link longValueBytes} is tagged K and carries its key
 * (the text keyset bounds use) instead.
 */
export function selectCopyLinesSql(
  table: TableMeta,
  key: KeyColumn[],
  after: KeyTuple | null,
  upTo: KeyTuple,
): Statement {
  const fields = table.columns.map((c) => fieldExpression(c)!);
  for (const constant of table.constantColumns ?? [])
    fields.push(`CAST(${quoteLiteral(constant.value)} AS BINARY)`);
  const times = table.columns
    .filter((c) => c.type.kind === 'time')
    .map((c) => `${quoteIdent(c.name)} < '00:00:00' OR ${quoteIdent(c.name)} > '24:00:00'`);
  const tag = (letter: number): string => `'${String.fromCharCode(letter)}'`;
  const lineTag = times.length
    ? `IF(${times.join(' OR ')}, ${tag(LineTag.Check)}, ${tag(LineTag.Line)})`
    : tag(LineTag.Line);
  let line = `CONCAT_WS(${separatorBytes}, ${lineTag}, ${fields.join(', ')})`;
  const long = table.columns.filter(isLong).map((c) => `IFNULL(LENGTH(${quoteIdent(c.name)}), 0)`);
  if (long.length) {
    const keys = key.map((k) => {
      const column = table.columns.find((c) => c.name === k.name)!;
      const text = keyText(k, quoteIdent(k.name));
      return textualKinds.has(k.type.kind) ? utf8Bytes(column, text) : text;
    });
    line = `IF(${long.join(' + ')} > ${longValueBytes}, CONCAT_WS(${separatorBytes}, ${tag(LineTag.Key)}, ${keys.join(', ')}), ${line})`;
  }
  return selectRangeSql(table.ref, line, key, after, upTo);
}

/**
 * A column's field in a joined line, read into its value: as text fields are read, but bytes come as
 * bytea hex (`\x…`) and a timestamptz already ends in `+00`.
 */
export function lineFieldDecoder(column: ColumnMeta): FieldDecoder {
  if (column.type.kind === 'bytes') return (field) => Buffer.from(field.toString('latin1', 2), 'hex');
  const decode = fieldDecoder(column.type);
  if (column.type.kind === 'timestamptz') return (field) => decode(field.subarray(0, field.length - 3));
  return decode;
}
