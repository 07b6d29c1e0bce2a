/**
 * Canonical logical types: every native column type maps onto one of these and back.
 * They carry exactly the facts a target needs to hold a value without loss.
 */
export type LogicalType =
  | { kind: 'boolean' }
  | { kind: 'int16' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  | { kind: 'float32' }
  | { kind: 'float64' }
  | { kind: 'decimal'; precision?: number; scale?: number }
  | { kind: 'string'; length?: number }
  | { kind: 'text' }
  | { kind: 'bytes' }
  | { kind: 'date' }
  | { kind: 'time'; precision?: number }
  | { kind: 'timestamp'; precision?: number }
  | { kind: 'timestamptz'; precision?: number }
  | { kind: 'json' }
  | { kind: 'uuid' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'array'; element: LogicalType };

/** The names of the logical type kinds. */
export type LogicalKind = LogicalType['kind'];

/** Prints a logical type the way plans and reports show it, e.g. `decimal(12,2)`. */
export function formatLogicalType(type: LogicalType): string {
  switch (type.kind) {
    case 'decimal':
      return type.precision === undefined ? 'decimal' : `decimal(${type.precision},${type.scale ?? 0})`;
    case 'string':
      return type.length === undefined ? 'string' : `string(${type.length})`;
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return type.precision === undefined ? type.kind : `${type.kind}(${type.precision})`;
    case 'enum':
      return `enum(${type.values.join(',')})`;
    case 'array':
      return `${formatLogicalType(type.element)}[]`;
    default:
      return type.kind;
  }
}
