import type { Row, Value, ValueCheck } from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import type { LogicalKind } from '../../core/logical-types';
import { tableLabel, type ColumnMeta, type TableMeta } from '../../core/table';
import { decodeCopyValue, type WideLine } from '../postgres/postgres-copy-text';
import { escapeLoadDataField } from './mysql-dialect';
import { fieldText } from './mysql-types';

/*
 * PostgreSQL COPY text → MySQL LOAD DATA text, field by field, for PostgreSQL → MySQL copies without
 * casts. Both are lines of tab-separated fields with backslash escapes and `\N` for NULL. COPY TO
 * escapes `\b \f \n \r \t \v \\`; LOAD DATA reads `\b \n \r \t \\` the same way, but takes `\f` as
 * `f` and `\v` as `v`. So a field is:
 * - copied, for types whose PostgreSQL text MySQL reads as the same value (integers, text, json,
 *   uuid, enum labels, times), with `\f` and `\v` written out as the characters themselves;
 * - rewritten, for booleans (`t` → `1`) and bytea (`\\x0aff` → `0aff`, which the load UNHEXes);
 * - otherwise decoded into its value, checked against MySQL's limits (the chunk's checks) and encoded
 *   as rows are (`fieldText`): floats, decimals, dates and timestamps, and every column with a check.
 */

/** Kinds whose PostgreSQL text is the text MySQL reads back into the same value. */
const sameTextKinds: ReadonlySet<LogicalKind> = new Set<LogicalKind>([
  'int16',
  'int32',
  'int64',
  'string',
  'text',
  'json',
  'uuid',
  'enum',
  'time',
]);

/** Turns COPY text lines of one table into what a MySQL target loads. */
export interface CopyTextTranscoder {
  /**
   * One COPY line → its LOAD DATA line, both without their newline. A line that needs no rewrite is
   * returned as it is, not copied: a 10 MB line stays one string.
   */
  loadDataLine: (line: string) => string;
  /**
   * A wide COPY line, still in the pieces it came in ({@link WideLine}) → the same pieces when they
   * are its LOAD DATA line as they are (no column to rewrite, no `\f` or `\v` escape, one field per
   * column), else its LOAD DATA line as {@link loadDataLine} makes it.
   */
  wideLoadDataLine: (line: WideLine) => string | WideLine;
  /** One COPY line → its row of checked values (for the INSERT path). */
  row: (line: string) => Row;
}

/**
 * The transcoder for a table's COPY lines: one field per column, in column order. `checks` are the
 * chunk's (see `ChunkData`): a column with one always goes through its value.
 */
export function copyTextTranscoder(
  table: TableMeta,
  checks: readonly (ValueCheck | undefined)[] = [],
): CopyTextTranscoder {
  const label = tableLabel(table.ref);
  const columns = table.columns;
  const last = columns.length - 1;
  const rewrites = columns.map((column, i) => fieldRewrite(column, checks[i], label));
  const values = columns.map((column, i) => fieldValue(column, checks[i], label));
  const wrongFieldCount = (line: string): MigrationError =>
    new MigrationError(
      ErrorCode.Internal,
      `${label}: a COPY line has ${line.split('\t').length} fields, expected ${columns.length}`,
      { table: label },
    );
  // The line is copied in spans; only fields that need a rewrite are cut out, and only changed ones replaced.
  const loadDataLine = (line: string): string => {
    // COPY writes form feeds and vertical tabs only as these escapes: most lines have no text field to touch.
    const writeOut = line.includes('\\') && formFeedOrVerticalTab.test(line);
    let out = '';
    let copiedTo = 0;
    let start = 0;
    for (let i = 0; i <= last; i++) {
      const tab = line.indexOf('\t', start);
      if ((tab === -1) !== (i === last)) throw wrongFieldCount(line);
      const end = tab === -1 ? line.length : tab;
      const rewrite = rewrites[i] ?? (writeOut ? sameText : undefined);
      if (rewrite) {
        const field = line.slice(start, end);
        const written = rewrite(field);
        if (written !== field) {
          out += line.slice(copiedTo, start) + written;
          copiedTo = end;
        }
      }
      start = end + 1;
    }
    return copiedTo === 0 ? line : out + line.slice(copiedTo);
  };
  const copiedAsTheyAre = rewrites.every((rewrite) => rewrite === undefined);
  return {
    loadDataLine,
    wideLoadDataLine: (line) =>
      copiedAsTheyAre && bytesPassAsTheyAre(line, last)
        ? line
        : loadDataLine(Buffer.concat(line).toString('utf8')),
    row: (line) => {
      const fields = line.split('\t');
      if (fields.length !== columns.length) throw wrongFieldCount(line);
      return fields.map((field, i) => values[i]!(field));
    },
  };
}

/** How one column's COPY field becomes its LOAD DATA field; undefined where it is copied ({@link sameText}). */
function fieldRewrite(
  column: ColumnMeta,
  check: ValueCheck | undefined,
  label: string,
): ((field: string) => string) | undefined {
  const value = fieldValue(column, check, label);
  const throughValue = (field: string): string => {
    const text = fieldText(value(field), column.type, column.name);
    return text === null ? '\\N' : escapeLoadDataField(text);
  };
  if (check) return throughValue;
  if (sameTextKinds.has(column.type.kind)) return undefined;
  if (column.type.kind === 'boolean')
    return (field) => (field === 't' ? '1' : field === 'f' ? '0' : throughValue(field));
  // bytea's hex output, `\x0aff`, with its backslash escaped; the load takes the digits through UNHEX.
  if (column.type.kind === 'bytes')
    return (field) => (field.startsWith('\\\\x') ? field.slice(3) : throughValue(field));
  return throughValue;
}

/** One column's COPY field → its checked value; errors name the table and column. */
function fieldValue(
  column: ColumnMeta,
  check: ValueCheck | undefined,
  label: string,
): (field: string) => Value {
  return (field) => {
    try {
      const value = decodeCopyValue(field, column.type);
      return check ? check(value) : value;
    } catch (e) {
      if (e instanceof MigrationError) throw e;
      throw new MigrationError(
        ErrorCode.Internal,
        `${label}.${column.name} (${column.nativeType}): cannot read the COPY field ${JSON.stringify(field.slice(0, 40))}: ${e instanceof Error ? e.message : String(e)}`,
        { table: label, column: column.name },
      );
    }
  };
}

/**
 * True when a wide line's bytes are its LOAD DATA bytes: `tabs` separators (a tab inside a value is
 * escaped as `\t`), and no backslash before an `f` or `v` (COPY's form feed and vertical tab escapes,
 * which LOAD DATA reads differently; like {@link formFeedOrVerticalTab}, an escaped backslash
 * before one counts too, and sends the line the string way).
 */
function bytesPassAsTheyAre(pieces: WideLine, tabs: number): boolean {
  let seen = 0;
  let afterBackslash = false;
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    if (afterBackslash && (piece[0] === 0x66 || piece[0] === 0x76)) return false;
    for (let at = piece.indexOf(0x5c); at !== -1; at = piece.indexOf(0x5c, at + 1)) {
      const next = piece[at + 1];
      if (next === 0x66 || next === 0x76) return false;
    }
    for (let at = piece.indexOf(0x09); at !== -1; at = piece.indexOf(0x09, at + 1)) seen++;
    afterBackslash = piece[piece.length - 1] === 0x5c;
  }
  return seen === tabs;
}

/** Where a line may hold a form feed or vertical tab (or an escaped backslash before an `f` or `v`). */
const formFeedOrVerticalTab = /\\[fv]/;
/** A backslash escape: pairs are matched left to right, so `\\f` is an escaped backslash and an `f`. */
const escapePair = /\\[\s\S]/g;
/** The escapes COPY TO writes that LOAD DATA reads differently, written out. */
const writtenOut = (pair: string): string => (pair === '\\f' ? '\f' : pair === '\\v' ? '\v' : pair);

/** A field whose COPY text is its LOAD DATA text, once `\f` and `\v` are written out. */
function sameText(field: string): string {
  return field.includes('\\') ? field.replace(escapePair, writtenOut) : field;
}
