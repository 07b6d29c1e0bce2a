import type { MigrationTask } from './task';
import { tableLabel } from './table';

/** Things a user should know before a task runs: what will fail, and what changes on the way. */
export function taskWarnings(task: MigrationTask, targetEngine: string): string[] {
  const warnings: string[] = [];
  const label = tableLabel(task.table.ref);
  const members = task.members ?? [task.table];
  for (const table of members) {
    if (table.primaryKey.length === 0) {
      warnings.push(
        `${tableLabel(table.ref)} has no primary key: it is copied as one chunk, so a failure redoes the whole table (no resume inside it)`,
      );
    }
  }
  if (task.writeMode === 'upsert' && task.table.primaryKey.length === 0)
    warnings.push(`${label}: upsert needs a primary key`);
  if (task.writeMode === 'upsert' && targetEngine !== 'postgres' && targetEngine !== 'mysql') {
    warnings.push(`${label}: ${targetEngine} targets cannot upsert`);
  }
  if (targetEngine !== task.table.engine) {
    for (const c of task.table.columns.filter((c) => c.unmapped)) {
      warnings.push(
        `${label}.${c.name}: no logical type for ${c.nativeType}; only a ${task.table.engine} target can hold it`,
      );
    }
  }
  if (targetEngine === 'mysql') {
    for (const c of task.table.columns.filter((c) => c.type.kind === 'timestamptz')) {
      warnings.push(`${label}.${c.name}: timestamptz becomes DATETIME holding UTC (MySQL has no zoned type)`);
    }
  }
  return warnings;
}
