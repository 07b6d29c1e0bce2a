import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorCode, terminalErrorCodes } from '../core/errors';
import type { MigrationTask, TaskResult } from '../core/task';
import { tableLabel } from '../core/table';

const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 10,
  nonRetryableErrorTypes: terminalErrorCodes,
};

const { prepareTarget, verifyTable } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  retry,
});

/** One table: prepare the target, copy it chunk by chunk, then prove the copy is complete. */
export async function tableMigration(task: MigrationTask): Promise<TaskResult> {
  const { copyTable } = proxyActivities<Activities>({
    startToCloseTimeout: '7 days',
    heartbeatTimeout: `${task.heartbeatTimeoutSeconds}s`,
    retry: { ...retry, maximumInterval: '1 minute', maximumAttempts: 30 },
  });
  const prepared = await prepareTarget(task);
  const copy = await copyTable(task);
  const verify = task.verify.mode === 'none' ? undefined : await verifyTable(task);

  const problems: string[] = [];
  if (copy.rowsRead !== copy.rowsWritten)
    problems.push(`rows read ${copy.rowsRead} ≠ rows written ${copy.rowsWritten}`);
  if (verify) {
    const added = verify.targetCount - copy.baselineRows;
    if (added !== copy.rowsWritten) problems.push(`target count ${added} ≠ rows written ${copy.rowsWritten}`);
    if (verify.sourceCount !== copy.rowsRead)
      problems.push(`source count ${verify.sourceCount} ≠ rows read ${copy.rowsRead}`);
  }
  const result: TaskResult = {
    taskId: task.taskId,
    table: tableLabel(task.table.ref),
    target: tableLabel(task.targetRef),
    status: problems.length ? 'failed' : 'succeeded',
    rowsRead: copy.rowsRead,
    rowsWritten: copy.rowsWritten,
    sourceCount: verify?.sourceCount,
    targetCount: verify?.targetCount,
    chunks: copy.chunks,
    statements: prepared.statements,
    durationMs: copy.durationMs + (verify?.durationMs ?? 0),
  };
  // The gate: a task never succeeds with numbers that disagree.
  if (problems.length) {
    throw ApplicationFailure.nonRetryable(
      `${result.table}: ${problems.join('; ')}`,
      ErrorCode.VerificationFailed,
      result,
    );
  }
  return result;
}
