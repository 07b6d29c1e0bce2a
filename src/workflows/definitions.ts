import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

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

/** Where a job stands, as the `progress` query returns it. */
export interface JobProgress {
  jobId: string;
  status: JobStatus;
  paused: boolean;
  tasks: { total: number; pending: number; running: number; succeeded: number; failed: number };
  rowsWritten: number;
  running: string[];
}

/** The states a job moves through. */
export const JobStatus = {
  Discovering: 'discovering',
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
} as const;
/** One of the {@link JobStatus} values. */
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/** The job's live progress. */
export const progressQuery = defineQuery<JobProgress>('progress');
/** Stops starting new tasks; running ones finish. */
export const pauseSignal = defineSignal('pause');
/** Starts new tasks again after a pause. */
export const resumeSignal = defineSignal('resume');
