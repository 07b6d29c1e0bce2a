import type { SchemaElement } from 'hyparquet';
import type { Value } from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import type { LogicalType } from '../../core/logical-types';
import {
  fitDecimal,
  notZeroDate,
  timeOfDay,
  Unholdable,
  type Convert,
  type ValueLimits,
} from '../../core/value-conversion';
import {
  bytesToBigInt,
  dateToDays,
  daysToDate,
  decimalByteLength,
  decimalToUnscaled,
  microsToTime,
  microsToTimestamp,
  timeToMicros,
  timestampToMicros,
  unscaledToDecimal,
} from './s3-value-text';

/*
 * Logical type → Parquet, as data. What a Parquet part gives back:
 * - boolean, int16/32/64, float64, bytes, and the text of string, text, enum, array and json: identical.
 * - float32: the same float32; a double that is not one (PostgreSQL prints `real` with 9 digits) reads
 *   back as `Math.fround` of it, which a `real` column stores identically.
 * - decimal(p,s) with 1 ≤ p and 0 ≤ s ≤ p: the same number with exactly s fraction digits; a value that
 *   would lose digits (NaN, more than p digits, non-zero digits past s) is refused with OUT_OF_RANGE.
 *   A decimal without a precision is kept as its UTF8 text, NaN included.
 * - date, time, timestamp, timestamptz: the same day or microsecond, printed canonically (fraction without
 *   trailing zeros, `+00` on timestamptz, ` BC` before year 1); `infinity` is refused with OUT_OF_RANGE.
 * - uuid: the same 16 bytes, printed lowercase with hyphens.
 * CSV and JSONL keep every value's text as it came, so they give back identical values for every type.
 * What Parquet refuses is checked before a part is encoded (`parquetValueLimits`), so a cast rule's
 * `invalid` settles it as on database targets.
 */

/** How one logical type is stored in Parquet, and how its values cross over both ways. */
export interface ParquetMapping {
  /** The schema element, without the column's name and repetition. */
  element: Omit<SchemaElement, 'name' | 'repetition_type'>;
  /** Whether min/max statistics are worth writing (not for whole JSON documents). */
  statistics: boolean;
  /** A non-null value in its `Value` form → what the Parquet writer takes. */
  toPhysical(value: Value): unknown;
  /** A non-null physical value, read with every annotation stripped → its `Value` form. */
  fromPhysical(raw: unknown): Value;
}

const wrongForm = (expected: string, value: Value): MigrationError =>
  new MigrationError(ErrorCode.UnsupportedType, `expected ${expected}, got a ${typeof value}`, {
    type: expected,
  });

const text = (value: Value): string => {
  if (typeof value !== 'string') throw wrongForm('string', value);
  return value;
};

const integer =
  (bits: 16 | 32) =>
  (value: Value): number => {
    const limit = 2 ** (bits - 1);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -limit || value >= limit)
      throw new MigrationError(ErrorCode.OutOfRange, `${String(value)} is not an int${bits}`, {
        type: `int${bits}`,
      });
    return value;
  };

const int64 = (value: Value): bigint => {
  const n = typeof value === 'bigint' ? value : typeof value === 'string' ? BigInt(value) : null;
  if (n === null) throw wrongForm('bigint', value);
  if (n < -(2n ** 63n) || n >= 2n ** 63n)
    throw new MigrationError(ErrorCode.OutOfRange, `${n} is not an int64`, { type: 'int64' });
  return n;
};

const float = (value: Value): number => {
  if (typeof value !== 'number') throw wrongForm('number', value);
  return value;
};

const bytesOf = (raw: unknown): Uint8Array => raw as Uint8Array;
const utf8Of = (raw: unknown): string => {
  const bytes = bytesOf(raw);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
};

const uuidToBytes = (value: Value): Buffer => {
  const hex = text(value).replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex))
    throw new MigrationError(ErrorCode.OutOfRange, `${JSON.stringify(value)} is not a uuid`, {
      type: 'uuid',
    });
  return Buffer.from(hex, 'hex');
};
const bytesToUuid = (raw: unknown): string =>
  Buffer.from(bytesOf(raw))
    .toString('hex')
    .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');

const utf8: ParquetMapping = {
  element: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  statistics: true,
  toPhysical: text,
  fromPhysical: utf8Of,
};

const timestamp = (zoned: boolean): ParquetMapping => ({
  // TIMESTAMP_MICROS as a converted type implies UTC, so a zoneless timestamp carries only the logical type.
  element: {
    type: 'INT64',
    ...(zoned ? { converted_type: 'TIMESTAMP_MICROS' as const } : {}),
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: zoned, unit: 'MICROS' },
  },
  statistics: true,
  toPhysical: (value) => timestampToMicros(text(value), zoned),
  fromPhysical: (raw) => microsToTimestamp(raw as bigint, zoned),
});

/** A decimal whose precision and scale Parquet's DECIMAL can carry; otherwise its text is kept as UTF8. */
const decimal = (precision: number | undefined, scale: number): ParquetMapping => {
  if (precision === undefined || precision < 1 || scale < 0 || scale > precision) return utf8;
  return {
    element: {
      type: 'FIXED_LEN_BYTE_ARRAY',
      type_length: decimalByteLength(precision),
      converted_type: 'DECIMAL',
      precision,
      scale,
      logical_type: { type: 'DECIMAL', precision, scale },
    },
    statistics: true,
    // The writer takes a bigint as the unscaled value and writes it as big-endian two's complement.
    toPhysical: (value) => decimalToUnscaled(text(value), precision, scale),
    fromPhysical: (raw) => unscaledToDecimal(bytesToBigInt(bytesOf(raw)), scale),
  };
};

/** The Parquet form of each logical type: lossless, or UTF8 text where Parquet has no exact type. */
export function parquetMapping(type: LogicalType): ParquetMapping {
  switch (type.kind) {
    case 'boolean':
      return {
        element: { type: 'BOOLEAN' },
        statistics: true,
        toPhysical: (v) => v,
        fromPhysical: (r) => r as boolean,
      };
    case 'int16':
      return {
        element: {
          type: 'INT32',
          converted_type: 'INT_16',
          logical_type: { type: 'INTEGER', bitWidth: 16, isSigned: true },
        },
        statistics: true,
        toPhysical: integer(16),
        fromPhysical: (r) => r as number,
      };
    case 'int32':
      return {
        element: { type: 'INT32' },
        statistics: true,
        toPhysical: integer(32),
        fromPhysical: (r) => r as number,
      };
    case 'int64':
      return {
        element: { type: 'INT64' },
        statistics: true,
        toPhysical: int64,
        fromPhysical: (r) => BigInt(r as bigint),
      };
    case 'float32':
      return {
        element: { type: 'FLOAT' },
        statistics: true,
        toPhysical: float,
        fromPhysical: (r) => r as number,
      };
    case 'float64':
      return {
        element: { type: 'DOUBLE' },
        statistics: true,
        toPhysical: float,
        fromPhysical: (r) => r as number,
      };
    case 'decimal':
      return decimal(type.precision, type.scale ?? 0);
    case 'bytes':
      return {
        element: { type: 'BYTE_ARRAY' },
        statistics: true,
        toPhysical: (v) => {
          if (!Buffer.isBuffer(v)) throw wrongForm('Buffer', v);
          return v;
        },
        // A copy, so a row never pins the whole part's buffer in memory.
        fromPhysical: (r) => Buffer.from(bytesOf(r)),
      };
    case 'date':
      return {
        element: { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } },
        statistics: true,
        toPhysical: (v) => dateToDays(text(v)),
        fromPhysical: (r) => daysToDate(r as number),
      };
    case 'time':
      // TIME_MICROS as a converted type implies UTC; a time of day has no zone, so only the logical type.
      return {
        element: { type: 'INT64', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MICROS' } },
        statistics: true,
        toPhysical: (v) => timeToMicros(text(v)),
        fromPhysical: (r) => microsToTime(r as bigint),
      };
    case 'timestamp':
      return timestamp(false);
    case 'timestamptz':
      return timestamp(true);
    case 'json':
      // Only the logical annotation: hyparquet-writer would re-serialise values of the JSON converted type.
      return {
        element: { type: 'BYTE_ARRAY', logical_type: { type: 'JSON' } },
        statistics: false,
        toPhysical: (v) => Buffer.from(text(v), 'utf8'),
        fromPhysical: utf8Of,
      };
    case 'uuid':
      return {
        element: { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } },
        statistics: true,
        toPhysical: uuidToBytes,
        fromPhysical: bytesToUuid,
      };
    case 'string':
    case 'text':
    case 'enum':
    case 'array':
      return utf8;
  }
}

/** The first and last microseconds of Parquet's INT64 timestamps. */
const firstMicros = -(2n ** 63n);
const lastMicros = 2n ** 63n - 1n;
/** The first and last days of Parquet's INT32 DATE. */
const firstDay = -(2 ** 31);
const lastDay = 2 ** 31 - 1;

/**
 * A date or timestamp text Parquet can hold: no MySQL zero date (no nearest), no ±infinity and no
 * instant beyond the INT32 days or INT64 microseconds (the nearest is the first or last one).
 */
function temporalRange(
  kind: string,
  parse: (stamp: string) => unknown,
  first: string,
  last: string,
): Convert {
  // One function, no chained closures: this runs for every date and timestamp copied into Parquet.
  return (value) => {
    const stamp = value as string;
    const zero = notZeroDate(stamp);
    if (zero !== stamp) return zero;
    // A four-digit year (a dash after it), BC or not: always in range, tested without a regular expression.
    if (stamp.charCodeAt(4) === 45) return stamp;
    try {
      parse(stamp);
      return stamp;
    } catch {
      const longYear = /^\d{5,}-/.test(stamp);
      if (stamp === 'infinity' || (longYear && !stamp.endsWith(' BC')))
        return new Unholdable(`${stamp} is after the last ${kind} Parquet holds`, last);
      if (stamp === '-infinity' || longYear)
        return new Unholdable(`${stamp} is before the first ${kind} Parquet holds`, first);
      return new Unholdable(`${JSON.stringify(stamp)} is not a ${kind} Parquet can hold exactly`);
    }
  };
}

const dateRange = temporalRange('date', dateToDays, daysToDate(firstDay), daysToDate(lastDay));
const timestampRange = (zoned: boolean): Convert =>
  temporalRange(
    zoned ? 'timestamptz' : 'timestamp',
    (stamp) => timestampToMicros(stamp, zoned),
    microsToTimestamp(firstMicros, zoned),
    microsToTimestamp(lastMicros, zoned),
  );

/** The Parquet type of a logical type as messages show it, e.g. `DECIMAL(12,2)` or `TIMESTAMP(MICROS, UTC)`. */
function parquetColumnType(type: LogicalType): string {
  const { element } = parquetMapping(type);
  const logical = element.logical_type;
  if (!logical) return element.type ?? 'BYTE_ARRAY';
  switch (logical.type) {
    case 'DECIMAL':
      return `DECIMAL(${logical.precision},${logical.scale})`;
    case 'TIMESTAMP':
      return `TIMESTAMP(MICROS${logical.isAdjustedToUTC ? ', UTC' : ''})`;
    case 'TIME':
      return 'TIME(MICROS)';
    default:
      return logical.type;
  }
}

/**
 * What Parquet columns cannot hold, as data: decimals of a DECIMAL(p,s) column that do not fit it
 * (NaN has no nearest; ±Infinity and too many digits clamp to the widest value, extra fraction digits
 * round half away from zero), MySQL's zero dates, ±infinity and instants beyond INT32 days or INT64
 * microseconds (the first or last one Parquet holds), times of day outside 00:00:00–24:00:00. CSV
 * and JSONL parts keep every value's text, so they hold every value.
 */
export const parquetValueLimits: ValueLimits = {
  label: 'Parquet',
  columnType: parquetColumnType,
  check(type) {
    switch (type.kind) {
      case 'decimal':
        return parquetMapping(type).element.logical_type?.type === 'DECIMAL'
          ? (value) => fitDecimal(value as string, type)
          : undefined;
      case 'date':
        return dateRange;
      case 'timestamp':
        return timestampRange(false);
      case 'timestamptz':
        return timestampRange(true);
      case 'time':
        return timeOfDay;
      default:
        return undefined;
    }
  },
};
