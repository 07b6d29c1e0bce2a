import type { Checkpoint, ChunkWrite, KeyTuple } from './connector';
import { ErrorCode, MigrationError } from './errors';

/** The error of an attempt whose checkpoint another attempt advanced first: transient, the retry resumes. */
export function checkpointMoved(taskId: string, chunks: number, table: string): MigrationError {
  return new MigrationError(
    ErrorCode.CheckpointConflict,
    `checkpoint of ${taskId} moved past chunk ${chunks}; another attempt committed it`,
    { table },
  );
}

/**
 * What a failed chunk write reports: a checkpoint conflict when another attempt has meanwhile
 * committed this chunk (a target that loads rows before it claims the checkpoint meets that
 * attempt's rows first, as a duplicate key), else its own error.
 */
export async function conflictOr(
  error: unknown,
  write: Pick<ChunkWrite, 'taskId' | 'previous'>,
  table: string,
  readCheckpoint: () => Promise<Checkpoint | null>,
): Promise<unknown> {
  if (error instanceof MigrationError && error.code === ErrorCode.CheckpointConflict) return error;
  const now = await readCheckpoint().catch(() => null);
  return now && now.chunks > write.previous.chunks
    ? checkpointMoved(write.taskId, write.previous.chunks, table)
    : error;
}

/** A checkpoint as SQL targets store it; drivers hand numbers back as text or numbers. */
export interface CheckpointRow {
  cursor: string | null;
  rows_read: string | number;
  rows_written: string | number;
  chunks: string | number;
  baseline_rows: string | number;
}

/** Reads a stored checkpoint row; `completed` comes from the engine's own boolean form. */
export function checkpointFromRow(taskId: string, row: CheckpointRow, completed: boolean): Checkpoint {
  return {
    taskId,
    cursor: row.cursor === null ? null : (JSON.parse(row.cursor) as KeyTuple),
    rowsRead: Number(row.rows_read),
    rowsWritten: Number(row.rows_written),
    chunks: Number(row.chunks),
    baselineRows: Number(row.baseline_rows),
    completed,
  };
}
