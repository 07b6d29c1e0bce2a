import type { LogicalType } from './logical-types';

/** Where a table lives: Database → Schema → Table, as in every engine we map. */
export interface TableRef {
  /** The schema (PostgreSQL) or database (MySQL) or prefix (object store). */
  schema: string;
  /** The table name, unquoted and case-preserved. */
  name: string;
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
}

/** Renders `schema.table` for messages and ids (not for SQL: dialects quote). */
export function tableLabel(ref: TableRef): string {
  return `${ref.schema}.${ref.name}`;
}
