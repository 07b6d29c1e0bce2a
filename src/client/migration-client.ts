import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { MigrationError, ErrorCode } from '../core/errors';
import type { CopyProgress, JobPlan, JobReport, MigrationTask } from '../core/task';
import { formatSpecIssues, parseJobSpec, type JobSpecInput } from '../spec/job-spec';
import type { Catalog, catalogBrowse } from '../workflows/catalog';
import {
  pauseSignal,
  progressQuery,
  resumeSignal,
  retryFailedSignal,
  setParallelismUpdate,
  searchAttributes,
  type JobProgress,
} from '../workflows/definitions';
import { temporalSettings, workflowUrl, type TemporalSettings } from './config';
import { dataConverterFromEnv } from './payload-codec';

/** A started job: its id, and where to watch it. */
export interface StartedJob {
  jobId: string;
  runId: string;
  url: string;
}

/** Where one running task stands, from its copy's last heartbeat. */
export interface TaskProgress {
  taskId: string;
  /** `prepare`, `copy` or `verify`: the activity the task runs now, or `waiting` between them. */
  phase: string;
  /** Rows committed so far (the copy's heartbeat; the target's checkpoint is the truth). */
  rows: number;
  /** Rows the source's statistics promise for the table. */
  estimatedRows: number;
}

/** What `status` tells about a job without waiting for it. */
export interface JobStatusInfo {
  jobId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, … */
  execution: string;
  progress?: JobProgress;
  report?: JobReport;
  url: string;
}

/**
 * Starts and controls migration jobs from any Node service.
 * The spec names connections only; the workers resolve them to credentials.
 */
export class MigrationClient {
  private constructor(
    private readonly client: Client,
    private readonly connection: Connection,
    readonly settings: TemporalSettings,
  ) {}

  /** Connects to Temporal with settings from the arguments, else `MMS_TEMPORAL_*`, else local defaults. */
  static async connect(settings: Partial<TemporalSettings> = {}): Promise<MigrationClient> {
    const resolved = { ...temporalSettings(), ...settings };
    const connection = await Connection.connect({ address: resolved.address });
    return new MigrationClient(
      new Client({ connection, namespace: resolved.namespace, dataConverter: dataConverterFromEnv() }),
      connection,
      resolved,
    );
  }

  /**
   * Validates a spec and starts its job; throws BAD_SPEC with every issue and its path.
   * Starting again with the id of a finished job re-runs it: tasks it completed are skipped.
   */
  async start(input: JobSpecInput): Promise<StartedJob> {
    const parsed = parseJobSpec(input);
    if (!parsed.ok) throw new MigrationError(ErrorCode.BadSpec, formatSpecIssues(parsed.issues));
    const spec = parsed.spec;
    const jobId = spec.jobId ?? `mms-${spec.source.connection}-${randomUUID().slice(0, 8)}`;
    try {
      const handle = await this.client.workflow.start('migrationJob', {
        workflowId: jobId,
        taskQueue: this.settings.taskQueue,
        args: [input],
        typedSearchAttributes: [
          { key: searchAttributes.jobId, value: jobId },
          { key: searchAttributes.source, value: spec.source.connection },
          { key: searchAttributes.target, value: spec.target.connection },
          { key: searchAttributes.kind, value: spec.kind },
        ],
        staticSummary: `${spec.kind}: ${spec.source.connection}:${spec.source.schema} → ${spec.target.connection}:${spec.target.schema ?? spec.source.schema}`,
      });
      return { jobId, runId: handle.firstExecutionRunId, url: workflowUrl(this.settings, jobId) };
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) {
        throw new MigrationError(ErrorCode.BadSpec, `a job with id "${jobId}" is already running`);
      }
      throw e;
    }
  }

  /** Waits for a job to end and returns its report. */
  async result(jobId: string): Promise<JobReport> {
    return (await this.client.workflow.getHandle(jobId).result()) as JobReport;
  }

  /** The live progress of a running job. */
  async progress(jobId: string): Promise<JobProgress> {
    return this.client.workflow.getHandle(jobId).query(progressQuery);
  }

  /** Where a job stands: running with progress, or ended with its report. */
  async status(jobId: string): Promise<JobStatusInfo> {
    const handle = this.client.workflow.getHandle(jobId);
    const description = await handle.describe();
    const info: JobStatusInfo = {
      jobId,
      execution: description.status.name,
      url: workflowUrl(this.settings, jobId),
    };
    if (description.status.name === 'RUNNING') info.progress = await handle.query(progressQuery);
    if (description.status.name === 'COMPLETED') info.report = (await handle.result()) as JobReport;
    return info;
  }

  /** Shows what a spec would do, writing nothing: tasks, DDL, type mapping and warnings (runs on a worker). */
  async plan(input: JobSpecInput): Promise<JobPlan> {
    const parsed = parseJobSpec(input);
    if (!parsed.ok) throw new MigrationError(ErrorCode.BadSpec, formatSpecIssues(parsed.issues));
    return (await this.client.workflow.execute('migrationPlan', {
      workflowId: `mms-plan-${randomUUID().slice(0, 8)}`,
      taskQueue: this.settings.taskQueue,
      args: [input],
    })) as JobPlan;
  }

  /** Re-runs a finished job under the same id with its original spec: completed tasks are skipped. */
  async rerun(jobId: string): Promise<StartedJob> {
    const spec = await this.recordedInput<JobSpecInput>(jobId);
    if (!spec) throw new MigrationError(ErrorCode.BadSpec, `job ${jobId} has no recorded spec to re-run`);
    return this.start({ ...spec, jobId });
  }

  /**
   * Runs the failed tasks again: in a running job they go back to its queue;
   * a finished job is re-run, which skips the tasks it completed.
   */
  async retryFailed(jobId: string): Promise<{ jobId: string; rerun: boolean }> {
    const handle = this.client.workflow.getHandle(jobId);
    if ((await handle.describe()).status.name === 'RUNNING') {
      await handle.signal(retryFailedSignal);
      return { jobId, rerun: false };
    }
    await this.rerun(jobId);
    return { jobId, rerun: true };
  }

  /** Cancels a job: running copies stop at a chunk boundary, nothing half-written stays behind. */
  async cancel(jobId: string): Promise<void> {
    await this.client.workflow.getHandle(jobId).cancel();
  }

  /** Changes how many tasks the job runs at once; returns the previous value. */
  async setParallelism(jobId: string, parallelism: number): Promise<number> {
    return this.client.workflow.getHandle(jobId).executeUpdate(setParallelismUpdate, { args: [parallelism] });
  }

  /** Lists recent jobs, newest first, optionally by status (running, succeeded, failed, cancelled). */
  async list(
    options: { status?: string; limit?: number } = {},
  ): Promise<{ jobId: string; status: string; startTime: Date }[]> {
    const filters = [`WorkflowType = 'migrationJob'`];
    if (options.status)
      filters.push(`${searchAttributes.status.name} = '${options.status.replace(/'/g, '')}'`);
    const jobs: { jobId: string; status: string; startTime: Date }[] = [];
    for await (const wf of this.client.workflow.list({ query: filters.join(' AND ') })) {
      const status = wf.typedSearchAttributes.get(searchAttributes.status) ?? wf.status.name.toLowerCase();
      jobs.push({ jobId: wf.workflowId, status, startTime: wf.startTime });
      if (jobs.length >= (options.limit ?? 50)) break;
    }
    return jobs;
  }

  /**
   * Where one running task stands. It reads the task's pending copy activity (rows from its heartbeat),
   * and its input once for the estimate, so a CLI can draw a bar per task.
   */
  async taskProgress(taskId: string, estimatedRows?: number): Promise<TaskProgress> {
    const handle = this.client.workflow.getHandle(taskId);
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const activity = pending[0];
    const details = activity?.heartbeatDetails?.payloads?.[0];
    const rows = details ? defaultPayloadConverter.fromPayload<CopyProgress>(details).rows : 0;
    const phases: Record<string, string> = {
      prepareTarget: 'prepare',
      copyTable: 'copy',
      compareTable: 'verify',
      repairTable: 'repair',
    };
    const phase = phases[activity?.activityType?.name ?? ''] ?? 'waiting';
    if (estimatedRows === undefined) {
      const task = await this.recordedInput<MigrationTask>(taskId);
      estimatedRows = task?.table.estimatedRows ?? 0;
    }
    return { taskId, phase, rows, estimatedRows };
  }

  /**
   * Lists a source's tables with primary keys and size estimates. It runs as a short `catalogBrowse`
   * workflow because only the workers hold the credentials.
   */
  async catalog(connection: string, schema: string, include?: string[]): Promise<Catalog> {
    return this.client.workflow.execute<typeof catalogBrowse>('catalogBrowse', {
      workflowId: `mms-catalog-${connection}-${randomUUID().slice(0, 8)}`,
      taskQueue: this.settings.taskQueue,
      args: [{ connection, schema, include }],
      staticSummary: `catalog of ${connection}:${schema}`,
    });
  }

  /** The first argument a workflow was started with, as its history records it. */
  private async recordedInput<T>(workflowId: string): Promise<T | undefined> {
    const { history } = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.settings.namespace,
      execution: { workflowId },
      maximumPageSize: 1,
    });
    const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    return payload ? defaultPayloadConverter.fromPayload<T>(payload) : undefined;
  }

  /** Stops a job from starting new tasks; running tasks finish. */
  async pause(jobId: string): Promise<void> {
    await this.client.workflow.getHandle(jobId).signal(pauseSignal);
  }

  /** Lets a paused job start tasks again. */
  async resume(jobId: string): Promise<void> {
    await this.client.workflow.getHandle(jobId).signal(resumeSignal);
  }

  /** The underlying Temporal client, for what this class does not wrap. */
  get temporal(): Client {
    return this.client;
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.connection.close();
  }
}
