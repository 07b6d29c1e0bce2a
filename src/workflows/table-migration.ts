import { ActivityCancellationType, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorCode, terminalErrorCodes } from '../core/errors';
import type { CopyResult, MigrationTask, TaskResult, VerifyResult } from '../core/task';
import { tableLabel } from '../core/table';
import { checksumProblems, verificationSummary } from '../core/verification';

const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 10,
  nonRetryableErrorTypes: terminalErrorCodes,
};

const { prepareTarget, completeTask } = proxyActivities<Activities>({
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
  if (task.verify.only) return verifyOnly(task, base);
  const prepared = await prepareTarget(task);
  if (prepared.checkpoint.completed) {
    const { rowsRead, rowsWritten, chunks } = prepared.checkpoint;
    return { ...base, status: 'succeeded', skipped: true, rowsRead, rowsWritten, chunks, statements: [] };
  }
  const copy = await copyTable(task);
  const verify =
    task.verify.mode === 'none'
      ? undefined
      : await verifyTask(
          task,
          task.writeMode === 'upsert' ? undefined : copy.rowsWritten + copy.baselineRows,
        );
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
    copyMs: copy.durationMs,
    verification: verify && verificationSummary(verify, problems.length === 0),
  };
  gate(result, problems);
  await completeTask(task);
  return result;
}

/** The gate: a task never succeeds with numbers that disagree; it fails with them as details. */
function gate(result: TaskResult, problems: string[]): void {
  if (problems.length) {
    throw ApplicationFailure.nonRetryable(
      `${result.table}: ${problems.join('; ')}`,
      ErrorCode.VerificationFailed,
      result,
    );
  }
}

/** A verify-only task: compares the existing target with the source; only a repair writes anything. */
async function verifyOnly(
  task: MigrationTask,
  base: Pick<TaskResult, 'taskId' | 'table' | 'target'>,
): Promise<TaskResult> {
  const verify = await verifyTask(task, undefined);
  const problems = gateProblems(task, undefined, verify);
  const result: TaskResult = {
    ...base,
    status: problems.length ? 'failed' : 'succeeded',
    sourceCount: verify.sourceCount,
    targetCount: verify.targetCount,
    durationMs: verify.durationMs,
    verification: verificationSummary(verify, problems.length === 0),
  };
  gate(result, problems);
  return result;
}

/** Compares source and target and, when the spec asks for it, re-copies the key ranges that differ. */
async function verifyTask(
  task: MigrationTask,
  expectedTargetRows: number | undefined,
): Promise<VerifyResult> {
  const { compareTable, repairTable } = proxyActivities<Activities>({
    summary: `verify ${tableLabel(task.table.ref)} (${task.verify.mode})`,
    startToCloseTimeout: '7 days',
    heartbeatTimeout: `${task.heartbeatTimeoutSeconds}s`,
    retry: { ...retry, maximumInterval: '1 minute', maximumAttempts: 30 },
  });
  const verify = await compareTable({ task, expectedTargetRows });
  const ranges = verify.checksum?.repairRanges;
  if (!task.verify.repair || !ranges?.length || checksumProblems(verify).length === 0) return verify;
  const repair = await repairTable({ task, ranges });
  return {
    ...verify,
    targetCount: repair.targetCount,
    repair,
    durationMs: verify.durationMs + repair.durationMs,
  };
}

/** What disagrees between rows read, rows written, the counts on both sides and their checksums. */
export function gateProblems(
  task: MigrationTask,
  copy: CopyResult | undefined,
  verify: VerifyResult | undefined,
): string[] {
  const problems: string[] = [];
  if (!copy) {
    // Verify-only: there are no copy numbers, so the two sides must agree with each other.
    if (verify && verify.sourceCount !== verify.targetCount)
      problems.push(`source count ${verify.sourceCount} ≠ target count ${verify.targetCount}`);
    return [...problems, ...checksumProblems(verify, task.verify.repair)];
  }
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
  return [...problems, ...checksumProblems(verify, task.verify.repair)];
}
