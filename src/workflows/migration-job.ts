import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DiscoverPage } from '../core/connector';
import { ErrorCode, terminalErrorCodes } from '../core/errors';
import { tableLabel, type TableMeta } from '../core/table';
import { taskThrottle } from '../core/throttle';
import type { JobReport, MigrationTask, TaskResult } from '../core/task';
import { formatSpecIssues, parseJobSpec, type JobSpec, type JobSpecInput } from '../spec/job-spec';
import {
  JobStatus,
  pauseSignal,
  progressQuery,
  resumeSignal,
  retryFailedSignal,
  searchAttributes,
  setParallelismUpdate,
  type JobProgress,
} from './definitions';
import { planShardSets, planTask, selectionOf } from './planning';
import { tableMigration } from './table-migration';
import { showProgress } from './current-details';

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
/** Results kept in the report (each is a few hundred bytes), so it stays far below the 2 MB payload limit. */
const maxReportedFailures = 300;
const maxReportedSuccesses = 200;
/** Failed tasks kept for `retryFailed` in the running job; beyond this, re-run the job instead. */
const maxRetainedFailures = 200;
/** Everything a job carries across continue-as-new: small, however many tables the job has. */
export interface JobState {
  startedAt: number;
  discoveryAfter: string | null;
  discoveryDone: boolean;
  /** Planned tasks not started yet: at most one discovery page plus retried failures. */
  queue: MigrationTask[];
  /** Shard jobs: the members discovered so far, grouped into tasks once discovery is done. */
  shardMembers: TableMeta[];
  /** Failed tasks with their inputs, so `retryFailed` can run them again. */
  failedTasks: MigrationTask[];
  totals: {
    planned: number;
    succeeded: number;
    failed: number;
    skipped: number;
    rowsWritten: number;
    estimatedRows: number;
  };
  results: TaskResult[];
  resultsOmitted: number;
  paused: boolean;
  parallelism: number;
  continuedAsNew: number;
}

/**
 * A migration job: discover the source a page at a time, run one child per table in a
 * sliding window, continue as new when the history grows long, and report.
 */
export async function migrationJob(input: JobSpecInput, carried?: JobState): Promise<JobReport> {
  const parsed = parseJobSpec(input);
  if (!parsed.ok) {
    throw ApplicationFailure.nonRetryable(
      `invalid job spec:\n${formatSpecIssues(parsed.issues)}`,
      ErrorCode.BadSpec,
      parsed.issues,
    );
  }
  const spec = parsed.spec;
  const jobId = workflowInfo().workflowId;
  const state: JobState = carried ?? {
    startedAt: Date.now(),
    discoveryAfter: null,
    discoveryDone: false,
    queue: [],
    shardMembers: [],
    failedTasks: [],
    totals: { planned: 0, succeeded: 0, failed: 0, skipped: 0, rowsWritten: 0, estimatedRows: 0 },
    results: [],
    resultsOmitted: 0,
    paused: false,
    parallelism: spec.maxParallelTasks,
    continuedAsNew: 0,
  };
  const running = new Map<string, Promise<void>>();
  let status: JobStatus = JobStatus.Running;

  setHandler(progressQuery, () => progressOf(jobId, state, status, [...running.keys()]));
  setHandler(pauseSignal, () => void (state.paused = true));
  setHandler(resumeSignal, () => void (state.paused = false));
  setHandler(retryFailedSignal, () => {
    state.queue.push(...state.failedTasks);
    state.totals.failed -= state.failedTasks.length;
    state.results = state.results.filter((r) => !state.failedTasks.some((t) => t.taskId === r.taskId));
    state.failedTasks = [];
  });
  setHandler(
    setParallelismUpdate,
    (parallelism) => {
      const previous = state.parallelism;
      state.parallelism = parallelism;
      return previous;
    },
    {
      validator: (parallelism) => {
        if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 500) {
          throw new RangeError('parallelism must be a whole number from 1 to 500');
        }
      },
    },
  );
  // The Web UI's "Current Details": refreshed whenever the numbers change.
  const show = (): void => showProgress(progressOf(jobId, state, status, [...running.keys()]));
  const setStatus = (next: JobStatus): void => {
    status = next;
    upsertSearchAttributes([{ key: searchAttributes.status, value: next }]);
    show();
  };
  upsertSearchAttributes([
    { key: searchAttributes.jobId, value: jobId },
    { key: searchAttributes.source, value: spec.source.connection },
    { key: searchAttributes.target, value: spec.target.connection },
    { key: searchAttributes.kind, value: spec.kind },
    { key: searchAttributes.status, value: JobStatus.Running },
  ]);

  const runTask = async (task: MigrationTask): Promise<void> => {
    const result = await executeChild(tableMigration, {
      workflowId: task.taskId,
      args: [task],
      typedSearchAttributes: [{ key: searchAttributes.jobId, value: jobId }],
      staticSummary: `${task.source.connection}:${tableLabel(task.table.ref)} → ${task.target.connection}:${tableLabel(task.targetRef)}`,
    }).catch((e: unknown): TaskResult => failedResult(task, e));
    running.delete(task.taskId);
    record(state, task, result);
    show();
  };

  const wantsNewRun = (): boolean => workflowInfo().continueAsNewSuggested;
  const allDone = (): boolean => state.discoveryDone && state.queue.length === 0 && running.size === 0;
  const canStart = (): boolean =>
    !state.paused && !wantsNewRun() && running.size < state.parallelism && state.queue.length > 0;
  // Listing tables moves no data, so it goes on while paused: the plan is complete sooner.
  const canDiscover = (): boolean => !wantsNewRun() && state.queue.length === 0 && !state.discoveryDone;

  try {
    for (;;) {
      show();
      await condition(
        () => canStart() || canDiscover() || allDone() || (wantsNewRun() && running.size === 0),
      );
      if (allDone()) break;
      if (wantsNewRun() && running.size === 0) {
        state.continuedAsNew++;
        await continueAsNew<typeof migrationJob>(input, state);
      }
      if (canDiscover()) await discoverPage(spec, jobId, state);
      else if (canStart()) {
        const next = state.queue.shift()!;
        const throttle = taskThrottle(next.throttle, spec.jobThrottle, state.parallelism);
        running.set(next.taskId, runTask({ ...next, ...(throttle ? { throttle } : {}) }));
      }
    }
  } catch (e) {
    if (!isCancellation(e)) throw e;
    // Cancelled: let running tasks stop at a chunk boundary, record them, then end as cancelled.
    await CancellationScope.nonCancellable(async () => {
      await Promise.all(running.values());
      setStatus(JobStatus.Cancelled);
    });
    throw e;
  }

  if (state.totals.planned === 0) {
    setStatus(JobStatus.Failed);
    throw ApplicationFailure.nonRetryable(
      spec.kind === 'tables'
        ? `none of the tables ${JSON.stringify(spec.tables)} exist in ${spec.source.connection}:${spec.source.schema}`
        : `no table in ${spec.source.connection}:${spec.source.schema} matches include ${JSON.stringify(spec.include)} / exclude ${JSON.stringify(spec.exclude)}`,
      ErrorCode.BadSpec,
    );
  }
  const failed = state.totals.failed > 0;
  setStatus(failed ? JobStatus.Failed : JobStatus.Succeeded);
  return {
    jobId,
    status: failed ? 'failed' : 'succeeded',
    tasks: {
      total: state.totals.planned,
      succeeded: state.totals.succeeded,
      failed: state.totals.failed,
      skipped: state.totals.skipped,
    },
    rowsWritten: state.totals.rowsWritten,
    durationMs: Date.now() - state.startedAt,
    results: [...state.results].sort((a, b) => a.taskId.localeCompare(b.taskId)),
    resultsOmitted: state.resultsOmitted,
    continuedAsNew: state.continuedAsNew,
  };
}

/**
 * Lists the next page of source tables and queues one task per table or partition.
 * Shard sets need every member first, so their tasks are queued once discovery is done.
 */
async function discoverPage(spec: JobSpec, jobId: string, state: JobState): Promise<void> {
  const page: DiscoverPage = await discoverSource({
    connection: spec.source.connection,
    selection: selectionOf(spec),
    after: state.discoveryAfter,
    pageSize: discoveryPageSize,
    target: spec.target.connection,
    casts: spec.casts,
  });
  state.discoveryAfter = page.nextAfter;
  state.discoveryDone = page.nextAfter === null;
  if (spec.kind === 'shards') state.shardMembers.push(...page.tables);
  const tasks =
    spec.kind !== 'shards'
      ? page.tables.map((table) => planTask(spec, jobId, table))
      : state.discoveryDone
        ? planShardSets(spec, jobId, state.shardMembers)
        : [];
  state.queue.push(...tasks);
  state.totals.planned += tasks.length;
  state.totals.estimatedRows += tasks.reduce((sum, t) => sum + t.table.estimatedRows, 0);
}

/** Adds a finished task to the totals, keeping the report and the retry list bounded. */
function record(state: JobState, task: MigrationTask, result: TaskResult): void {
  state.totals.rowsWritten += result.skipped ? 0 : (result.rowsWritten ?? 0);
  if (result.status === 'failed') {
    state.totals.failed++;
    if (state.failedTasks.length < maxRetainedFailures) state.failedTasks.push(task);
  } else if (result.skipped) state.totals.skipped++;
  else state.totals.succeeded++;
  const alike = state.results.filter((r) => r.status === result.status).length;
  if (alike < (result.status === 'failed' ? maxReportedFailures : maxReportedSuccesses)) {
    // Statements are in each child's own result; the job report keeps only the numbers.
    state.results.push({ ...result, statements: undefined });
  } else state.resultsOmitted++;
}

/** The `progress` query's answer. */
function progressOf(jobId: string, state: JobState, status: JobStatus, running: string[]): JobProgress {
  const seconds = Math.max(1, (Date.now() - state.startedAt) / 1000);
  const rate = state.totals.rowsWritten / seconds;
  const left = Math.max(0, state.totals.estimatedRows - state.totals.rowsWritten);
  const t = state.totals;
  return {
    jobId,
    status,
    paused: state.paused,
    parallelism: state.parallelism,
    discoveryDone: state.discoveryDone,
    tasks: {
      total: t.planned,
      pending: state.queue.length,
      running: running.length,
      succeeded: t.succeeded,
      failed: t.failed,
      skipped: t.skipped,
    },
    rowsWritten: t.rowsWritten,
    estimatedRows: t.estimatedRows,
    rowsPerSecond: Math.round(rate),
    etaSeconds: rate > 0 && state.discoveryDone ? Math.round(left / rate) : null,
    running,
    continuedAsNew: state.continuedAsNew,
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
  const code =
    cause instanceof ApplicationFailure
      ? (cause.type ?? ErrorCode.Internal)
      : isCancellation(error)
        ? 'CANCELLED'
        : ErrorCode.Internal;
  const message = cause instanceof Error ? cause.message : String(cause);
  // A task that failed its gate attached its whole result (counts, checksums, differing keys): keep it.
  const details =
    cause instanceof ApplicationFailure ? (cause.details?.[0] as Partial<TaskResult> | undefined) : undefined;
  const numbers = details?.taskId === task.taskId ? { ...details, statements: undefined } : {};
  return {
    ...numbers,
    taskId: task.taskId,
    table: tableLabel(task.table.ref),
    target: tableLabel(task.targetRef),
    status: 'failed',
    error: { code, message: message.slice(0, 1000) },
  };
}
