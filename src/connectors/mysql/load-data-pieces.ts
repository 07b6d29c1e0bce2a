import {
  backslash,
  BytePieces,
  carriageReturn,
  hasEscapes,
  newline,
  tab,
  wideFieldBytes,
} from '../../core/byte-pieces';
import {
  joinedNull,
  joinedSeparator,
  LineTag,
  type ChunkData,
  type ChunkEncoding,
  type Row,
} from '../../core/connector';
import {
  checkedRow,
  fieldsOfJoinedLine,
  isNullField,
  joinedLineOf,
  keyedRow,
  valuesOfFields,
  type JoinedLines,
} from '../../core/joined-lines';
import type { LogicalKind } from '../../core/logical-types';
import { mapRows, rowBatches } from '../../core/row-batches';

/** A chunk of text fields. */
type TextFields = Extract<ChunkData, { encoding: typeof ChunkEncoding.TextFields }>;

/*
 * MySQL → MySQL: what a MySQL source's server sends → LOAD DATA text bytes, without making JS values.
 * - Joined lines ({@link ChunkEncoding.CopyTextLines}, narrow rows) are copied byte by byte once:
 *   separators become tabs, the 0xFE field `\N`, and the bytes LOAD DATA reads as escapes
 *   (`\ TAB LF CR NUL`) are escaped. Two kinds are written differently in a joined line than LOAD DATA
 *   takes them: bytes come as bytea hex (`\x…`), whose prefix is dropped (the load UNHEXes the field, as
 *   for rows), and a timestamptz ends in `+00`, which is dropped (the session is UTC). MySQL takes back
 *   every value MySQL holds, so a line tagged for checks (a time past 24:00) is copied like any other;
 *   a row left to its key is fetched and encoded as rows are.
 * - Text fields ({@link ChunkEncoding.TextFields}, wide rows) are the protocol's bytes, escaped, and
 *   bytes as hex. A field of 1 MB or more that needs no escape goes out as views of the bytes it came
 *   in, never copied or decoded: a 10 MB value is never a string.
 * A chunk with checks of the target's limits (none, same engine) goes through its values.
 */

const plus = 0x2b;
/** The escape letter after a backslash for each byte LOAD DATA reads as an escape, by byte. */
const escapeLetter = new Uint8Array(256);
escapeLetter[backslash] = backslash;
escapeLetter[tab] = 0x74; // t
escapeLetter[newline] = 0x6e; // n
escapeLetter[carriageReturn] = 0x72; // r
escapeLetter[0] = 0x30; // 0
/** Non-zero for the bytes the copy stops at: those it escapes, separators and NULLs. */
const stops = escapeLetter.map((letter) => (letter ? 1 : 0));
stops[joinedSeparator] = 1;
stops[joinedNull] = 1;

/** LOAD DATA text in pieces of bytes, from joined lines and from rows of values. */
export class LoadDataPieces extends BytePieces {
  /** Per field: bytea hex, whose `\x` is dropped. */
  private readonly hex: boolean[];
  /** Per field: a timestamptz, whose `+00` is dropped. */
  private readonly zoned: boolean[];

  constructor(
    kinds: LogicalKind[],
    /** A row of values → its LOAD DATA line, without the newline (for fetched rows). */
    private readonly encode: (row: Row) => string,
    pieceBytes: number,
  ) {
    super(pieceBytes);
    this.hex = kinds.map((kind) => kind === 'bytes');
    this.zoned = kinds.map((kind) => kind === 'timestamptz');
  }

  /** Appends a joined line (after its tag) as a LOAD DATA line; true when pieces are ready. */
  joined(line: Buffer): boolean {
    const from = 2;
    this.room(2 * line.length + 1);
    const out = this.out;
    const last = this.hex.length - 1;
    let at = this.at;
    let field = 0;
    let fieldStart = at;
    let i = from;
    if (this.hex[0] && line[i] === backslash) i += 2;
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (stops[c] === 0) {
        out[at++] = c;
        continue;
      }
      if (c === joinedSeparator) {
        if (this.zoned[field] && at - fieldStart > 3 && out[at - 3] === plus) at -= 3;
        if (field === last) throw fieldCountError(line, last + 1);
        out[at++] = tab;
        field++;
        fieldStart = at;
        if (this.hex[field] && line[i + 1] === backslash) i += 2;
      } else if (c === joinedNull && isNullField(line, i, from)) {
        out[at++] = backslash;
        out[at++] = 0x4e; // N
      } else if (c === joinedNull) out[at++] = c;
      else {
        out[at++] = backslash;
        out[at++] = escapeLetter[c]!;
      }
    }
    if (field !== last) throw fieldCountError(line, last + 1);
    if (this.zoned[field] && at - fieldStart > 3 && out[at - 3] === plus) at -= 3;
    out[at++] = newline;
    this.at = at;
    return this.endLine();
  }

  /** Appends a row of text fields (`Buffer`s as the server sent them) as a LOAD DATA line; true when pieces are ready. */
  fields(row: Row): boolean {
    return this.fieldsLine(row, this.hex.length, this.field);
  }

  /** Writes one text field (not NULL): bytes as hex, a wide one needing no escape as views, others escaped. */
  private readonly field = (field: Buffer, column: number): void => {
    if (this.hex[column]) this.hexOf(field);
    else if (field.length >= wideFieldBytes && !needsEscape(field)) this.views(field);
    else for (let from = 0; from < field.length; from += this.pieceBytes) this.escaped(field, from);
  };

  /** Appends one row of values as a LOAD DATA line; true when pieces are ready. */
  values(row: Row): boolean {
    this.text(this.encode(row));
    this.byte(newline);
    return this.endLine();
  }

  /** Copies up to a piece of `field` from `from` on, escaping what LOAD DATA reads as escapes. */
  private escaped(field: Buffer, from: number): void {
    const to = Math.min(field.length, from + this.pieceBytes);
    this.room(2 * (to - from));
    const out = this.out;
    let at = this.at;
    for (let i = from; i < to; i++) {
      const c = field[i]!;
      const letter = escapeLetter[c]!;
      if (letter === 0) out[at++] = c;
      else {
        out[at++] = backslash;
        out[at++] = letter;
      }
    }
    this.at = at;
  }

  /** Bytes as hex, for the load to UNHEX; a wide value half a piece at a time. */
  private hexOf(field: Buffer): void {
    const step = this.pieceBytes >> 1;
    for (let from = 0; from < field.length; from += step) {
      const part = field.subarray(from, Math.min(field.length, from + step));
      this.room(2 * part.length);
      this.at += this.out.write(part.toString('hex'), this.at, 'latin1');
    }
  }

  /** A wide field that needs no escape: the piece so far goes out, then views of the field, piece by piece. */
  private views(field: Buffer): void {
    this.flush();
    for (let from = 0; from < field.length; from += this.pieceBytes)
      this.ready.push(field.subarray(from, Math.min(field.length, from + this.pieceBytes)));
  }
}

/** LOAD DATA also reads `\0` as NUL, and this path writes NUL that way. */
const needsEscape = (field: Buffer): boolean => hasEscapes(field) || field.includes(0);

const fieldCountError = (line: Buffer, columns: number): Error =>
  new Error(`a joined line of ${fieldsOfJoinedLine(line, 2).length} fields for ${columns} columns`);

/** A joined line's row of values (a fetched row for a line left to its key), checked where the chunk has checks. */
export async function valuesOfLine(data: JoinedLines, line: Buffer): Promise<Row> {
  if (line[0] === LineTag.Key) return checkedRow(data, await keyedRow(data, line));
  return valuesOfFields(data, fieldsOfJoinedLine(line, 2));
}

/** The chunk's rows of values (for the INSERT path). */
export const rowsOfFields = (data: TextFields): AsyncIterable<Row> =>
  mapRows(data.rows, (row) => valuesOfFields(data, row));

/** The chunk's text fields as LOAD DATA text pieces; a chunk with checks through its values. */
export async function* loadDataFromFields(data: TextFields, pieces: LoadDataPieces): AsyncGenerator<Buffer> {
  const copied = !data.checks?.some((check) => check !== undefined);
  for await (const batch of rowBatches(data.rows))
    for (const row of batch) {
      const ready = copied ? pieces.fields(row) : pieces.values(valuesOfFields(data, row));
      // Most rows complete no piece; an async generator's `yield*` would cost each of them promises.
      if (ready) for (const piece of pieces.take()) yield piece;
    }
  for (const piece of pieces.take(true)) yield piece;
}

/** The chunk's rows of values, line by line (for the INSERT path). */
export async function* rowsOfLines(data: JoinedLines): AsyncGenerator<Row> {
  for await (const batch of rowBatches(data.rows))
    for (const row of batch) yield await valuesOfLine(data, joinedLineOf(row));
}

/**
 * The chunk as LOAD DATA text pieces: each line copied once; a line left to its key, and every line
 * of a chunk with checks, through its values.
 */
export async function* loadDataFromLines(data: JoinedLines, pieces: LoadDataPieces): AsyncGenerator<Buffer> {
  const copied = !data.checks?.some((check) => check !== undefined);
  for await (const batch of rowBatches(data.rows))
    for (const row of batch) {
      const line = joinedLineOf(row);
      const ready =
        copied && line[0] !== LineTag.Key
          ? pieces.joined(line)
          : pieces.values(await valuesOfLine(data, line));
      if (ready) for (const piece of pieces.take()) yield piece;
    }
  for (const piece of pieces.take(true)) yield piece;
}
