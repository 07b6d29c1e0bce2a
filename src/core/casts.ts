import { ErrorCode, MigrationError } from './errors';
import { formatLogicalType, parseLogicalType } from './logical-types';
import { globToRegExp } from './selection';
import { tableLabel, type ColumnMeta, type TableMeta } from './table';
import { conversion } from './value-conversion';

/**
 * A cast rule of the job spec (pgloader-style): which columns, by `table.column` glob and/or by the
 * source's native type, get which logical type, and what happens to values the target cannot hold.
 * The first rule that matches a column applies to it; a column no rule matches keeps its mapping.
 */
export interface CastRule {
  /** `table.column`, with `*` and `?` globs; a partition also matches by its parent table's name. */
  column?: string;
  /** The source's native type as `mms plan` shows it (`tinyint(1)`, `json`, `numeric(12,2)`); a glob, any case. */
  type?: string;
  /** The logical type the column becomes (`boolean`, `text`, `decimal(12,2)`, `int32[]`, `enum`, …); absent, it keeps its own. */
  to?: string;
  /** The labels of `to: enum`, in order; absent, an enum column keeps its own. */
  values?: string[];
  /** The target's native column type, used as is in the DDL (e.g. `jsonb`); values still travel as `to`. */
  targetType?: string;
  /** Allows a lossy conversion: one that changes values it accepts (rounding, dropping a zone). */
  lossy?: boolean;
  /** A value the target cannot hold: an error (the default), NULL, or the nearest value it can hold. */
  invalid?: 'error' | 'null' | 'clamp';
}

/** Database targets, whose DDL a rule's `targetType` can name. */
const ddlEngines = new Set(['postgres', 'mysql']);

/** Whether a rule matches a column of a table (a partition also by its parent's name). */
export function ruleMatches(rule: CastRule, table: TableMeta, column: ColumnMeta): boolean {
  if (rule.column) {
    const pattern = globToRegExp(rule.column);
    const names = [table.ref.name, ...(table.partition ? [table.partition.parent] : [])];
    if (!names.some((t) => pattern.test(`${t}.${column.name}`))) return false;
  }
  if (rule.type) {
    const pattern = new RegExp(globToRegExp(rule.type.trim()).source, 'i');
    // MySQL discovery appends ` COLLATE …` to text types; a rule names the type without it.
    const base = column.nativeType.replace(/ COLLATE \S+$/, '');
    if (!pattern.test(column.nativeType) && !pattern.test(base)) return false;
  }
  return rule.column !== undefined || rule.type !== undefined;
}

/**
 * Applies the spec's cast rules to one discovered table, for a target of `targetEngine`: cast columns
 * get their new logical type (the source still reads the old one, see `ColumnMeta.cast`), and the
 * table records the target's engine, whose limits its values are held to on the way. Refuses, before
 * anything is copied: a lossy cast its rule does not allow (LOSSY_CONVERSION), a cast with no
 * conversion (UNSUPPORTED_TYPE), and a cast of a primary-key column (BAD_SPEC: key ranges compare keys).
 */
export function applyCasts(
  table: TableMeta,
  rules: readonly CastRule[],
  targetEngine?: string,
  targetFormat?: string,
): TableMeta {
  const label = tableLabel(table.ref);
  const columns = table.columns.map((column): ColumnMeta => {
    const index = rules.findIndex((r) => ruleMatches(r, table, column));
    const rule = rules[index];
    if (!rule) return column;
    const where = `${label}.${column.name}`;
    const isKey = table.primaryKey.includes(column.name);
    let out: ColumnMeta = column;
    if (rule.to !== undefined || rule.targetType !== undefined) {
      if (isKey) {
        throw new MigrationError(
          ErrorCode.BadSpec,
          `casts[${index}] matches the primary-key column ${where}: key columns keep their type, because chunk ranges and verification compare keys on both sides`,
          { table: label, column: column.name, path: `casts[${index}]` },
        );
      }
      if (rule.targetType !== undefined && targetEngine !== undefined && !ddlEngines.has(targetEngine)) {
        throw new MigrationError(
          ErrorCode.BadSpec,
          `casts[${index}]: targetType names a database column type; a ${targetEngine} target has none (${where})`,
          { table: label, column: column.name, path: `casts[${index}]` },
        );
      }
      if (rule.to?.trim() === 'enum' && !rule.values && column.type.kind !== 'enum') {
        throw new MigrationError(
          ErrorCode.BadSpec,
          `casts[${index}] casts ${where} (${column.nativeType}) to enum without labels: list them in "values" (only an enum column has labels of its own)`,
          { table: label, column: column.name, path: `casts[${index}].values` },
        );
      }
      const labels = rule.values ?? (column.type.kind === 'enum' ? column.type.values : undefined);
      const to = rule.to === undefined ? column.type : parseLogicalType(rule.to, labels);
      if (!to) {
        throw new MigrationError(ErrorCode.BadSpec, `casts[${index}].to: no logical type ${rule.to}`, {
          path: `casts[${index}].to`,
        });
      }
      const types = `${column.nativeType} (${formatLogicalType(column.type)}) to ${formatLogicalType(to)}`;
      const found = conversion(column.type, to);
      if (!found) {
        throw new MigrationError(
          ErrorCode.UnsupportedType,
          `${where}: no conversion from ${types} (casts[${index}])`,
          { table: label, column: column.name, type: column.nativeType },
        );
      }
      if (found.kind === 'lossy' && !rule.lossy) {
        throw new MigrationError(
          ErrorCode.LossyConversion,
          `${where}: casting ${types} is lossy (it ${found.why}); allow it with "lossy: true" in casts[${index}]`,
          { table: label, column: column.name, type: column.nativeType },
        );
      }
      const { unmapped: _unmapped, ...mapped } = column;
      out = {
        ...mapped,
        type: to,
        cast: {
          from: column.type,
          conversion: found.kind,
          rule: index,
          ...(rule.targetType === undefined ? {} : { targetType: rule.targetType }),
        },
      };
    }
    // A key value the target cannot hold always fails: a key is never NULL nor moved onto another's.
    if (rule.invalid === 'null' && !isKey) return { ...out, invalid: 'null', nullable: true };
    if (rule.invalid === 'clamp' && !isKey) return { ...out, invalid: 'clamp' };
    return out;
  });
  return {
    ...table,
    columns,
    ...(targetEngine === undefined ? {} : { targetEngine }),
    ...(targetFormat === undefined ? {} : { targetFormat }),
  };
}

/** Whether any column of a table is cast, so its values are converted on the way (and travel as rows). */
export function hasCasts(table: TableMeta): boolean {
  return table.columns.some((c) => c.cast);
}

/** How `mms plan` shows a column's cast, e.g. `int16 → boolean, narrowing, casts[0]`; undefined without one. */
export function describeCast(column: ColumnMeta): string | undefined {
  const parts = [
    ...(column.cast
      ? [
          `${formatLogicalType(column.cast.from)} → ${formatLogicalType(column.type)}`,
          column.cast.conversion,
          ...(column.cast.targetType ? [`as ${column.cast.targetType}`] : []),
          `casts[${column.cast.rule}]`,
        ]
      : []),
    ...(column.invalid ? [`invalid values → ${column.invalid === 'null' ? 'NULL' : 'clamped'}`] : []),
  ];
  return parts.length ? parts.join(', ') : undefined;
}
