import type { Readable } from 'node:stream';
import { hasCasts } from './casts';
import type { Checksum } from './checksum';
import type { LogicalKind, LogicalType } from './logical-types';
import type { TableMeta, TableRef } from './table';

/** Key values of one row in key order, in the source engine's exact text form. */
export type KeyTuple = string[];

/** A chunk: the rows whose key is in `(after, upTo]`; `after` null means from the start. */
export interface ChunkRange {
  /** Exclusive lower bound, or null for the first chunk. */
  after: KeyTuple | null;
  /** Inclusive upper bound: the key of the chunk's last row. */
  upTo: KeyTuple;
}

/**
 * A value in a lossless JS form. Every source produces, and every target accepts, these forms per logical type:
 * - boolean: `boolean`; int16/int32: `number`; int64: `bigint`;
 * - float32/float64: `number` (NaN, ±Infinity and -0 included);
 * - decimal: `string` in plain notation (`-12.50`), never a JS number;
 * - date: `'YYYY-MM-DD'`; time: `'HH:MM:SS[.ffffff]'`;
 * - timestamp: `'YYYY-MM-DD HH:MM:SS[.ffffff]'` (no zone);
 * - timestamptz: `'YYYY-MM-DD HH:MM:SS[.ffffff]+00'` (always UTC);
 * - json: the JSON text exactly as stored; uuid, enum, string, text: `string`;
 * - bytes: `Buffer`; array: the engine's text form (`string`) until arrays get their own form.
 */
export type Value = null | boolean | number | bigint | string | Buffer;

/** One row, values in the table's column order. */
export type Row = Value[];

/** How chunk data travels between a source and a target. */
export const ChunkEncoding = {
  /**
   * PostgreSQL COPY text format bytes, the fast path: PostgreSQL targets pass them through, MySQL
   * targets transcode them into LOAD DATA text field by field, decoding only the fields that need it.
   */
  PgCopyText: 'pg-copy-text',
  /**
   * PostgreSQL COPY binary format bytes, PostgreSQL → PostgreSQL for tables of built-in types only
   * (`binaryCopyFits` in postgres-types.ts), passed through undecoded: COPY reads and writes binary
   * with less work than text (no number, date or time parsing or printing).
   */
  PgCopyBinary: 'pg-copy-binary',
  /**
   * Rows of the source's own text: each field the UTF-8 bytes its wire protocol sent (a `Buffer`, or
   * null for NULL), with a decoder per field into the column's {@link Value}. Where the column is an
   * integer, decimal, string, text, json, enum or uuid, the bytes are the value's text as every engine
   * reads it (digits, or exactly the string's bytes), so a target may write them without decoding;
   * others it decodes. MySQL sources produce it; PostgreSQL targets turn it into COPY text.
   */
  TextFields: 'text-fields',
  /**
   * Rows the source's server joined into one value each (MySQL: `CONCAT_WS`), so that a PostgreSQL
   * target scans each row once into COPY text instead of handling every field: see {@link ChunkData}.
   */
  CopyTextLines: 'copy-text-lines',
  /** Decoded rows of lossless values. */
  Rows: 'rows',
} as const;
/** One of the {@link ChunkEncoding} values. */
export type ChunkEncoding = (typeof ChunkEncoding)[keyof typeof ChunkEncoding];

/**
 * Holds one value to what the target can store: the target engine's limits and the column's policy for
 * values it cannot hold (an error naming the table and column, NULL, or the nearest value).
 */
export type ValueCheck = (value: Value) => Value;

/** A chunk's data in one encoding. */
export type ChunkData =
  | {
      encoding: typeof ChunkEncoding.PgCopyText;
      stream: Readable;
      /**
       * Per field, where the target's limits apply (a cross-engine copy): the check its value must
       * pass. A target decodes those fields and checks their values; one that cannot must refuse them.
       */
      checks?: (ValueCheck | undefined)[];
    }
  | {
      encoding: typeof ChunkEncoding.PgCopyBinary;
      stream: Readable;
    }
  | {
      encoding: typeof ChunkEncoding.TextFields;
      /** Rows of `Buffer | null` fields. */
      rows: AsyncIterable<Row>;
      /** Per field: its value, from its bytes. */
      decoders: FieldDecoder[];
      /** As for COPY text: per field, the check its value must pass, where the target's limits apply. */
      checks?: (ValueCheck | undefined)[];
    }
  | {
      encoding: typeof ChunkEncoding.CopyTextLines;
      /**
       * Rows of one `Buffer` each: a tag byte ({@link LineTag}), then each field after a 0xFF byte,
       * NULL being a field of the one byte 0xFE (UTF-8 holds neither byte). A field is the text of
       * the value as for text fields, but bytes are bytea hex (`\x…`) and a timestamptz ends in `+00`.
       */
      rows: AsyncIterable<Row>;
      /** Per field of a line: its value, from its bytes (for the lines a target checks). */
      decoders: FieldDecoder[];
      /** As for COPY text: per field, the check its value must pass, where the target's limits apply. */
      checks?: (ValueCheck | undefined)[];
      /** The row with this key, as values; null when it is gone. */
      fetchRow(key: KeyTuple): Promise<Row | null>;
    }
  | { encoding: typeof ChunkEncoding.Rows; rows: AsyncIterable<Row> };

/** What separates the fields of a {@link ChunkEncoding.CopyTextLines} row: a byte UTF-8 never holds. */
export const joinedSeparator = 0xff;
/** A {@link ChunkEncoding.CopyTextLines} row's NULL: a field of this one byte, which UTF-8 never holds either. */
export const joinedNull = 0xfe;

/** The first byte of a {@link ChunkEncoding.CopyTextLines} row. */
export const LineTag = {
  /** The row's fields: the server found nothing a check of the target could change. */
  Line: 0x4c, // L
  /** The row's fields, holding a value a check may change (a time of day past 24:00): check them. */
  Check: 0x43, // C
  /** The row's key fields only: its line would be too long for the server to build; fetch the row. */
  Key: 0x4b, // K
} as const;

/** Turns one field of {@link ChunkEncoding.TextFields} into its value. */
export type FieldDecoder = (field: Buffer) => Value;

/** The kinds whose {@link ChunkEncoding.TextFields} bytes are the value's text as every engine reads it. */
export const verbatimTextKinds: ReadonlySet<LogicalKind> = new Set([
  'int16',
  'int32',
  'int64',
  'decimal',
  'string',
  'text',
  'json',
  'enum',
  'uuid',
]);

/** One chunk being read; `rowsRead` is final once the data has been consumed. */
export interface ChunkStream {
  /** The data, in the encoding that was asked for. */
  data: ChunkData;
  /** How many rows the source produced; valid after the data ended. */
  rowsRead(): number;
  /** How many bytes the source produced, where it can tell (for progress and throttling). */
  bytesRead?(): number;
  /** Releases the source connection; safe to call twice. */
  release(error?: Error): void;
}

/** The durable progress of one task, stored in the target next to the data it describes. */
export interface Checkpoint {
  /** The task id this checkpoint belongs to. */
  taskId: string;
  /** The upper key of the last committed chunk; null before the first. */
  cursor: KeyTuple | null;
  /** Rows read from the source by committed chunks. */
  rowsRead: number;
  /** Rows written to the target by committed chunks. */
  rowsWritten: number;
  /** Committed chunks. */
  chunks: number;
  /** Rows the target held before this task (append mode), so counts can be compared. */
  baselineRows: number;
  /** Set once the task passed verification; a re-run of the job skips it. */
  completed: boolean;
}

/** Which tables a discovery asks for. */
export interface TableSelection {
  /** The source schema (PostgreSQL) or database (MySQL). */
  schema: string;
  /** Exact table names; when absent every table matching the patterns. */
  tables?: string[];
  /** Glob patterns a table must match (default: all). */
  include: string[];
  /** Glob patterns that drop a table. */
  exclude: string[];
  /**
   * Instead of tables: the partitions of these partitioned tables whose names match the globs and,
   * with `from` / `to`, whose RANGE bounds intersect `[from, to)` (tuples of key values as text, one
   * per key column or a prefix of the key: see {@link ValueRange}).
   */
  partitions?: { table: string; include: string[]; exclude: string[]; from?: string[]; to?: string[] }[];
  /**
   * Instead of `schema` and `include`: tables of several schemas, each with its own globs (shards across
   * schemas); a `schema` with `*` or `?` is a glob over the schemas the source lists.
   */
  schemas?: { schema: string; include: string[] }[];
}

/** One page of discovered tables. */
export interface DiscoverPage {
  /** Tables of this page, in name order. */
  tables: TableMeta[];
  /** The name to continue after, or null when this was the last page. */
  nextAfter: string | null;
}

/** How a target treats rows that were there before the job. */
export const WriteMode = { Overwrite: 'overwrite', Append: 'append', Upsert: 'upsert' } as const;
/** One of the {@link WriteMode} values. */
export type WriteMode = (typeof WriteMode)[keyof typeof WriteMode];

/** Whether a target creates the table. */
export const CreateMode = { IfMissing: 'ifMissing', Recreate: 'recreate', Never: 'never' } as const;
/** One of the {@link CreateMode} values. */
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode];

/** What a target needs to prepare a table for a task. */
export interface PrepareRequest {
  /** The task whose checkpoint is created. */
  taskId: string;
  /** The source table's metadata; the target DDL is generated from its logical types. */
  table: TableMeta;
  /** Where the data goes in the target. */
  targetRef: TableRef;
  /** For a partition: the target's name of its parent table, created first when missing. */
  targetParent?: string;
  /** Object-store targets: the columns whose values become Hive `column=value/` folders, outermost first. */
  partitionBy?: string[];
  writeMode: WriteMode;
  createMode: CreateMode;
}

/** What preparing did. */
export interface PrepareResult {
  /** The DDL and DML statements it ran, for the audit trail. */
  statements: string[];
  /** The checkpoint as it stands after preparing: fresh, or the one a resumed task left. */
  checkpoint: Checkpoint;
  /** What the target decided that the spec does not show (a shortened name), for `mms plan`'s warnings. */
  notes?: string[];
}

/** One chunk to write together with its checkpoint. */
export interface ChunkWrite {
  taskId: string;
  table: TableMeta;
  targetRef: TableRef;
  range: ChunkRange;
  /** The checkpoint this chunk follows; the write fails if the stored one differs. */
  previous: Checkpoint;
  /** Upsert replaces rows with the same primary key; other modes (the default) insert. */
  writeMode?: WriteMode;
  /** The cursor the checkpoint records for this chunk (defaults to `range.upTo`). */
  cursor?: KeyTuple;
  chunk: ChunkStream;
  /**
   * When two chunks are written at once: settles once the chunk before this one committed. A target
   * that {@link Target.loadsBeforeClaim} loads this chunk's rows meanwhile and claims the checkpoint
   * only after it; a rejected turn fails the write, which then commits nothing.
   */
  turn?: Promise<unknown>;
}

/** Reads tables from one source system. Never writes to it. */
export interface Source {
  /** Encodings this source can produce, fastest first. */
  readonly encodings: readonly ChunkEncoding[];
  /** Where a table can be read in fewer encodings than {@link encodings}: the ones it can. */
  encodingsOf?(table: TableMeta): readonly ChunkEncoding[];
  /** Lists the selected tables with columns, keys and estimates, one page at a time. */
  discover(selection: TableSelection, after: string | null, pageSize: number): Promise<DiscoverPage>;
  /** Finds the next chunk of at most `maxRows` rows after `after`, or null when no rows remain. */
  nextChunk(table: TableMeta, after: KeyTuple | null, maxRows: number): Promise<ChunkRange | null>;
  /** Streams the rows of one chunk in the given encoding; no row order is promised (sort to compare). */
  read(table: TableMeta, range: ChunkRange, encoding: ChunkEncoding): Promise<ChunkStream>;
  /** Counts the table's rows. */
  count(table: TableMeta): Promise<number>;
  /**
   * Optional fast path of verification: the checksum (core/checksum.ts) of one chunk's rows, computed
   * inside the engine with values read as the canonical `types`; null when this table needs the JS path.
   */
  checksum?(table: TableMeta, range: ChunkRange, types: LogicalType[]): Promise<Checksum | null>;
  /**
   * The schemas (MySQL: databases) this connection can read, in name order, without the engine's own
   * (used to expand a glob in a shard member's schema part). Absent where a source has none to list.
   */
  listSchemas?(): Promise<string[]>;
  /** Set when chunks are stored parts (object stores), not primary-key ranges another engine could select. */
  readonly chunksByPart?: boolean;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/** Writes tables into one target system, each chunk atomically with its checkpoint. */
export interface Target {
  /** Whether `prepare` honours `dryRun`; `mms plan` previews DDL only on targets that do. */
  readonly previewsDdl?: boolean;
  /**
   * Whether `writeChunk` loads a chunk's rows before it claims the checkpoint, waiting for its
   * `turn` in between: then the copy loads the next chunk while this one commits.
   */
  readonly loadsBeforeClaim?: boolean;
  /** Encodings this target accepts, fastest first. */
  readonly encodings: readonly ChunkEncoding[];
  /**
   * Where a prepared target table takes fewer encodings than {@link encodings} (a binary format needs
   * the source's very column types): the ones it takes.
   */
  encodingsFor?(table: TableMeta, targetRef: TableRef): Promise<readonly ChunkEncoding[]>;
  /**
   * Creates or resets the table per the modes and makes sure a checkpoint exists; idempotent.
   * With `dryRun` it writes nothing and returns the statements it would run (for `mms plan`).
   */
  prepare(request: PrepareRequest, options?: { dryRun?: boolean }): Promise<PrepareResult>;
  /** Reads the committed checkpoint of a task: the truth on any (re)start. */
  readCheckpoint(taskId: string, targetRef: TableRef): Promise<Checkpoint | null>;
  /** Writes one chunk and advances the checkpoint in one atomic step, returning the new checkpoint. */
  writeChunk(write: ChunkWrite): Promise<Checkpoint>;
  /** Called once after the last chunk, where a target has work left: writes a manifest, builds what waits for the load. */
  finish?(taskId: string, table: TableMeta, targetRef: TableRef): Promise<void>;
  /**
   * Refreshes the engine's statistics of a loaded table, so its first queries get good plans. The
   * verification that follows a copy runs it beside its counts; a copy without verification runs it last.
   */
  analyze?(targetRef: TableRef): Promise<void>;
  /** Records that the task passed verification, so re-running the job skips it. */
  markComplete(taskId: string, targetRef: TableRef): Promise<void>;
  /** Counts the rows the target table holds. */
  count(targetRef: TableRef): Promise<number>;
  /**
   * Optional (verification repair): replaces the rows whose key is in `range` with the chunk's rows in
   * one transaction, leaving the checkpoint as it is; returns the rows written.
   */
  replaceRange?(
    table: TableMeta,
    targetRef: TableRef,
    range: ChunkRange,
    chunk: ChunkStream,
  ): Promise<number>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/**
 * Picks the encoding for a source → target pair: the target's first choice the source can produce,
 * or rows for a table whose cast rules convert values on the way.
 */
export function chooseEncoding(
  source: Pick<Source, 'encodings' | 'encodingsOf'>,
  target: Pick<Target, 'encodings'>,
  table?: TableMeta,
): ChunkEncoding {
  if (table && hasCasts(table)) return ChunkEncoding.Rows;
  const offered = (table && source.encodingsOf?.(table)) ?? source.encodings;
  const found = target.encodings.find((e) => offered.includes(e));
  // Every source produces rows and every target accepts them, so this only fails on a connector bug.
  if (!found) throw new Error('source and target share no chunk encoding');
  return found;
}

/**
 * {@link chooseEncoding} for a prepared target table, asking the target which encodings it takes.
 * `reads` are the tables read into it (a shard set's members): an encoding must suit every one, and
 * COPY binary, which the target takes undecoded, needs each to have the task table's column types.
 */
export async function chunkEncoding(
  source: Pick<Source, 'encodings' | 'encodingsOf'>,
  target: Pick<Target, 'encodings' | 'encodingsFor'>,
  table: TableMeta,
  targetRef: TableRef,
  reads: TableMeta[] = [table],
): Promise<ChunkEncoding> {
  const accepted = (await target.encodingsFor?.(table, targetRef)) ?? target.encodings;
  const sameTypes = (read: TableMeta): boolean =>
    read.columns.length === table.columns.length &&
    read.columns.every((c, i) => c.nativeType === table.columns[i]!.nativeType);
  const encodings = accepted.filter(
    (e) =>
      reads.every((read) => (source.encodingsOf?.(read) ?? source.encodings).includes(e)) &&
      (e !== ChunkEncoding.PgCopyBinary || reads.every(sameTypes)),
  );
  return chooseEncoding(source, { encodings }, table);
}
