import { ApplicationFailure } from '@temporalio/workflow';
import type { TableSelection } from '../core/connector';
import { ErrorCode } from '../core/errors';
import { targetTableName } from '../core/naming';
import { globToRegExp } from '../core/selection';
import { objectStoreEngines, tableLabel, type ColumnMeta, type TableMeta } from '../core/table';
import type { MigrationTask } from '../core/task';
import type { JobSpec } from '../spec/job-spec';

/** Heartbeat timeout of copies unless the spec says otherwise. */
const defaultHeartbeatTimeoutSeconds = 30;

/** What discovery must list for a spec: tables, partitions of tables, or every member of every shard set. */
export function selectionOf(spec: JobSpec): TableSelection {
  const base = { schema: spec.source.schema, include: spec.include, exclude: spec.exclude };
  if (spec.kind === 'tables') return { ...base, tables: spec.tables };
  if (spec.kind === 'partitions') {
    // Bounds travel as tuples of text; the source compares them as values of the partition key's types.
    const tuple = (v: string | number | (string | number)[]): string[] => [v].flat().map(String);
    const partitions = (spec.partitions ?? []).map(({ from, to, ...p }) => ({
      ...p,
      ...(from === undefined ? {} : { from: tuple(from) }),
      ...(to === undefined ? {} : { to: tuple(to) }),
    }));
    return { ...base, partitions };
  }
  if (spec.kind === 'shards') {
    const patterns = (spec.shards ?? []).flatMap((s) =>
      s.tables.map((t) => shardPattern(t, spec.source.schema)),
    );
    const schemas = [...new Set(patterns.map((p) => p.schema))].map((schema) => ({
      schema,
      include: patterns.filter((p) => p.schema === schema).map((p) => p.table),
    }));
    // Members of the source schema alone are listed as any table; members elsewhere, schema by schema.
    if (schemas.length === 1 && schemas[0]!.schema === spec.source.schema)
      return { ...base, include: schemas[0]!.include, exclude: [] };
    return { ...base, include: [], exclude: [], schemas };
  }
  return base;
}

/** A shard member pattern: `schema.table` (either part a glob) names its schema; a bare one means the source schema. */
export function shardPattern(pattern: string, schema: string): { schema: string; table: string } {
  const dot = pattern.indexOf('.');
  return dot < 0
    ? { schema, table: pattern }
    : { schema: pattern.slice(0, dot), table: pattern.slice(dot + 1) };
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

/**
 * The Hive folder columns `target.partitionBy` gives a table (a partition: by its parent's name), or
 * undefined. Only object-store targets write folders: any other target refuses the option (BAD_SPEC).
 */
export function partitionByOf(spec: JobSpec, table: TableMeta): string[] | undefined {
  const option = spec.target.partitionBy;
  if (option === undefined) return undefined;
  if (table.targetEngine !== undefined && !objectStoreEngines.includes(table.targetEngine)) {
    throw ApplicationFailure.nonRetryable(
      `target.partitionBy writes Hive folders on object stores (S3, local); ${spec.target.connection} is a ${table.targetEngine} target`,
      ErrorCode.BadSpec,
    );
  }
  if (Array.isArray(option)) return option;
  const name = table.partition?.parent ?? table.ref.name;
  return Object.entries(option).find(([glob]) => globToRegExp(glob).test(name))?.[1];
}

/** One table or partition becomes one task with a deterministic id. */
export function planTask(spec: JobSpec, jobId: string, table: TableMeta): MigrationTask {
  const targetSchema = spec.target.schema ?? spec.source.schema;
  const parent = table.partition ? targetTableName(table.partition.parent, spec.naming) : undefined;
  const partitionBy = partitionByOf(spec, table);
  // A partition that is a table of its own in the source (PostgreSQL) becomes the partition `name` of its
  // parent where partitions are not tables: the parent's folder in an object store, a partition of the
  // parent table on MySQL (keeping its name).
  const intoParent =
    parent !== undefined &&
    table.ref.partition === undefined &&
    (objectStoreEngines.includes(table.targetEngine ?? '') || table.targetEngine === 'mysql');
  return {
    ...taskBase(spec, jobId),
    taskId: `${jobId}/${tableLabel(table.ref)}`,
    table,
    targetRef: intoParent
      ? { schema: targetSchema, name: parent, partition: table.ref.name }
      : {
          schema: targetSchema,
          name: targetTableName(table.ref.name, spec.naming),
          // A partition that is not a table of its own (MySQL) stays a partition of the renamed parent.
          ...(table.ref.partition === undefined ? {} : { partition: table.ref.partition }),
        },
    ...(parent === undefined ? {} : { targetParent: parent }),
    ...(partitionBy ? { partitionBy } : {}),
  };
}

/**
 * Groups discovered tables into shard sets, one task each: the members are copied in name
 * order into one target table, which gets the shard column (part of its key) when asked for.
 */
export function planShardSets(spec: JobSpec, jobId: string, tables: TableMeta[]): MigrationTask[] {
  const claimed = new Set<string>();
  return (spec.shards ?? []).map((set, index) => {
    const patterns = set.tables.map((pattern) => {
      const { schema, table } = shardPattern(pattern, spec.source.schema);
      const [inSchema, name] = [globToRegExp(schema), globToRegExp(table)];
      return (t: TableMeta): boolean => inSchema.test(t.ref.schema) && name.test(t.ref.name);
    });
    const members = tables
      .filter((t) => !claimed.has(tableLabel(t.ref)) && patterns.some((matches) => matches(t)))
      .sort((a, b) => tableLabel(a.ref).localeCompare(tableLabel(b.ref)));
    members.forEach((m) => claimed.add(tableLabel(m.ref)));
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
    const partitionBy = partitionByOf(spec, targetShape);
    return {
      ...taskBase(spec, jobId),
      ...(partitionBy ? { partitionBy } : {}),
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
