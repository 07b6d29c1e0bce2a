import { describe, expect, it } from 'vitest';
import { checkpointMoved, conflictOr } from '../../src/core/checkpoint';
import type { Checkpoint } from '../../src/core/connector';
import { ErrorCode, MigrationError } from '../../src/core/errors';

const at = (chunks: number): Checkpoint => ({
  taskId: 't1',
  cursor: chunks ? [String(chunks * 10)] : null,
  rowsRead: chunks * 10,
  rowsWritten: chunks * 10,
  chunks,
  baselineRows: 0,
  completed: false,
});
const write = { taskId: 't1', previous: at(3) };
const duplicateKey = new MigrationError(ErrorCode.Internal, 'duplicate key value violates unique constraint');

describe('what a failed chunk write reports (conflictOr)', () => {
  it('a checkpoint conflict when another attempt committed this chunk meanwhile', async () => {
    const reported = await conflictOr(duplicateKey, write, 's.t', () => Promise.resolve(at(4)));
    expect(reported).toBeInstanceOf(MigrationError);
    expect((reported as MigrationError).code).toBe(ErrorCode.CheckpointConflict);
    expect((reported as MigrationError).message).toContain('moved past chunk 3');
  });

  it('its own error when the checkpoint did not move, is gone, or cannot be read', async () => {
    for (const read of [
      () => Promise.resolve(at(3)),
      () => Promise.resolve(null),
      () => Promise.reject(new Error('connection refused')),
    ])
      expect(await conflictOr(duplicateKey, write, 's.t', read)).toBe(duplicateKey);
  });

  it('a conflict as it is, without reading the checkpoint again', async () => {
    const conflict = checkpointMoved('t1', 3, 's.t');
    let reads = 0;
    const read = (): Promise<Checkpoint> => {
      reads++;
      return Promise.resolve(at(3));
    };
    expect(await conflictOr(conflict, write, 's.t', read)).toBe(conflict);
    expect(reads).toBe(0);
  });
});
