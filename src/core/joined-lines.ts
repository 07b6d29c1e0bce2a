import {
  joinedNull,
  joinedSeparator,
  LineTag,
  type ChunkData,
  type ChunkEncoding,
  type FieldDecoder,
  type Row,
  type ValueCheck,
} from './connector';
import { ErrorCode, MigrationError } from './errors';

/**
 * Reading the lines a source's server joined ({@link ChunkEncoding.CopyTextLines}), whatever the
 * target writes them as.
 */

/** A chunk of joined lines. */
export type JoinedLines = Extract<ChunkData, { encoding: typeof ChunkEncoding.CopyTextLines }>;

/** The joined line of one row of the chunk's rows; a row the server returned no line for fails. */
export function joinedLineOf(row: Row): Buffer {
  const line = row[0] as Buffer | null;
  // CONCAT_WS gives NULL for a result over max_allowed_packet, which the K guard leaves only to a very low setting.
  if (line === null)
    throw new MigrationError(
      ErrorCode.OutOfRange,
      "the source returned no line for a row longer than its max_allowed_packet; raise the server's max_allowed_packet",
    );
  return line;
}

/** Whether the 0xFE at `i` is a whole field (NULL), not a byte of one (never, in UTF-8 text). */
export const isNullField = (line: Buffer, i: number, from: number): boolean =>
  (i === from || line[i - 1] === joinedSeparator) &&
  (i + 1 === line.length || line[i + 1] === joinedSeparator);

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

/** The row a {@link LineTag.Key} line names, fetched from the source as values. */
export async function keyedRow(data: JoinedLines, line: Buffer): Promise<Row> {
  if (line[0] !== LineTag.Key) throw new Error(`a joined line tagged ${line[0]}`);
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

/** What turns a chunk's fields into the values the target may hold: its decoders, and its checks where it has them. */
export interface FieldValues {
  decoders: FieldDecoder[];
  checks?: (ValueCheck | undefined)[];
}

/** A row of values held to the chunk's checks, where it has them (in place). */
export function checkedRow(data: Pick<FieldValues, 'checks'>, row: Row): Row {
  const checks = data.checks;
  if (checks) for (let i = 0; i < row.length; i++) row[i] = checks[i] ? checks[i]!(row[i] ?? null) : row[i]!;
  return row;
}

/** Fields (`Buffer`s as the server sent them, or null) as values by the chunk's decoders, and checked. */
export function valuesOfFields(data: FieldValues, fields: Row): Row {
  return checkedRow(
    data,
    fields.map((field, i) => (field === null ? null : data.decoders[i]!(field as Buffer))),
  );
}
