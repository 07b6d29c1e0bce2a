import type { Row } from './connector';

/** Shorter runs are copied byte by byte: a native copy costs more than a loop over a few bytes. */
const nativeCopyBytes = 32;

/** Copies `source[from, to)` to `out` at `at`; returns the new end. */
export function copyRun(source: Buffer, from: number, to: number, out: Buffer, at: number): number {
  if (to - from >= nativeCopyBytes) return at + source.copy(out, at, from, to);
  for (let i = from; i < to; i++) out[at++] = source[i]!;
  return at;
}

export const tab = 0x09;
export const newline = 0x0a;
export const carriageReturn = 0x0d;
export const backslash = 0x5c;
const nullField = Buffer.from('\\N');
/** A field at least this long goes out on its own, between the pieces around it, never copied whole. */
export const wideFieldBytes = 1024 * 1024;

/** Whether a field holds a byte that COPY text and LOAD DATA text both escape (`\ TAB LF CR`). */
export const hasEscapes = (field: Buffer): boolean =>
  field.includes(backslash) ||
  field.includes(tab) ||
  field.includes(newline) ||
  field.includes(carriageReturn);

/**
 * Builds lines of tab-separated fields, NULL written `\N` (COPY text and LOAD DATA text alike), into
 * pieces of about `pieceBytes` bytes for encoders that write byte by byte: one socket write per row
 * costs more than the row. Subclasses write into `out` from `at` after making `room`, and hand out
 * what is ready with {@link take}.
 */
export class BytePieces {
  protected out: Buffer;
  protected at = 0;
  protected ready: Buffer[] = [];

  constructor(protected readonly pieceBytes: number) {
    this.out = Buffer.allocUnsafe(pieceBytes);
  }

  /** The pieces complete so far; with `all`, the one being built too. */
  take(all = false): Buffer[] {
    if (all) this.flush();
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  /**
   * Appends a row of `columns` fields (`Buffer`s, or null) as one line, each written by `write`;
   * true when pieces are ready to {@link take}.
   */
  protected fieldsLine(row: Row, columns: number, write: (field: Buffer, column: number) => void): boolean {
    if (row.length !== columns) throw new Error(`a row of ${row.length} fields for ${columns} columns`);
    for (let i = 0; i < row.length; i++) {
      if (i > 0) this.byte(tab);
      const field = row[i] as Buffer | null;
      if (field === null) this.bytes(nullField, 0, nullField.length);
      else write(field, i);
    }
    this.byte(newline);
    return this.endLine();
  }

  /** Ends a line: the piece goes out once it is full; true when pieces are ready to {@link take}. */
  protected endLine(): boolean {
    if (this.at >= this.pieceBytes) this.flush();
    return this.ready.length > 0;
  }

  protected text(text: string): void {
    this.room(text.length * 3);
    this.at += this.out.write(text, this.at, 'utf8');
  }

  protected bytes(source: Buffer, from: number, to: number): void {
    this.room(to - from);
    this.at = copyRun(source, from, to, this.out, this.at);
  }

  protected byte(c: number): void {
    this.room(1);
    this.out[this.at++] = c;
  }

  /** Makes room for `bytes` more: the piece so far goes out first if they would not fit. */
  protected room(bytes: number): void {
    if (this.at + bytes <= this.out.length) return;
    this.flush();
    if (bytes > this.out.length) this.out = Buffer.allocUnsafe(bytes);
  }

  protected flush(): void {
    if (this.at === 0) return;
    this.ready.push(this.out.subarray(0, this.at));
    this.out = Buffer.allocUnsafe(this.pieceBytes);
    this.at = 0;
  }
}
