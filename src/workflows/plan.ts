import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DiscoverPage } from '../core/connector';
import { ErrorCode, terminalErrorCodes } from '../core/errors';
import type { TableMeta } from '../core/table';
import type { JobPlan, MigrationTask, TaskPlan } from '../core/task';
import { formatSpecIssues, parseJobSpec, type JobSpecInput } from '../spec/job-spec';
import { planShardSets, planTask, selectionOf } from './planning';

const { discoverSource, previewTask } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: terminalErrorCodes },
});

/** Tasks previewed in full; a plan of more tables lists the rest only by count. */
const maxPreviewedTasks = 200;

/**
 * What a job would do, with nothing written: the tasks, the DDL each would run against the
 * target as it is now, the type mapping and warnings. Runs on a worker, where the credentials are.
 */
export async function migrationPlan(input: JobSpecInput): Promise<JobPlan> {
  const parsed = parseJobSpec(input);
  if (!parsed.ok) {
    throw ApplicationFailure.nonRetryable(
      `invalid job spec:\n${formatSpecIssues(parsed.issues)}`,
      ErrorCode.BadSpec,
      parsed.issues,
    );
  }
  const spec = parsed.spec;
  const jobId = spec.jobId ?? 'plan';
  const tables: TableMeta[] = [];
  let after: string | null = null;
  do {
    const page: DiscoverPage = await discoverSource({
      connection: spec.source.connection,
      selection: selectionOf(spec),
      after,
      pageSize: 100,
      target: spec.target.connection,
      casts: spec.casts,
    });
    tables.push(...page.tables);
    after = page.nextAfter;
  } while (after !== null && tables.length < maxPreviewedTasks * 10);
  const tasks: MigrationTask[] =
    spec.kind === 'shards' ? planShardSets(spec, jobId, tables) : tables.map((t) => planTask(spec, jobId, t));
  const previewed: TaskPlan[] = [];
  // A few at a time: previews are cheap, but thousands at once would swamp the target.
  for (let i = 0; i < Math.min(tasks.length, maxPreviewedTasks); i += 8) {
    previewed.push(...(await Promise.all(tasks.slice(i, i + 8).map((t) => previewTask(t)))));
  }
  return { kind: spec.kind, tasks: previewed, tasksOmitted: tasks.length - previewed.length };
}
