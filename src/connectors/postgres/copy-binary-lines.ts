import { BytePieces, wideFieldBytes } from '../../core/byte-pieces';
import { joinedNull, joinedSeparator, LineTag, type Row, type Value } from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import {
  checkedRow,
  fieldsOfJoinedLine,
  joinedLineOf,
  keyedRow,
  valuesOfFields,
  type FieldValues,
  type JoinedLines,
} from '../../core/joined-lines';
import { rowBatches } from '../../core/row-batches';
import { putInt16, putInt32, type BinaryColumn, type BinaryWriter } from './copy-binary-fields';

/** The joined line's bytes, bound here: the loop below reads them once per byte. */
const separator = joinedSeparator;
const nullField = joinedNull;

/** Pieces of about this many bytes, as for COPY text. */
const pieceBytes = 64 * 1024;

/** COPY binary's header: signature, flags, header extension length. */
const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** COPY binary's trailer: a tuple of -1 fields. */
const trailer = Buffer.from([0xff, 0xff]);

/** Each column's name, for errors, and how it is written. */
export interface BinaryTarget {
  names: string[];
  columns: BinaryColumn[];
}

/**
 * Writes the lines a source's server joined ({@link ChunkEncoding.CopyTextLines}) as COPY binary: each
 * field's text is read into the column type's binary form ({@link BinaryColumn}), so PostgreSQL parses
 * none of it. A line goes through its values instead, decoded, checked and written from their text,
 * when a field is one the writers do not read (a zero date), when it holds a NUL byte (which a check of
 * the target's limits must see), when the server tagged it for checks, and when the server left the row
 * to its key (fetched as values).
 */
export async function* copyBinaryFromLines(data: JoinedLines, target: BinaryTarget): AsyncGenerator<Buffer> {
  const pieces = new CopyBinaryPieces(target, data);
  yield header;
  for await (const batch of rowBatches(data.rows))
    for (const row of batch) {
      const line = joinedLineOf(row);
      let ready: boolean;
      if (line[0] === LineTag.Line) ready = pieces.joined(line, 2);
      else if (line[0] === LineTag.Check) ready = pieces.fields(fieldsOfJoinedLine(line, 2));
      else ready = pieces.values(checkedRow(data, await keyedRow(data, line)));
      if (ready) for (const piece of pieces.take()) yield piece;
    }
  for (const piece of pieces.take(true)) yield piece;
  yield trailer;
}

/** Builds COPY binary tuples into pieces of bytes. */
export class CopyBinaryPieces extends BytePieces {
  private readonly count: number;
  private readonly writers: BinaryWriter[];
  /** 1 for a column whose binary form is its text. */
  private readonly verbatim: Uint8Array;

  constructor(
    private readonly target: BinaryTarget,
    private readonly data: FieldValues,
  ) {
    super(pieceBytes);
    this.count = target.columns.length;
    this.writers = target.columns.map((c) => c.write);
    this.verbatim = Uint8Array.from(target.columns, (c) => (c.verbatim ? 1 : 0));
  }

  /**
   * Appends a joined line from byte `from` on as a tuple; true when pieces are ready. Text is copied in
   * the loop that finds its end, as COPY text copies it: a native copy per short field costs more.
   */
  joined(line: Buffer, from: number): boolean {
    if (line.indexOf(0, from) !== -1) return this.fields(fieldsOfJoinedLine(line, from));
    const n = line.length;
    // Each field grows by at most its length word and 16 bytes (BinaryWriter).
    this.room(n - from + 20 * this.count + 2);
    const { out, writers, verbatim } = this;
    const start = this.at;
    putInt16(out, start, this.count);
    let at = start + 2;
    let field = from;
    for (let column = 0; column < this.count; column++) {
      if (field > n) return this.misfit(fieldsOfJoinedLine(line, from).length);
      let end = field;
      let to = at + 4;
      if (verbatim[column] === 1)
        for (; end < n; end++) {
          const c = line[end]!;
          if (c === separator) break;
          out[to++] = c;
        }
      else while (end < n && line[end] !== separator) end++;
      if (end === field + 1 && line[field] === nullField) {
        putInt32(out, at, -1);
        at += 4;
      } else {
        if (verbatim[column] === 0) to = writers[column]!(line, field, end, out, to);
        if (to === -1) {
          this.at = start;
          return this.fields(fieldsOfJoinedLine(line, from));
        }
        putInt32(out, at, to - at - 4);
        at = to;
      }
      field = end + 1;
    }
    if (field <= n) return this.misfit(fieldsOfJoinedLine(line, from).length);
    this.at = at;
    return this.endLine();
  }

  /** Appends one row of fields (`Buffer`s as the server sent them, and null) through their values, checked. */
  fields(fields: Row): boolean {
    if (fields.length !== this.count) return this.misfit(fields.length);
    return this.values(valuesOfFields(this.data, fields));
  }

  /** Appends one row of values, already checked, as a tuple; true when pieces are ready. */
  values(row: Row): boolean {
    if (row.length !== this.count) return this.misfit(row.length);
    this.room(2);
    putInt16(this.out, this.at, this.count);
    this.at += 2;
    row.forEach((value, i) => this.value(value, i));
    return this.endLine();
  }

  /** Writes one value with its length word. */
  private value(value: Value, column: number): void {
    const way = this.target.columns[column]!;
    if (value === null) {
      this.room(4);
      putInt32(this.out, this.at, -1);
      this.at += 4;
      return;
    }
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(valueText(value), 'utf8');
    if ((way.rawBytes && Buffer.isBuffer(value)) || (way.verbatim && bytes.length >= wideFieldBytes))
      return this.raw(bytes);
    this.room(bytes.length + 20);
    const to = way.write(bytes, 0, bytes.length, this.out, this.at + 4);
    if (to === -1) {
      const shown = bytes.length > 80 ? `${bytes.toString('utf8', 0, 80)}…` : bytes.toString('utf8');
      throw new MigrationError(
        ErrorCode.OutOfRange,
        `column ${this.target.names[column]}: PostgreSQL cannot take the value ${shown}`,
        { column: this.target.names[column] },
      );
    }
    putInt32(this.out, this.at, to - this.at - 4);
    this.at = to;
  }

  /** Bytes as they are, with their length word; 1 MB or more go out on their own, never copied into a piece. */
  private raw(bytes: Buffer): void {
    this.room(4 + (bytes.length >= wideFieldBytes ? 0 : bytes.length));
    putInt32(this.out, this.at, bytes.length);
    this.at += 4;
    if (bytes.length < wideFieldBytes) {
      this.at += bytes.copy(this.out, this.at);
      return;
    }
    this.flush();
    this.ready.push(bytes);
  }

  private misfit(fields: number): never {
    throw new MigrationError(ErrorCode.Internal, `a row of ${fields} fields for ${this.count} columns`);
  }
}

/** A value's text, as its column's {@link BinaryColumn} reads it (`String` drops the sign of -0). */
const valueText = (value: Exclude<Value, null | Buffer>): string =>
  Object.is(value, -0) ? '-0' : String(value);
