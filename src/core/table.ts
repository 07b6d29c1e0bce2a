import type { LogicalType } from './logical-types';
import type { PartitionLayout } from './partitions';

/** Where a table lives: Database → Schema → Table, as in every engine we map. */
export interface TableRef {
  /** The schema (PostgreSQL) or database (MySQL) or prefix (object store). */
  schema: string;
  /** The table name, unquoted and case-preserved. */
  name: string;
  /**
   * One partition of the table that is not a table of its own (MySQL): rows are read and written
   * with `PARTITION (…)`. A PostgreSQL target holds it as the table `<name>_<partition>`.
   */
  partition?: string;
}

/** One column as discovered, with its native and logical type. */
export interface ColumnMeta {
  /** Column name, unquoted and case-preserved. */
  name: string;
  /** The engine's own type text, e.g. `numeric(12,2)`. */
  nativeType: string;
  /** The canonical type that the target DDL is generated from. */
  type: LogicalType;
  /** Whether NULL is allowed. */
  nullable: boolean;
  /** Set when no mapping rule knows the native type: only a same-engine target can hold it. */
  unmapped?: boolean;
  /** Set when a cast rule of the job spec changed the column's type (see core/casts.ts). */
  cast?: ColumnCast;
  /** What a value the target cannot hold becomes, when a cast rule says; absent, it is an error. */
  invalid?: 'null' | 'clamp';
}

/** A cast rule applied to a column: `type` is what the rule made of it; the source still reads `from`. */
export interface ColumnCast {
  /** The logical type the source reads, as discovered. */
  from: LogicalType;
  /** exact, narrowing or lossy (allowed by the rule): see core/value-conversion.ts. */
  conversion: 'exact' | 'narrowing' | 'lossy';
  /** The rule's position in the spec's `casts`. */
  rule: number;
  /** The target's native column type the rule asked for, used as is in the DDL. */
  targetType?: string;
}

/** What discovery knows about one table. */
export interface TableMeta {
  /** The source engine, which gives `nativeType` its meaning. */
  engine: string;
  /** The table's location in the source. */
  ref: TableRef;
  /** Columns in ordinal order. */
  columns: ColumnMeta[];
  /** Primary-key column names in key order; empty when the table has none. */
  primaryKey: string[];
  /** The engine's row estimate (statistics, not a count). */
  estimatedRows: number;
  /** The engine's size estimate in bytes. */
  estimatedBytes: number;
  /** Set when this table is one partition of a partitioned table. */
  partition?: PartitionInfo;
  /** Values the source appends to every row after the real columns (e.g. a shard column). */
  constantColumns?: { name: string; value: string }[];
  /** The target's engine, set when a job discovers the table: values are held to what it can store. */
  targetEngine?: string;
  /** An object-store target's part format (`parquet`, `csv`, `jsonl`), whose own limits apply too. */
  targetFormat?: string;
}

/** How a partition hangs off its parent, in the source engine's own DDL terms. */
export interface PartitionInfo {
  /** The partitioned (parent) table's name, in the same schema. */
  parent: string;
  /** The partition bound, e.g. PostgreSQL `FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')`. */
  bound: string;
  /** The parent's partition key, e.g. PostgreSQL `RANGE (created_at)`. */
  keyDef: string;
  /** The key and bound in engine-neutral terms, for a target of another engine. */
  layout?: PartitionLayout;
}

/**
 * The column type a target gives a column: a cast rule's target type, else the native type when the
 * source is of the target's engine and no cast rule changed the column, else the engine's type for
 * the logical one.
 */
export function targetColumnTypeOf(
  column: ColumnMeta,
  sameEngine: boolean,
  logicalToNative: (type: LogicalType) => string,
): string {
  if (column.cast) return column.cast.targetType ?? logicalToNative(column.type);
  return sameEngine ? column.nativeType : logicalToNative(column.type);
}

/**
 * A column as stored data describes it (an object store's manifest): its type as written, without
 * the cast and the `invalid` policy of the job that wrote it, which are no later job's rules.
 */
export function storedColumn(column: ColumnMeta): ColumnMeta {
  const { cast: _cast, invalid: _invalid, ...stored } = column;
  return stored;
}

/** Engines that store tables as files in folders (S3, a local directory): they write Hive folders. */
export const objectStoreEngines: readonly string[] = ['s3', 'local'];

/** Renders `schema.table` for messages and ids (not for SQL: dialects quote). */
export function tableLabel(ref: TableRef): string {
  return `${ref.schema}.${ref.name}${ref.partition === undefined ? '' : `/${ref.partition}`}`;
}
