import type { Checkpoint, KeyTuple } from './connector';

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
