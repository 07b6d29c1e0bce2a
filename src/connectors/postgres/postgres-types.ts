import type { TableMeta } from '../../core/table';
import type { LogicalKind, LogicalType } from '../../core/logical-types';
import {
  notZeroDate,
  timeOfDay,
  Unholdable,
  type Convert,
  type ValueLimits,
} from '../../core/value-conversion';

/**
 * PostgreSQL ⇄ logical type mapping, as data: each rule matches the text of
 * `format_type()` and says which logical type it is. Types that match no rule are
 * "unmapped": PostgreSQL → PostgreSQL keeps them by their native name, other targets refuse them.
 */
interface NativeRule {
  pattern: RegExp;
  toLogical(match: RegExpMatchArray): LogicalType;
}

const optionalNumber = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : Number(text);

const nativeRules: NativeRule[] = [
  { pattern: /^boolean$/, toLogical: () => ({ kind: 'boolean' }) },
  { pattern: /^smallint$/, toLogical: () => ({ kind: 'int16' }) },
  { pattern: /^integer$/, toLogical: () => ({ kind: 'int32' }) },
  { pattern: /^bigint$/, toLogical: () => ({ kind: 'int64' }) },
  { pattern: /^real$/, toLogical: () => ({ kind: 'float32' }) },
  { pattern: /^double precision$/, toLogical: () => ({ kind: 'float64' }) },
  {
    pattern: /^numeric(?:\((\d+)(?:,(\d+))?\))?$/,
    toLogical: (m) => ({
      kind: 'decimal',
      precision: optionalNumber(m[1]),
      scale: optionalNumber(m[2] ?? (m[1] ? '0' : undefined)),
    }),
  },
  {
    pattern: /^character varying(?:\((\d+)\))?$/,
    toLogical: (m) => ({ kind: 'string', length: optionalNumber(m[1]) }),
  },
  { pattern: /^text$/, toLogical: () => ({ kind: 'text' }) },
  { pattern: /^bytea$/, toLogical: () => ({ kind: 'bytes' }) },
  { pattern: /^date$/, toLogical: () => ({ kind: 'date' }) },
  {
    pattern: /^time(?:\((\d)\))? without time zone$/,
    toLogical: (m) => ({ kind: 'time', precision: optionalNumber(m[1]) ?? 6 }),
  },
  {
    pattern: /^timestamp(?:\((\d)\))? without time zone$/,
    toLogical: (m) => ({ kind: 'timestamp', precision: optionalNumber(m[1]) ?? 6 }),
  },
  {
    pattern: /^timestamp(?:\((\d)\))? with time zone$/,
    toLogical: (m) => ({ kind: 'timestamptz', precision: optionalNumber(m[1]) ?? 6 }),
  },
  { pattern: /^jsonb?$/, toLogical: () => ({ kind: 'json' }) },
  { pattern: /^uuid$/, toLogical: () => ({ kind: 'uuid' }) },
];

/** Maps a `format_type()` text to its logical type, or null when no rule knows it. */
export function postgresToLogical(nativeType: string): LogicalType | null {
  if (nativeType.endsWith('[]')) {
    const element = postgresToLogical(nativeType.slice(0, -2));
    return element ? { kind: 'array', element } : null;
  }
  for (const rule of nativeRules) {
    const match = nativeType.match(rule.pattern);
    if (match) return rule.toLogical(match);
  }
  return null;
}

const precisionSuffix = (precision: number | undefined): string =>
  precision === undefined ? '' : `(${precision})`;

/** Generates the PostgreSQL column type for a logical type. */
export function logicalToPostgres(type: LogicalType): string {
  switch (type.kind) {
    case 'boolean':
      return 'boolean';
    case 'int16':
      return 'smallint';
    case 'int32':
      return 'integer';
    case 'int64':
      return 'bigint';
    case 'float32':
      return 'real';
    case 'float64':
      return 'double precision';
    case 'decimal':
      return type.precision === undefined ? 'numeric' : `numeric(${type.precision},${type.scale ?? 0})`;
    case 'string':
      return type.length === undefined ? 'character varying' : `character varying(${type.length})`;
    case 'text':
      return 'text';
    case 'bytes':
      return 'bytea';
    case 'date':
      return 'date';
    case 'time':
      return `time${precisionSuffix(type.precision)} without time zone`;
    case 'timestamp':
      return `timestamp${precisionSuffix(type.precision)} without time zone`;
    case 'timestamptz':
      return `timestamp${precisionSuffix(type.precision)} with time zone`;
    // json keeps the source text byte for byte; jsonb would reorder keys and drop whitespace.
    case 'json':
      return 'json';
    case 'uuid':
      return 'uuid';
    // An enum needs a named type; text keeps every label without one.
    case 'enum':
      return 'text';
    case 'array':
      return `${logicalToPostgres(type.element)}[]`;
  }
}

/** Text PostgreSQL can hold: any without a NUL byte; the nearest drops the NULs. */
const noNul: Convert = (value) => {
  const text = value as string;
  return text.includes('\0') ? new Unholdable('a NUL byte in text', text.replaceAll('\0', '')) : text;
};

/**
 * A date or timestamp PostgreSQL can hold: not a MySQL zero date (no nearest), and within
 * 4714-11-24 BC – 5874897-12-31 (dates) or – 294276-12-31 23:59:59.999999 (timestamps), the nearest
 * being the first or last one; ±infinity it holds. Such years come from object stores: a Parquet
 * timestamp reaches 294247 AD and 290309 BC.
 */
function yearRange(type: LogicalType & { kind: 'date' | 'timestamp' | 'timestamptz' }): Convert {
  const zone = type.kind === 'timestamptz' ? '+00' : '';
  const digits = type.kind === 'date' ? 0 : Math.min(type.precision ?? 6, 6);
  const first = type.kind === 'date' ? '4714-11-24 BC' : `4714-11-24 00:00:00${zone} BC`;
  const lastDay = type.kind === 'date' ? '5874897-12-31' : '294276-12-31';
  const last =
    type.kind === 'date' ? lastDay : `${lastDay} 23:59:59${digits ? `.${'9'.repeat(digits)}` : ''}${zone}`;
  // One function, no chained closures: this runs for every date of a MySQL → PostgreSQL copy.
  return (value) => {
    const text = value as string;
    const zero = notZeroDate(text);
    if (zero !== text) return zero;
    // A four-digit year AD: the common case, tested without a regular expression.
    const bc = text.endsWith(' BC');
    if (text.charCodeAt(4) === 45 && !bc) return text;
    const dash = text.indexOf('-', 1);
    if (dash < 4) return text; // infinity, -infinity
    const day = text.slice(0, dash + 6);
    if (bc) {
      const before = dash > 4 || day > '4714-99' || (day.startsWith('4714-') && day < '4714-11-24');
      return before
        ? new Unholdable(`${text} is before the first ${type.kind} PostgreSQL holds`, first)
        : text;
    }
    const after = dash > lastDay.indexOf('-') || (dash === lastDay.indexOf('-') && day > lastDay);
    return after ? new Unholdable(`${text} is after the last ${type.kind} PostgreSQL holds`, last) : text;
  };
}

/** The kinds whose only limit in PostgreSQL is the NUL character: a text without one passes their check. */
export const nulOnlyKinds: ReadonlySet<LogicalKind> = new Set(['string', 'text', 'json', 'enum', 'array']);

/**
 * What PostgreSQL columns cannot hold, as data: a NUL byte in any text, MySQL's zero dates, years
 * outside its date and timestamp ranges, times of day outside 00:00–24:00. Floats and numerics hold
 * NaN and the infinities.
 */
export const postgresValueLimits: ValueLimits = {
  label: 'PostgreSQL',
  columnType: logicalToPostgres,
  check(type) {
    if (nulOnlyKinds.has(type.kind)) return noNul;
    switch (type.kind) {
      case 'date':
      case 'timestamp':
      case 'timestamptz':
        return yearRange(type);
      case 'time':
        return timeOfDay;
      default:
        return undefined;
    }
  },
};

/**
 * Built-in types whose COPY binary form carries no object id of a user type, so another PostgreSQL
 * database reads it back as the same value (arrays, enums, domains and composites carry their OIDs).
 */
const binaryCopyTypes =
  /^(?:smallint|integer|bigint|numeric(?:\(\d+,\d+\))?|real|double precision|boolean|text|character varying(?:\(\d+\))?|character(?:\(\d+\))?|bytea|date|timestamp(?:\(\d\))? with(?:out)? time zone|time(?:\(\d\))? without time zone|uuid|jsonb?)$/;

/** Whether a table's rows can travel as COPY binary: every column a built-in type above, no constants. */
export const binaryCopyFits = (table: TableMeta): boolean =>
  !table.constantColumns?.length && table.columns.every((c) => binaryCopyTypes.test(c.nativeType));
