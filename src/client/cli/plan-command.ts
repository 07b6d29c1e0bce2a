import type { Command } from 'commander';
import type { JobPlan } from '../../core/task';
import type { JobSpecInput } from '../../spec/job-spec';
import { readSpecFile } from '../../spec/load';
import { MigrationClient } from '../migration-client';
import { table } from './output';

/** Renders a plan: one block per task with its type mapping, statements and warnings. */
export function planText(plan: JobPlan): string {
  const blocks = plan.tasks.map((t) =>
    [
      `▸ ${t.table} → ${t.target}  (~${t.estimatedRows.toLocaleString('en-US')} rows)`,
      table(
        ['column', 'source type', 'logical type'],
        t.columns.map((c) => [c.name, c.nativeType, c.cast ? `${c.logicalType} (${c.cast})` : c.logicalType]),
      )
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
      ...t.statements.map((s) => `    ${s.replace(/\n\s*/g, ' ')};`),
      ...t.warnings.map((w) => `    ⚠ ${w}`),
    ].join('\n'),
  );
  const warnings = plan.tasks.reduce((n, t) => n + t.warnings.length, 0);
  const omitted = plan.tasksOmitted ? `, ${plan.tasksOmitted} more not previewed` : '';
  return `${blocks.join('\n\n')}\n\n${plan.kind} job: ${plan.tasks.length} task(s)${omitted}, ${warnings} warning(s); nothing was written`;
}

/** Adds `mms plan <spec>`. */
export function addPlanCommand(program: Command): void {
  program
    .command('plan')
    .description(
      'show the tasks, DDL, type mapping and warnings of a spec, writing nothing (needs a running worker)',
    )
    .argument('<spec>', 'job spec file (YAML or JSON)')
    .option('--json', 'print machine-readable JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const client = await MigrationClient.connect();
      try {
        const plan = await client.plan(readSpecFile(file) as JobSpecInput);
        console.log(opts.json ? JSON.stringify(plan, null, 2) : planText(plan));
      } finally {
        await client.close();
      }
    });
}
