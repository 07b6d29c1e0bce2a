import { ActivityCancellationType, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorCode, terminalErrorCodes } from '../core/errors';
import type { CopyResult, MigrationTask, TaskResult, VerifyResult } from '../core/task';
import { tableLabel } from '../core/table';

const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 10,
  nonRetryableErrorTypes: terminalErrorCodes,
};

const { prepareTarget, verifyTable, completeTask } = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  retry,
});

/** One table: prepare the target, copy it chunk by chunk, then prove the copy is complete. */
export async function tableMigration(task: MigrationTask): Promise<TaskResult> {
  const { copyTable } = proxyActivities<Activities>({
    // The Web UI shows it on the activity; per-chunk progress is in its heartbeat details.
    summary: `copy ${tableLabel(task.table.ref)} (est. ${task.table.estimatedRows.toLocaleString('en-US')} rows)`,
    startToCloseTimeout: '7 days',
    heartbeatTimeout: `${task.heartbeatTimeoutSeconds}s`,
    // A cancelled task ends only once the copy has stopped at a chunk boundary.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { ...retry, maximumInterval: '1 minute', maximumAttempts: 30 },
  });
  const base = { taskId: task.taskId, table: tableLabel(task.table.ref), target: tableLabel(task.targetRef) };
  const prepared = await prepareTarget(task);
  if (prepared.checkpoint.completed) {
    const { rowsRead, rowsWritten, chunks } = prepared.checkpoint;
    return { ...base, status: 'succeeded', skipped: true, rowsRead, rowsWritten, chunks, statements: [] };
  }
  const copy = await copyTable(task);
  const verify = task.verify.mode === 'none' ? undefined : await verifyTable(task);
  const problems = gateProblems(task, copy, verify);
  const result: TaskResult = {
    ...base,
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
  await completeTask(task);
  return result;
}

/** What disagrees between rows read, rows written and the counts on both sides. */
export function gateProblems(
  task: MigrationTask,
  copy: CopyResult,
  verify: VerifyResult | undefined,
): string[] {
  const problems: string[] = [];
  if (copy.rowsRead !== copy.rowsWritten)
    problems.push(`rows read ${copy.rowsRead} ≠ rows written ${copy.rowsWritten}`);
  if (!verify) return problems;
  if (verify.sourceCount !== copy.rowsRead)
    problems.push(`source count ${verify.sourceCount} ≠ rows read ${copy.rowsRead}`);
  const added = verify.targetCount - copy.baselineRows;
  if (task.writeMode === 'upsert') {
    // Each upserted row either added a row or replaced one: 0 ≤ added ≤ written, and every written key is there.
    if (added > copy.rowsWritten || verify.targetCount < copy.rowsWritten) {
      problems.push(
        `after upserting ${copy.rowsWritten} rows the target holds ${verify.targetCount} (${added} new)`,
      );
    }
  } else if (added !== copy.rowsWritten)
    problems.push(`target count ${added} ≠ rows written ${copy.rowsWritten}`);
  return problems;
}
