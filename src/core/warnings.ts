import { formatLogicalType } from './logical-types';
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
    for (const c of task.table.columns.filter((column) => column.unmapped)) {
      warnings.push(
        `${label}.${c.name}: no logical type for ${c.nativeType}; only a ${task.table.engine} target can hold it`,
      );
    }
  }
  for (const c of task.table.columns) {
    const settled =
      c.invalid === 'null'
        ? 'is written as NULL'
        : c.invalid === 'clamp'
          ? 'is clamped to the nearest one it can hold'
          : 'fails the task';
    if (c.cast?.conversion === 'narrowing')
      warnings.push(
        `${label}.${c.name}: cast to ${formatLogicalType(c.type)} narrows; a value that does not fit ${settled}`,
      );
    if (c.cast?.conversion === 'lossy')
      warnings.push(
        `${label}.${c.name}: cast to ${formatLogicalType(c.type)} is lossy (allowed by casts[${c.cast.rule}]): values change on the way`,
      );
    if (c.cast?.targetType)
      warnings.push(
        `${label}.${c.name}: target type ${c.cast.targetType} is taken as written; checksums compare its values as ${formatLogicalType(c.type)}`,
      );
  }
  if (targetEngine === 'mysql') {
    for (const c of task.table.columns.filter((column) => column.type.kind === 'timestamptz')) {
      warnings.push(`${label}.${c.name}: timestamptz becomes DATETIME holding UTC (MySQL has no zoned type)`);
    }
  }
  return warnings;
}
