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

/** The kinds whose value is free text: any character of the column's character set, escapes included. */
export const textualKinds: ReadonlySet<LogicalKind> = new Set(['string', 'text', 'json', 'enum']);

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

/** The scalar logical type names, as {@link formatLogicalType} prints them (enums carry labels besides). */
const scalarTypeName =
  /(?:boolean|int16|int32|int64|float32|float64|text|bytes|date|json|uuid|decimal(?:\(\d{1,4}(?:,\d{1,4})?\))?|string(?:\(\d{1,9}\))?|(?:time|timestamp|timestamptz)(?:\([0-6]\))?)/
    .source;

/**
 * The logical type names a cast rule may name (`to`), as {@link formatLogicalType} prints them:
 * `boolean`, `int16`…`float64`, `decimal[(p[,s])]`, `string[(n)]`, `text`, `bytes`, `date`,
 * `time|timestamp|timestamptz[(0-6)]`, `json`, `uuid`; an array of one of those, e.g. `int32[]`;
 * and `enum`, whose labels the rule gives apart (`values`).
 */
export const castTargetPattern = new RegExp(`^(?:enum|${scalarTypeName}(?:\\[\\])?)$`);

/**
 * Reads a logical type name such as `decimal(12,2)`, `timestamp(3)` or `int32[]`; `enum` with its
 * labels. Null when it is not one of {@link castTargetPattern}, or an enum without labels.
 */
export function parseLogicalType(text: string, labels?: readonly string[]): LogicalType | null {
  const name = text.trim();
  if (!castTargetPattern.test(name)) return null;
  if (name === 'enum') return labels?.length ? { kind: 'enum', values: [...labels] } : null;
  if (name.endsWith('[]')) {
    const element = parseLogicalType(name.slice(0, -2));
    return element && { kind: 'array', element };
  }
  const m = /^(\w+)(?:\((\d+)(?:,(\d+))?\))?$/.exec(name)!;
  const kind = m[1] as LogicalKind;
  const n = m[2] === undefined ? undefined : Number(m[2]);
  switch (kind) {
    case 'decimal': {
      if (n === undefined) return { kind };
      const scale = Number(m[3] ?? 0);
      return n >= 1 && scale <= n ? { kind, precision: n, scale } : null;
    }
    case 'string':
      return n === undefined ? { kind } : { kind, length: n };
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return n === undefined ? { kind } : { kind, precision: n };
    default:
      return { kind } as LogicalType;
  }
}
