import { ApplicationFailure } from '@temporalio/workflow';
import type { TableSelection } from '../core/connector';
import { ErrorCode } from '../core/errors';
import { targetTableName } from '../core/naming';
import { globToRegExp } from '../core/selection';
import { tableLabel, type ColumnMeta, type TableMeta } from '../core/table';
import type { MigrationTask } from '../core/task';
import type { JobSpec } from '../spec/job-spec';

/** Heartbeat timeout of copies unless the spec says otherwise. */
const defaultHeartbeatTimeoutSeconds = 30;

/** What discovery must list for a spec: tables, partitions of tables, or every member of every shard set. */
export function selectionOf(spec: JobSpec): TableSelection {
  const base = { schema: spec.source.schema, include: spec.include, exclude: spec.exclude };
  if (spec.kind === 'tables') return { ...base, tables: spec.tables };
  if (spec.kind === 'partitions') {
    // Bounds travel as text; the source compares them as values of the partition key's type.
    const partitions = (spec.partitions ?? []).map(({ from, to, ...p }) => ({
      ...p,
      ...(from === undefined ? {} : { from: String(from) }),
      ...(to === undefined ? {} : { to: String(to) }),
    }));
    return { ...base, partitions };
  }
  if (spec.kind === 'shards')
    return { ...base, include: (spec.shards ?? []).flatMap((s) => s.tables), exclude: [] };
  return base;
}

/** The fields every task of a job shares. */
function taskBase(spec: JobSpec, jobId: string) {
  return {
    jobId,
    source: { connection: spec.source.connection },
    target: { connection: spec.target.connection },
    writeMode: spec.writeMode,
    createMode: spec.createMode,
    chunkRows: spec.chunkRows,
    chunkBytes: spec.chunkBytes,
    verify: spec.verify,
    throttle: spec.throttle,
    heartbeatTimeoutSeconds: spec.heartbeatTimeoutSeconds ?? defaultHeartbeatTimeoutSeconds,
  };
}

/** One table or partition becomes one task with a deterministic id. */
export function planTask(spec: JobSpec, jobId: string, table: TableMeta): MigrationTask {
  const targetSchema = spec.target.schema ?? spec.source.schema;
  return {
    ...taskBase(spec, jobId),
    taskId: `${jobId}/${tableLabel(table.ref)}`,
    table,
    targetRef: {
      schema: targetSchema,
      name: targetTableName(table.ref.name, spec.naming),
      // A partition that is not a table of its own (MySQL) stays a partition of the renamed parent.
      ...(table.ref.partition === undefined ? {} : { partition: table.ref.partition }),
    },
    ...(table.partition ? { targetParent: targetTableName(table.partition.parent, spec.naming) } : {}),
  };
}

/**
 * Groups discovered tables into shard sets, one task each: the members are copied in name
 * order into one target table, which gets the shard column (part of its key) when asked for.
 */
export function planShardSets(spec: JobSpec, jobId: string, tables: TableMeta[]): MigrationTask[] {
  const claimed = new Set<string>();
  return (spec.shards ?? []).map((set, index) => {
    const patterns = set.tables.map(globToRegExp);
    const members = tables
      .filter((t) => !claimed.has(t.ref.name) && patterns.some((p) => p.test(t.ref.name)))
      .sort((a, b) => a.ref.name.localeCompare(b.ref.name));
    members.forEach((m) => claimed.add(m.ref.name));
    const path = `shards[${index}]`;
    const first = members[0];
    if (!first) {
      throw ApplicationFailure.nonRetryable(
        `${path}: no table matches ${JSON.stringify(set.tables)}`,
        ErrorCode.BadSpec,
      );
    }
    const shape = (t: TableMeta): string => JSON.stringify(t.columns.map((c) => [c.name, c.nativeType]));
    const odd = members.find((m) => shape(m) !== shape(first));
    if (odd) {
      throw ApplicationFailure.nonRetryable(
        `${path}: ${tableLabel(odd.ref)} does not have the same columns and types as ${tableLabel(first.ref)}`,
        ErrorCode.BadSpec,
      );
    }
    const shardColumn: ColumnMeta[] = set.shardColumn
      ? [{ name: set.shardColumn, nativeType: 'text', type: { kind: 'text' }, nullable: false }]
      : [];
    const targetShape: TableMeta = {
      ...first,
      ref: { schema: first.ref.schema, name: set.target },
      columns: [...first.columns, ...shardColumn],
      primaryKey:
        first.primaryKey.length && set.shardColumn
          ? [set.shardColumn, ...first.primaryKey]
          : first.primaryKey,
      estimatedRows: members.reduce((sum, m) => sum + m.estimatedRows, 0),
      estimatedBytes: members.reduce((sum, m) => sum + m.estimatedBytes, 0),
    };
    return {
      ...taskBase(spec, jobId),
      taskId: `${jobId}/shards:${spec.source.schema}.${set.target}`,
      table: targetShape,
      targetRef: {
        schema: spec.target.schema ?? spec.source.schema,
        name: targetTableName(set.target, spec.naming),
      },
      members: set.shardColumn
        ? members.map((m) => ({
            ...m,
            constantColumns: [{ name: set.shardColumn!, value: tableLabel(m.ref) }],
          }))
        : members,
      ...(set.shardColumn ? { shardColumn: set.shardColumn } : {}),
    };
  });
}
