import {
  ChunkEncoding,
  type ChunkStream,
  type Row,
  type Source,
  type Value,
  type ValueCheck,
} from './connector';
import { hasCasts } from './casts';
import { ErrorCode, MigrationError } from './errors';
import { formatLogicalType } from './logical-types';
import { tableLabel, type ColumnMeta, type TableMeta } from './table';
import { conversion, Unholdable, type Convert, type ValueLimits } from './value-conversion';
import { mapRows } from './row-batches';

/**
 * Wraps a source so that the values of a table discovered for a job reach every reader (the copy,
 * verification, repair) already in the form the target holds: cast columns converted to their new
 * logical type, and values the target's engine cannot hold (`ValueLimits`) settled by the column's
 * policy: an error naming the table, column and types (the default), NULL, or the nearest value.
 * Tables that need none of it pass through untouched, in-engine checksums included. A table without
 * casts may also be read as the source's own text (COPY text, text fields): its chunks then carry the checks, for the target to apply.
 */
export function convertingSource(
  inner: Source,
  limitsOf: (engine: string, format?: string) => ValueLimits | undefined,
): Source {
  const plans = new WeakMap<TableMeta, RowConversion | null>();
  const planOf = (table: TableMeta): RowConversion | null => {
    let plan = plans.get(table);
    if (plan === undefined) {
      plan = rowConversion(table, limitsOf);
      plans.set(table, plan);
    }
    return plan;
  };
  const view = (table: TableMeta): TableMeta => planOf(table)?.sourceTable ?? table;
  const source: Source = {
    encodings: inner.encodings,
    discover: (selection, after, pageSize) => inner.discover(selection, after, pageSize),
    nextChunk: (table, after, maxRows) => inner.nextChunk(view(table), after, maxRows),
    count: (table) => inner.count(view(table)),
    close: () => inner.close(),
    async read(table, range, encoding): Promise<ChunkStream> {
      const plan = planOf(table);
      if (!plan) return inner.read(table, range, encoding);
      if (encoding !== ChunkEncoding.Rows && plan.checks) {
        // The source's own text, with the checks its reader applies field by field.
        const chunk = await inner.read(table, range, encoding);
        // COPY binary carries no checks (it only goes PostgreSQL → PostgreSQL, where none apply).
        if (chunk.data.encoding !== encoding || chunk.data.encoding === ChunkEncoding.PgCopyBinary) {
          const bug = new Error(`the source read ${tableLabel(table.ref)} as ${chunk.data.encoding}`);
          chunk.release(bug);
          throw bug;
        }
        return { ...chunk, data: { ...chunk.data, checks: plan.checks } };
      }
      if (encoding !== ChunkEncoding.Rows) {
        throw new MigrationError(
          ErrorCode.Internal,
          `${tableLabel(table.ref)} converts values: read it as rows`,
        );
      }
      const chunk = await inner.read(plan.sourceTable, range, encoding);
      if (chunk.data.encoding !== ChunkEncoding.Rows) return chunk;
      const rows = mapRows(chunk.data.rows, (row) => plan.convert(row));
      return { ...chunk, data: { encoding: ChunkEncoding.Rows, rows } };
    },
  };
  if (inner.encodingsOf) {
    const encodingsOf = inner.encodingsOf.bind(inner);
    source.encodingsOf = (table) => encodingsOf(view(table));
  }
  if (inner.chunksByPart !== undefined) Object.assign(source, { chunksByPart: inner.chunksByPart });
  if (inner.listSchemas) source.listSchemas = inner.listSchemas.bind(inner);
  if (inner.checksum) {
    const checksum = inner.checksum.bind(inner);
    // An engine hashes the values it holds; converted ones are hashed from the rows, in JS.
    source.checksum = (table, range, types) =>
      planOf(table)?.changesValues ? Promise.resolve(null) : checksum(view(table), range, types);
  }
  return source;
}

/** How the rows of one table are converted, and the table as its source reads it. */
export interface RowConversion {
  /** The table with every cast undone: what the underlying source reads. */
  sourceTable: TableMeta;
  /** Whether values can change on the way (a cast, or NULL / clamp for invalid ones), not only be refused. */
  changesValues: boolean;
  /**
   * Without casts, per column: the check of the target's limits and the column's policy, where one
   * applies; a reader of the source's own text applies them field by field. Undefined with casts.
   */
  checks?: (ValueCheck | undefined)[];
  /** Converts one row in place and returns it. */
  convert(row: Row): Row;
}

/** The conversion of a table's rows, or null when its values pass as they are. */
export function rowConversion(
  table: TableMeta,
  limitsOf: (engine: string, format?: string) => ValueLimits | undefined,
): RowConversion | null {
  const limits =
    table.targetEngine === undefined ? undefined : limitsOf(table.targetEngine, table.targetFormat);
  // Parts of one format may become parts of another, so object-store targets check every table.
  const crossEngine =
    table.targetEngine !== undefined &&
    (table.targetEngine !== table.engine || table.targetFormat !== undefined);
  const steps: { index: number; step: ValueCheck }[] = [];
  table.columns.forEach((column, index) => {
    const cast = column.cast ? conversion(column.cast.from, column.type)?.convert : undefined;
    const check = limits && (crossEngine || column.cast) ? limits.check(column.type) : undefined;
    if (cast || check) steps.push({ index, step: columnStep(table, column, cast, check, limits) });
  });
  if (steps.length === 0) return null;
  const sourceTable: TableMeta = {
    ...table,
    columns: table.columns.map((c) => {
      if (!c.cast) return c;
      const { cast, invalid: _invalid, ...rest } = c;
      return { ...rest, type: cast.from };
    }),
  };
  const checks = hasCasts(table)
    ? undefined
    : table.columns.map((_, index) => steps.find((s) => s.index === index)?.step);
  return {
    sourceTable,
    changesValues: table.columns.some((c) => c.cast || c.invalid),
    ...(checks ? { checks } : {}),
    convert(row) {
      // A plain loop: this runs for every row of a cross-engine copy.
      for (let i = 0; i < steps.length; i++) {
        const { index, step } = steps[i]!;
        row[index] = step(row[index] ?? null);
      }
      return row;
    },
  };
}

/** One column's conversion: the cast, then the target's limits, then the policy for what does not fit. */
function columnStep(
  table: TableMeta,
  column: ColumnMeta,
  cast: Convert | undefined,
  check: Convert | undefined,
  limits: ValueLimits | undefined,
): (value: Value) => Value {
  const settle = (value: Value | Unholdable): Value => {
    if (!(value instanceof Unholdable)) return value;
    if (column.invalid === 'null') return null;
    if (column.invalid === 'clamp' && value.nearest !== undefined) {
      const near = value.nearest === null || !check ? value.nearest : check(value.nearest);
      if (!(near instanceof Unholdable)) return near;
    }
    throw invalidValue(table, column, value, limits);
  };
  // Checked values pass straight through: the hot path of cross-engine copies has no cast.
  if (!cast && check) return (value) => (value === null ? null : settle(check(value)));
  return (value) => {
    if (value === null) return null;
    let out = cast ? cast(value) : value;
    if (check && out !== null && !(out instanceof Unholdable)) out = check(out);
    return settle(out);
  };
}

/** The error for a value that does not fit: where, which types, and how a cast rule could settle it. */
function invalidValue(
  table: TableMeta,
  column: ColumnMeta,
  value: Unholdable,
  limits: ValueLimits | undefined,
): MigrationError {
  const label = tableLabel(table.ref);
  let targetType = column.cast?.targetType ?? formatLogicalType(column.type);
  if (limits && !column.cast?.targetType) {
    try {
      // An enum's column type is named per target (PostgreSQL: `<table>_<column>`); its labels say more.
      const type = column.type.kind === 'enum' ? targetType : limits.columnType(column.type);
      targetType = `${limits.label} ${type}`;
    } catch {
      // A type the engine has no column for fails at prepare; the logical name serves here.
    }
  }
  // The first rule that matches a column applies, so a column already cast takes the policy in its rule.
  const settle =
    column.invalid === 'clamp'
      ? 'it has no nearest value to clamp to; invalid: "null" writes NULL instead'
      : column.cast
        ? `to write NULL or the nearest value instead, add invalid: "null" (or "clamp") to casts[${column.cast.rule}]`
        : `to write NULL or the nearest value instead, add { column: "${table.ref.name}.${column.name}", invalid: "null" } (or "clamp") to casts`;
  return new MigrationError(
    ErrorCode.OutOfRange,
    `${label}.${column.name} (${column.nativeType} → ${targetType}): ${value.why}, which the target cannot hold; ${settle}`,
    { table: label, column: column.name, type: column.nativeType },
  );
}
