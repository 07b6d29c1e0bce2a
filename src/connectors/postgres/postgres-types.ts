import type { LogicalType } from '../../core/logical-types';
import { Unholdable, type Convert, type ValueLimits } from '../../core/value-conversion';

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

/** A date PostgreSQL can hold: not one of MySQL's zero dates (`0000-00-00`, `2024-00-15`, year 0), which have no nearest. */
const noZeroDate: Convert = (value) => {
  const text = value as string;
  // Character tests, no regular expression or closure: this runs for every date of a MySQL → PostgreSQL copy.
  const dash = text.charCodeAt(4) === 45 ? 4 : text.indexOf('-');
  const zeroMonth = text.charCodeAt(dash + 1) === 48 && text.charCodeAt(dash + 2) === 48;
  const zeroDay = text.charCodeAt(dash + 4) === 48 && text.charCodeAt(dash + 5) === 48;
  const zeroYear = text.charCodeAt(0) === 48 && /^0+-/.test(text);
  return dash > 0 && (zeroMonth || zeroDay || zeroYear) ? new Unholdable(`the zero date ${text}`) : text;
};

/** A time of day PostgreSQL can hold: 00:00:00–24:00:00 (MySQL's TIME spans ±838 hours); the nearest is the bound. */
const timeOfDay: Convert = (value) => {
  const text = value as string;
  const m = /^(-?)(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(text);
  if (!m) return text;
  if (m[1])
    return /[1-9]/.test(text) ? new Unholdable(`the negative time ${text}`, '00:00:00') : text.slice(1);
  const hours = Number(m[2]);
  if (hours > 24 || (hours === 24 && /[1-9]/.test(`${m[3]}${m[4]}`)))
    return new Unholdable(`the time ${text} is past 24:00:00`, '24:00:00');
  return text;
};

/**
 * What PostgreSQL columns cannot hold, as data: a NUL byte in any text, MySQL's zero dates, times of
 * day outside 00:00–24:00. Floats and numerics hold NaN and the infinities.
 */
export const postgresValueLimits: ValueLimits = {
  label: 'PostgreSQL',
  columnType: logicalToPostgres,
  check(type) {
    switch (type.kind) {
      case 'string':
      case 'text':
      case 'json':
      case 'enum':
      case 'array':
        return noNul;
      case 'date':
      case 'timestamp':
      case 'timestamptz':
        return noZeroDate;
      case 'time':
        return timeOfDay;
      default:
        return undefined;
    }
  },
};
