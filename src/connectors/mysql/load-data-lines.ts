import { BytePieces } from '../../core/byte-pieces';
import { joinedNull, joinedSeparator, LineTag, type Row } from '../../core/connector';
import {
  fieldsOfJoinedLine,
  isNullField,
  joinedLineOf,
  keyedRow,
  type JoinedLines,
} from '../../core/joined-lines';
import type { LogicalKind } from '../../core/logical-types';
import { rowBatches } from '../../core/row-batches';

/*
 * Joined lines ({@link ChunkEncoding.CopyTextLines}, which a MySQL source's server builds) → LOAD DATA
 * text, for MySQL → MySQL copies. Each line is copied byte by byte once: separators become tabs, the
 * 0xFE field `\N`, and the bytes LOAD DATA reads as escapes (`\ TAB LF CR NUL`) are escaped. Two kinds
 * are written differently in a joined line than LOAD DATA takes them: bytes come as bytea hex (`\x…`),
 * whose prefix is dropped (the load UNHEXes the field, as for rows), and a timestamptz ends in `+00`,
 * which is dropped (the session is UTC). MySQL takes back every value MySQL holds, so a line tagged
 * for checks (a time past 24:00) is copied like any other; a row left to its key is fetched and
 * encoded as rows are. A chunk with checks of the target's limits (none, same engine) goes through
 * its values.
 */

const backslash = 0x5c;
const tab = 0x09;
const newline = 0x0a;
const plus = 0x2b;
/** The escape letter after a backslash for each byte LOAD DATA reads as an escape, by byte. */
const escapeLetter = new Uint8Array(256);
escapeLetter[backslash] = backslash;
escapeLetter[tab] = 0x74; // t
escapeLetter[newline] = 0x6e; // n
escapeLetter[0x0d] = 0x72; // r
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

  /** Appends one row of values as a LOAD DATA line; true when pieces are ready. */
  values(row: Row): boolean {
    this.text(this.encode(row));
    this.byte(newline);
    return this.endLine();
  }
}

const fieldCountError = (line: Buffer, columns: number): Error =>
  new Error(`a joined line of ${fieldsOfJoinedLine(line, 2).length} fields for ${columns} columns`);

/** A joined line's row of values (a fetched row for a line left to its key), checked where the chunk has checks. */
export async function valuesOfLine(data: JoinedLines, line: Buffer): Promise<Row> {
  if (line[0] === LineTag.Key) return checked(data, await keyedRow(data, line));
  return checked(
    data,
    fieldsOfJoinedLine(line, 2).map((field, i) =>
      field === null ? null : data.decoders[i]!(field as Buffer),
    ),
  );
}

function checked(data: JoinedLines, row: Row): Row {
  const checks = data.checks;
  if (checks) for (let i = 0; i < row.length; i++) row[i] = checks[i] ? checks[i]!(row[i] ?? null) : row[i]!;
  return row;
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
