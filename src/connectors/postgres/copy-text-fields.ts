import {
  backslash,
  BytePieces,
  carriageReturn,
  copyRun,
  hasEscapes,
  newline,
  tab,
  wideFieldBytes,
} from '../../core/byte-pieces';
import {
  joinedNull,
  joinedSeparator,
  LineTag,
  verbatimTextKinds,
  type FieldDecoder,
  type Row,
  type Value,
  type ValueCheck,
} from '../../core/connector';
import {
  fieldsOfJoinedLine,
  isNullField,
  joinedLineOf,
  keyedRow,
  type JoinedLines,
} from '../../core/joined-lines';
import { textualKinds, type LogicalKind, type LogicalType } from '../../core/logical-types';
import { rowBatches } from '../../core/row-batches';
import { slicesOf } from '../../core/text-slices';
import { encodeCopyValue } from './postgres-copy-text';
import { nulOnlyKinds } from './postgres-types';

/** Lines are sent in pieces of about this many bytes: one socket write per row costs more than the row. */
const pieceBytes = 64 * 1024;

/** The escape letter after a backslash for each byte COPY text escapes, by byte. */
const escapeLetter: Record<number, number> = {
  [backslash]: backslash,
  [tab]: 0x74,
  [newline]: 0x6e,
  [carriageReturn]: 0x72,
};
/** Non-zero for the bytes a text scan stops at: those COPY text escapes, and NUL. */
const special = new Uint8Array(256);
for (const c of [backslash, tab, newline, carriageReturn, 0]) special[c] = 1;
/** Non-zero for the bytes the copy of a joined line stops at: those of {@link special}, separators and NULLs. */
const joinedStops = Uint8Array.from(special);
joinedStops[joinedSeparator] = 1;
joinedStops[joinedNull] = 1;
const dash = 0x2d;
/** {@link joinedStops} and the dash, where a zero date must be found. */
const joinedDateStops = Uint8Array.from(joinedStops);
joinedDateStops[dash] = 1;

/** Whether the dash at `i` is that of a zero month or day (`-00`) or of a zero year (`0000-`). */
function zeroDateAt(line: Buffer, i: number, from: number): boolean {
  const zero = 0x30;
  if (line[i + 1] === zero && line[i + 2] === zero) return true;
  return (
    i - from >= 4 &&
    line[i - 1] === zero &&
    line[i - 2] === zero &&
    line[i - 3] === zero &&
    line[i - 4] === zero
  );
}

/** How one column's fields become COPY text. */
const FieldWay = {
  /** Digits and the like: copied as they are. */
  Raw: 0,
  /** Text: copied, backslash-escaped where COPY text needs it. */
  Escaped: 1,
  /** Text whose only check refuses NUL: escaped; decoded and checked only when it holds a zero byte. */
  EscapedUnlessNul: 2,
  /** Decoded into its value, checked, and encoded as rows are. */
  Decoded: 3,
} as const;
type FieldWay = (typeof FieldWay)[keyof typeof FieldWay];

/** How each column's fields are written, from its type and whether the target's limits check it. */
function fieldWays(types: LogicalType[], checks: (ValueCheck | undefined)[] | undefined): FieldWay[] {
  return types.map((type, i) => {
    const checked = checks?.[i] !== undefined;
    if (!verbatimTextKinds.has(type.kind)) return FieldWay.Decoded;
    const text = textualKinds.has(type.kind);
    if (!checked) return text ? FieldWay.Escaped : FieldWay.Raw;
    return text && nulOnlyKinds.has(type.kind) ? FieldWay.EscapedUnlessNul : FieldWay.Decoded;
  });
}

/**
 * Writes text fields ({@link ChunkEncoding.TextFields}, e.g. MySQL's text protocol) as COPY text bytes,
 * without making JS values of most of them: integers, decimals and uuids are copied as they are, texts
 * copied with COPY's backslash escapes, and only the other kinds (floats, bytes, dates and times), and
 * texts holding a NUL byte where PostgreSQL's check must see them, are decoded, checked and encoded as
 * rows are. A chunk goes out in ~64 KB pieces; a field of 1 MB or more goes out on its own.
 */
export async function* copyTextFromFields(
  rows: AsyncIterable<Row>,
  types: LogicalType[],
  decoders: FieldDecoder[],
  checks: (ValueCheck | undefined)[] | undefined,
): AsyncGenerator<Buffer> {
  const pieces = new CopyTextPieces(fieldWays(types, checks), decoders, checks ?? []);
  for await (const batch of rowBatches(rows))
    for (const row of batch) {
      // Most rows complete no piece; an async generator's `yield*` would cost each of them promises.
      if (pieces.line(row)) for (const piece of pieces.take()) yield piece;
    }
  for (const piece of pieces.take(true)) yield piece;
}

/**
 * Writes the lines a source's server joined ({@link ChunkEncoding.CopyTextLines}) as COPY text pieces:
 * each line is copied byte by byte once, its separators becoming tabs and the bytes COPY escapes
 * escaped. The lines a check of the target's limits could change are taken apart and written as text
 * fields are: those the server tagged, and those the copy finds holding a NUL byte or, where a date
 * column is checked, `-00` or `0000-` (every MySQL zero date has one, no other date does; a text that
 * merely contains one costs time, not correctness). A row the server left to its key is fetched, and
 * its values checked and encoded as rows are.
 */
export async function* copyTextFromLines(data: JoinedLines, types: LogicalType[]): AsyncGenerator<Buffer> {
  const checks = data.checks ?? [];
  const pieces = new CopyTextPieces(fieldWays(types, data.checks), data.decoders, checks);
  const zeroDates = types.some((t, i) => checks[i] !== undefined && dateKinds.has(t.kind));
  for await (const batch of rowBatches(data.rows))
    for (const row of batch) {
      const line = joinedLineOf(row);
      let ready: boolean;
      if (line[0] === LineTag.Line) ready = pieces.joined(line, 2, zeroDates);
      else if (line[0] === LineTag.Check) ready = pieces.line(fieldsOfJoinedLine(line, 2));
      else ready = pieces.values(await keyedRow(data, line));
      if (ready) for (const piece of pieces.take()) yield piece;
    }
  for (const piece of pieces.take(true)) yield piece;
}

const dateKinds: ReadonlySet<LogicalKind> = new Set(['date', 'timestamp', 'timestamptz']);

/** Builds COPY text lines into pieces of bytes. */
export class CopyTextPieces extends BytePieces {
  constructor(
    private readonly ways: FieldWay[],
    private readonly decoders: FieldDecoder[],
    private readonly checks: (ValueCheck | undefined)[],
  ) {
    super(pieceBytes);
  }

  /**
   * Appends a joined line from byte `from` on as a COPY text line; true when pieces are ready. A line
   * holding a NUL byte, or with `zeroDates` what a zero date holds, is written as text fields instead,
   * so that PostgreSQL's checks see its values. One pass copying every byte: copying runs natively
   * between the bytes it stops at was 1.7 times slower, the fields being short.
   */
  joined(line: Buffer, from: number, zeroDates: boolean): boolean {
    this.room(2 * (line.length - from) + 1);
    const out = this.out;
    const start = this.at;
    const stops = zeroDates ? joinedDateStops : joinedStops;
    let at = start;
    for (let i = from; i < line.length; i++) {
      const c = line[i]!;
      if (stops[c] === 0) {
        out[at++] = c;
        continue;
      }
      if (c === joinedSeparator) out[at++] = tab;
      else if (c === joinedNull && isNullField(line, i, from)) {
        out[at++] = backslash;
        out[at++] = 0x4e; // N
      } else if (c === 0 || (c === dash && zeroDateAt(line, i, from))) {
        this.at = start;
        return this.line(fieldsOfJoinedLine(line, from));
      } else if (c === joinedNull || c === dash) out[at++] = c;
      else {
        out[at++] = backslash;
        out[at++] = escapeLetter[c]!;
      }
    }
    out[at++] = newline;
    this.at = at;
    return this.endLine();
  }

  /** Appends one row of values as a line, each checked and encoded; true when pieces are ready. */
  values(row: Row): boolean {
    row.forEach((value, i) => {
      if (i > 0) this.byte(tab);
      this.text(encodeCopyValue(this.checked(value, i)));
    });
    this.byte(newline);
    return this.endLine();
  }

  /** Appends one row as a line; true when pieces are ready to {@link take}. */
  line(row: Row): boolean {
    return this.fieldsLine(row, this.ways.length, this.field);
  }

  /** Writes one field of a row (not NULL) as its column's way says. */
  private readonly field = (field: Buffer, column: number): void => {
    const way = this.ways[column]!;
    if (field.length >= wideFieldBytes) this.wide(field, column, way);
    else if (way === FieldWay.Raw) this.bytes(field, 0, field.length);
    else if (way === FieldWay.Decoded || !this.escaped(field, way === FieldWay.EscapedUnlessNul))
      this.text(this.decodedText(field, column));
  };

  /** The field decoded, checked and encoded as a COPY text field. */
  private decodedText(field: Buffer, column: number): string {
    return encodeCopyValue(this.checked(this.decoders[column]!(field), column));
  }

  private checked(value: Value, column: number): Value {
    const check = this.checks[column];
    return check ? check(value) : value;
  }

  /**
   * Copies text with COPY's escapes; false, having written nothing, when `stopAtNul` and it holds a
   * zero byte. Runs without escapes are copied whole.
   */
  private escaped(field: Buffer, stopAtNul: boolean): boolean {
    this.room(field.length * 2);
    const start = this.at;
    const out = this.out;
    let at = this.at;
    let run = 0;
    for (let i = 0; i < field.length; i++) {
      const c = field[i]!;
      if (special[c] === 0) continue;
      if (c === 0) {
        if (!stopAtNul) continue;
        this.at = start;
        return false;
      }
      at = copyRun(field, run, i, out, at);
      out[at++] = backslash;
      out[at++] = escapeLetter[c]!;
      run = i + 1;
    }
    this.at = copyRun(field, run, field.length, out, at);
    return true;
  }

  /** A field of 1 MB or more: the piece so far goes out, then the field in slices, never joined to it. */
  private wide(field: Buffer, column: number, way: FieldWay): void {
    const decode = way === FieldWay.Decoded || (way === FieldWay.EscapedUnlessNul && field.includes(0));
    this.flush();
    if (decode) {
      for (const slice of slicesOf(this.decodedText(field, column), wideFieldBytes))
        this.ready.push(Buffer.from(slice));
      return;
    }
    const clean = way === FieldWay.Raw || !hasEscapes(field);
    if (clean) {
      this.ready.push(field);
      return;
    }
    for (let from = 0; from < field.length; from += pieceBytes) {
      this.escaped(field.subarray(from, Math.min(field.length, from + pieceBytes)), false);
      this.flush();
    }
  }
}
