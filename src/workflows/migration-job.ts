import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  executeChild,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorCode, terminalErrorCodes } from '../core/errors';
import type { DiscoverPage } from '../core/connector';
import type { TableMeta } from '../core/table';
import type { JobReport, MigrationTask, TaskResult } from '../core/task';
import { formatSpecIssues, parseJobSpec, type JobSpec, type JobSpecInput } from '../spec/job-spec';
import {
  JobStatus,
  pauseSignal,
  progressQuery,
  resumeSignal,
  searchAttributes,
  type JobProgress,
} from './definitions';
import { tableMigration } from './table-migration';

const { discoverSource } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '1s',
    maximumInterval: '30s',
    maximumAttempts: 10,
    nonRetryableErrorTypes: terminalErrorCodes,
  },
});

/** Tables per discovery page: small enough that no payload nears Temporal's 2 MB limit. */
const discoveryPageSize = 100;

/** Heartbeat timeout of copies unless the spec says otherwise. */
const defaultHeartbeatTimeoutSeconds = 30;

/** A migration job: discover the source, plan one task per table, run them in a sliding window, report. */
export async function migrationJob(input: JobSpecInput): Promise<JobReport> {
  const parsed = parseJobSpec(input);
  if (!parsed.ok)
    throw ApplicationFailure.nonRetryable(
      `invalid job spec:\n${formatSpecIssues(parsed.issues)}`,
      ErrorCode.BadSpec,
      parsed.issues,
    );
  const spec = parsed.spec;
  const jobId = workflowInfo().workflowId;
  const progress: JobProgress = {
    jobId,
    status: JobStatus.Discovering,
    paused: false,
    tasks: { total: 0, pending: 0, running: 0, succeeded: 0, failed: 0 },
    rowsWritten: 0,
    running: [],
  };
  setHandler(progressQuery, () => progress);
  setHandler(pauseSignal, () => void (progress.paused = true));
  setHandler(resumeSignal, () => void (progress.paused = false));
  const setStatus = (status: JobStatus): void => {
    progress.status = status;
    upsertSearchAttributes([{ key: searchAttributes.status, value: status }]);
  };
  upsertSearchAttributes([
    { key: searchAttributes.jobId, value: jobId },
    { key: searchAttributes.source, value: spec.source.connection },
    { key: searchAttributes.target, value: spec.target.connection },
    { key: searchAttributes.kind, value: spec.kind },
    { key: searchAttributes.status, value: JobStatus.Discovering },
  ]);

  const tasks = await discoverTasks(spec, jobId);
  if (tasks.length === 0) {
    setStatus(JobStatus.Failed);
    throw ApplicationFailure.nonRetryable(
      `no table in ${spec.source.connection}:${spec.source.schema} matches include ${JSON.stringify(spec.include)} / exclude ${JSON.stringify(spec.exclude)}`,
      ErrorCode.BadSpec,
    );
  }
  progress.tasks.total = tasks.length;
  progress.tasks.pending = tasks.length;
  setStatus(JobStatus.Running);

  const results: TaskResult[] = [];
  const runTask = async (task: MigrationTask): Promise<void> => {
    progress.tasks.pending--;
    progress.tasks.running++;
    progress.running.push(task.taskId);
    const result = await executeChild(tableMigration, { workflowId: task.taskId, args: [task] }).catch(
      (e: unknown): TaskResult => failedResult(task, e),
    );
    progress.tasks.running--;
    progress.running = progress.running.filter((id) => id !== task.taskId);
    if (result.status === 'succeeded') progress.tasks.succeeded++;
    else progress.tasks.failed++;
    progress.rowsWritten += result.rowsWritten ?? 0;
    results.push(result);
  };

  // A sliding window: a new task starts as soon as one finishes, up to maxParallelTasks at once.
  const inFlight: Promise<void>[] = [];
  for (const task of tasks) {
    await condition(() => !progress.paused && progress.tasks.running < spec.maxParallelTasks);
    inFlight.push(runTask(task));
  }
  await Promise.all(inFlight);

  const failed = results.filter((r) => r.status === 'failed').length;
  setStatus(failed ? JobStatus.Failed : JobStatus.Succeeded);
  return {
    jobId,
    status: failed ? 'failed' : 'succeeded',
    tasks: { total: tasks.length, succeeded: results.length - failed, failed },
    rowsWritten: progress.rowsWritten,
    results: results.sort((a, b) => a.taskId.localeCompare(b.taskId)),
  };
}

/** Discovers the source a page at a time and plans one task per table. */
async function discoverTasks(spec: JobSpec, jobId: string): Promise<MigrationTask[]> {
  const tasks: MigrationTask[] = [];
  let after: string | null = null;
  do {
    const page: DiscoverPage = await discoverSource({
      connection: spec.source.connection,
      selection: {
        schema: spec.source.schema,
        tables: spec.tables,
        include: spec.include,
        exclude: spec.exclude,
      },
      after,
      pageSize: discoveryPageSize,
    });
    tasks.push(...page.tables.map((table) => planTask(spec, jobId, table)));
    after = page.nextAfter;
  } while (after !== null);
  return tasks;
}

/** One table becomes one task with a deterministic id. */
function planTask(spec: JobSpec, jobId: string, table: TableMeta): MigrationTask {
  return {
    jobId,
    taskId: `${jobId}/${table.ref.schema}.${table.ref.name}`,
    source: { connection: spec.source.connection },
    target: { connection: spec.target.connection },
    table,
    targetRef: { schema: spec.target.schema ?? spec.source.schema, name: table.ref.name },
    writeMode: spec.writeMode,
    createMode: spec.createMode,
    chunkRows: spec.chunkRows,
    verify: spec.verify,
    heartbeatTimeoutSeconds: spec.heartbeatTimeoutSeconds ?? defaultHeartbeatTimeoutSeconds,
  };
}

/** A failed child becomes a result with the innermost cause's code and message. */
function failedResult(task: MigrationTask, error: unknown): TaskResult {
  let cause: unknown = error;
  while (
    cause instanceof ChildWorkflowFailure ||
    (cause instanceof Error && cause.cause && !(cause instanceof ApplicationFailure))
  ) {
    cause = (cause as Error).cause;
  }
  const code = cause instanceof ApplicationFailure ? (cause.type ?? ErrorCode.Internal) : ErrorCode.Internal;
  const message = cause instanceof Error ? cause.message : String(cause);
  return {
    taskId: task.taskId,
    table: `${task.table.ref.schema}.${task.table.ref.name}`,
    target: `${task.targetRef.schema}.${task.targetRef.name}`,
    status: 'failed',
    error: { code, message },
  };
}
