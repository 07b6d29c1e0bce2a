import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** Search attributes our jobs set, so the Web UI and `mms list` can filter them. */
export const searchAttributes = {
  jobId: defineSearchAttributeKey('MmsJobId', SearchAttributeType.KEYWORD),
  source: defineSearchAttributeKey('MmsSource', SearchAttributeType.KEYWORD),
  target: defineSearchAttributeKey('MmsTarget', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('MmsKind', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('MmsStatus', SearchAttributeType.KEYWORD),
} as const;

/** The names the dev server must know; scripts and the demo register them. */
export const searchAttributeNames = Object.values(searchAttributes).map((k) => k.name);

/** The states a job moves through. */
export const JobStatus = {
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const;
/** One of the {@link JobStatus} values. */
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/** Where a job stands, as the `progress` query returns it. */
export interface JobProgress {
  jobId: string;
  status: JobStatus;
  paused: boolean;
  parallelism: number;
  /** Whether every table of the source has been listed yet. */
  discoveryDone: boolean;
  tasks: {
    total: number;
    pending: number;
    running: number;
    succeeded: number;
    failed: number;
    skipped: number;
  };
  rowsWritten: number;
  /** Rows the source's statistics promise for the tasks planned so far. */
  estimatedRows: number;
  /** Rows per second since the job started, over finished tasks. */
  rowsPerSecond: number;
  /** Seconds left at that rate, when it can be guessed. */
  etaSeconds: number | null;
  /** Task ids running now. */
  running: string[];
  /** How many times the job continued as new to keep its history short. */
  continuedAsNew: number;
}

/** The job's live progress. */
export const progressQuery = defineQuery<JobProgress>('progress');
/** Stops starting new tasks; running ones finish their current chunk and task. */
export const pauseSignal = defineSignal('pause');
/** Starts new tasks again after a pause. */
export const resumeSignal = defineSignal('resume');
/** Puts the tasks that failed so far back in the queue. */
export const retryFailedSignal = defineSignal('retryFailed');
/** Changes how many tasks run at once; returns the previous value. */
export const setParallelismUpdate = defineUpdate<number, [number]>('setParallelism');
