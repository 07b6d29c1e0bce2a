import {
  LineTag,
  verbatimTextKinds,
  type ChunkData,
  type ChunkEncoding,
  type FieldDecoder,
  type Row,
  type Value,
  type ValueCheck,
} from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import type { LogicalKind, LogicalType } from '../../core/logical-types';
import { rowBatches } from '../../core/row-batches';
import { slicesOf } from '../../core/text-slices';
import { encodeCopyValue } from './postgres-copy-text';
import { nulOnlyKinds } from './postgres-types';

/** Lines are sent in pieces of about this many bytes: one socket write per row costs more than the row. */
const pieceBytes = 64 * 1024;
/** A field at least this long goes out on its own, between the pieces around it, never copied whole. */
const wideFieldBytes = 1024 * 1024;
/** Shorter runs are copied byte by byte: a native copy costs more than a loop over a few bytes. */
const nativeCopyBytes = 32;

const backslash = 0x5c;
const tab = 0x09;
const newline = 0x0a;
const carriageReturn = 0x0d;
/** The byte each escape letter after a backslash stands for, by letter. */
const escapedByte: Record<number, number> = {
  [backslash]: backslash,
  0x74: tab,
  0x6e: newline,
  0x72: carriageReturn,
  0x62: 0x08, // \b
  0x66: 0x0c, // \f
  0x76: 0x0b, // \v
};
/** The escape letter after a backslash for each byte COPY text escapes, by byte. */
const escapeLetter: Record<number, number> = {
  [backslash]: backslash,
  [tab]: 0x74,
  [newline]: 0x6e,
  [carriageReturn]: 0x72,
};
const nullField = Buffer.from('\\N');
/** Non-zero for the bytes a text scan stops at: those COPY text escapes, and NUL. */
const special = new Uint8Array(256);
for (const c of [backslash, tab, newline, carriageReturn, 0]) special[c] = 1;
/** What separates the fields of a joined line ({@link ChunkEncoding.CopyTextLines}): a byte UTF-8 never holds. */
export const joinedSeparator = 0xff;
/** A joined line's NULL: a field of this one byte, which UTF-8 never holds either. */
export const joinedNull = 0xfe;
/** Non-zero for the bytes a joined line's scan stops at: those of {@link special}, separators and NULLs. */
const joinedSpecial = Uint8Array.from(special);
joinedSpecial[joinedSeparator] = 1;
joinedSpecial[joinedNull] = 1;
/** Verbatim kinds whose text may hold bytes COPY text escapes; the others are digits and the like. */
const textKinds: ReadonlySet<LogicalKind> = new Set(['string', 'text', 'json', 'enum']);

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
    const text = textKinds.has(type.kind);
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
 * each line is scanned once, its separators becoming tabs and the bytes COPY escapes escaped. The lines
 * a check of the target's limits could change are taken apart and written as text fields are: those
 * the server tagged, those holding a NUL byte (found by the scan), and those holding what a date check
 * looks for ({@link zeroDateTest}, searched for a piece at a time). A row the server left to its key is
 * fetched, and its values checked and encoded as rows are.
 */
export async function* copyTextFromLines(
  data: Extract<ChunkData, { encoding: typeof ChunkEncoding.CopyTextLines }>,
  types: LogicalType[],
): AsyncGenerator<Buffer> {
  const pieces = new CopyTextPieces(
    fieldWays(types, data.checks),
    data.decoders,
    data.checks ?? [],
    zeroDateTest(types, data.checks),
  );
  for await (const batch of rowBatches(data.rows))
    for (const row of batch) {
      const line = row[0] as Buffer;
      let ready: boolean;
      if (line[0] === LineTag.Line) ready = pieces.joined(line, 2);
      else if (line[0] === LineTag.Check) ready = pieces.line(fieldsOfJoinedLine(line, 2));
      else ready = pieces.values(await fetched(data, line));
      if (ready) for (const piece of pieces.take()) yield piece;
    }
  for (const piece of pieces.take(true)) yield piece;
}

/** The row a {@link LineTag.Key} line names, fetched from the source. */
async function fetched(
  data: Extract<ChunkData, { encoding: typeof ChunkEncoding.CopyTextLines }>,
  line: Buffer,
): Promise<Row> {
  if (line[0] !== LineTag.Key) throw new Error(`a COPY text line tagged ${line[0]}`);
  const key = fieldsOfJoinedLine(line, 2).map((field) => (field as Buffer).toString('utf8'));
  const row = await data.fetchRow(key);
  // Deleted while its chunk was read: reading the chunk again gives a consistent count.
  if (!row)
    throw new MigrationError(
      ErrorCode.Internal,
      `the row keyed (${key.join(', ')}) went away during the read`,
    );
  return row;
}

const zeroMonthOrDay = Buffer.from('-00');
const zeroYear = Buffer.from('0000-');
const dateKinds: ReadonlySet<LogicalKind> = new Set(['date', 'timestamp', 'timestamptz']);

/**
 * Whether COPY text may hold a date a check of PostgreSQL's limits changes: `-00` or `0000-` (every
 * MySQL zero date has one, no other date does). Texts that merely contain those bytes are taken apart
 * too, which costs time, not correctness. Undefined where no date column is checked.
 */
function zeroDateTest(
  types: LogicalType[],
  checks: (ValueCheck | undefined)[] | undefined,
): ((bytes: Buffer) => boolean) | undefined {
  const dates = types.some((t, i) => checks?.[i] !== undefined && dateKinds.has(t.kind));
  return dates ? (bytes) => bytes.includes(zeroMonthOrDay) || bytes.includes(zeroYear) : undefined;
}

/** The fields of a joined line from byte `from` on: `Buffer`s as the server sent them, and null. */
export function fieldsOfJoinedLine(line: Buffer, from = 0): Row {
  const fields: Row = [];
  for (let start = from; ;) {
    const at = line.indexOf(joinedSeparator, start);
    const end = at === -1 ? line.length : at;
    fields.push(end === start + 1 && line[start] === joinedNull ? null : line.subarray(start, end));
    if (at === -1) return fields;
    start = end + 1;
  }
}

/** The fields of a COPY text line from byte `from` on, unescaped: `Buffer`s, and null for `\N`. */
export function fieldsOfCopyLine(line: Buffer, from = 0): Row {
  const fields: Row = [];
  for (let start = from; ;) {
    const tabAt = line.indexOf(tab, start);
    const end = tabAt === -1 ? line.length : tabAt;
    fields.push(unescapedField(line.subarray(start, end)));
    if (tabAt === -1) return fields;
    start = end + 1;
  }
}

function unescapedField(field: Buffer): Buffer | null {
  if (field.length === 2 && field[0] === backslash && field[1] === 0x4e) return null;
  if (!field.includes(backslash)) return field;
  const out = Buffer.allocUnsafe(field.length);
  let at = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c === backslash && i + 1 < field.length) {
      const letter = field[++i]!;
      out[at++] = escapedByte[letter] ?? letter;
    } else out[at++] = c;
  }
  return out.subarray(0, at);
}

/** Builds COPY text lines into pieces of bytes. */
export class CopyTextPieces {
  private out = Buffer.allocUnsafe(pieceBytes);
  private at = 0;
  private ready: Buffer[] = [];
  /** Where the lines written by {@link joined} and not yet searched start, or -1. */
  private unsearched = -1;

  /** With `suspect`, joined lines are searched for what a check could change (see {@link joined}). */
  constructor(
    private readonly ways: FieldWay[],
    private readonly decoders: FieldDecoder[],
    private readonly checks: (ValueCheck | undefined)[],
    private readonly suspect?: (bytes: Buffer) => boolean,
  ) {}

  /**
   * Appends a joined line from byte `from` on as a COPY text line; true when pieces are ready. Runs
   * without a separator, NULL or byte to escape are copied whole. A line holding a NUL byte is written
   * as text fields instead (PostgreSQL's check must see it); before the piece goes out, the joined
   * lines are searched together, and the ones `suspect` finds written again as fields, so their checks run.
   */
  joined(line: Buffer, from: number): boolean {
    this.room(2 * (line.length - from) + 1);
    const start = this.at;
    const out = this.out;
    let at = start;
    let run = from;
    for (let i = from; i < line.length; i++) {
      const c = line[i]!;
      if (joinedSpecial[c] === 0) continue;
      at = copyRun(line, run, i, out, at);
      run = i + 1;
      if (c === joinedSeparator) out[at++] = tab;
      else if (c === joinedNull) {
        const whole =
          (i === from || line[i - 1] === joinedSeparator) &&
          (i + 1 === line.length || line[i + 1] === joinedSeparator);
        if (whole) {
          out[at++] = backslash;
          out[at++] = 0x4e; // N
        } else out[at++] = c;
      } else if (c === 0) {
        this.at = start;
        return this.line(fieldsOfJoinedLine(line, from));
      } else {
        out[at++] = backslash;
        out[at++] = escapeLetter[c]!;
      }
    }
    at = copyRun(line, run, line.length, out, at);
    out[at++] = newline;
    this.at = at;
    if (this.unsearched < 0) this.unsearched = start;
    if (this.at >= pieceBytes) this.flush();
    return this.ready.length > 0;
  }

  /** Appends one row of values as a line, each checked and encoded; true when pieces are ready. */
  values(row: Row): boolean {
    this.search();
    row.forEach((value, i) => {
      if (i > 0) this.byte(tab);
      this.text(encodeCopyValue(this.checked(value, i)));
    });
    this.byte(newline);
    if (this.at >= pieceBytes) this.flush();
    return this.ready.length > 0;
  }

  /** Appends one row as a line; true when pieces are ready to {@link take}. */
  line(row: Row): boolean {
    this.search();
    if (row.length !== this.ways.length)
      throw new Error(`a row of ${row.length} fields for ${this.ways.length} columns`);
    for (let i = 0; i < row.length; i++) {
      if (i > 0) this.byte(tab);
      const field = row[i] as Buffer | null;
      if (field === null) {
        this.bytes(nullField, 0, nullField.length);
        continue;
      }
      const way = this.ways[i]!;
      if (field.length >= wideFieldBytes) this.wide(field, i, way);
      else if (way === FieldWay.Raw) this.bytes(field, 0, field.length);
      else if (way === FieldWay.Decoded || !this.escaped(field, way === FieldWay.EscapedUnlessNul))
        this.text(this.decodedText(field, i));
    }
    this.byte(newline);
    if (this.at >= pieceBytes) this.flush();
    return this.ready.length > 0;
  }

  /** The pieces complete so far; with `all`, the one being built too. */
  take(all = false): Buffer[] {
    if (all) this.flush();
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  /** The field decoded, checked and encoded as a COPY text field. */
  private decodedText(field: Buffer, column: number): string {
    return encodeCopyValue(this.checked(this.decoders[column]!(field), column));
  }

  private checked(value: Value, column: number): Value {
    const check = this.checks[column];
    return check ? check(value) : value;
  }

  /** Searches the lines {@link joined} copied; those `suspect` finds are written again as fields. */
  private search(): void {
    const from = this.unsearched;
    if (from < 0) return;
    this.unsearched = -1;
    if (!this.suspect?.(this.out.subarray(from, this.at))) return;
    // A copy: the lines are written again where they were.
    const lines = Buffer.from(this.out.subarray(from, this.at));
    this.at = from;
    for (let start = 0; start < lines.length;) {
      const end = lines.indexOf(newline, start);
      const line = lines.subarray(start, end);
      if (this.suspect(line)) this.line(fieldsOfCopyLine(line));
      else {
        this.bytes(line, 0, line.length);
        this.byte(newline);
      }
      start = end + 1;
    }
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

  private text(text: string): void {
    this.room(text.length * 3);
    this.at += this.out.write(text, this.at, 'utf8');
  }

  private bytes(source: Buffer, from: number, to: number): void {
    this.room(to - from);
    this.at = copyRun(source, from, to, this.out, this.at);
  }

  private byte(c: number): void {
    this.room(1);
    this.out[this.at++] = c;
  }

  /** Makes room for `bytes` more: the piece so far goes out first if they would not fit. */
  private room(bytes: number): void {
    if (this.at + bytes <= this.out.length) return;
    this.flush();
    if (bytes > this.out.length) this.out = Buffer.allocUnsafe(bytes);
  }

  private flush(): void {
    this.search();
    if (this.at === 0) return;
    this.ready.push(this.out.subarray(0, this.at));
    this.out = Buffer.allocUnsafe(pieceBytes);
    this.at = 0;
  }
}

/** Copies `source[from, to)` to `out` at `at`; returns the new end. */
function copyRun(source: Buffer, from: number, to: number, out: Buffer, at: number): number {
  if (to - from >= nativeCopyBytes) return at + source.copy(out, at, from, to);
  for (let i = from; i < to; i++) out[at++] = source[i]!;
  return at;
}

const hasEscapes = (field: Buffer): boolean =>
  field.includes(backslash) ||
  field.includes(tab) ||
  field.includes(newline) ||
  field.includes(carriageReturn);
