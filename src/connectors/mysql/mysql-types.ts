import type { FieldDecoder, Value } from '../../core/connector';
import { ErrorCode, MigrationError } from '../../core/errors';
import { formatLogicalType, type LogicalType } from '../../core/logical-types';
import type { ColumnMeta } from '../../core/table';
import {
  float32Max,
  shortestFloat32,
  Unholdable,
  type Convert,
  type ValueLimits,
} from '../../core/value-conversion';

/**
 * MySQL/MariaDB ⇄ logical type mapping, as data. Rules match `information_schema.COLUMNS.COLUMN_TYPE`
 * (e.g. `int(10) unsigned`, `decimal(12,2)`, `enum('a','b')`), optionally followed by the
 * ` COLLATE …` that discovery appends. Types that match no rule (set, bit, year, geometries…) are
 * "unmapped": MySQL → MySQL keeps them by their native type, other targets refuse them.
 */
interface NativeRule {
  pattern: RegExp;
  toLogical(match: RegExpMatchArray): LogicalType;
}

const int16: LogicalType = { kind: 'int16' };
const int32: LogicalType = { kind: 'int32' };
const int64: LogicalType = { kind: 'int64' };

/** Integer types, signed and unsigned: an unsigned type needs the next wider logical type. */
const integerTypes: Record<string, { signed: LogicalType; unsigned: LogicalType }> = {
  // tinyint(1) stays a number: MySQL has no boolean, and guessing one would be a silent type change.
  tinyint: { signed: int16, unsigned: int16 },
  smallint: { signed: int16, unsigned: int32 },
  mediumint: { signed: int32, unsigned: int32 },
  int: { signed: int32, unsigned: int64 },
  // 2^64-1 fits no signed 64-bit integer; decimal(20,0) holds every value exactly.
  bigint: { signed: int64, unsigned: { kind: 'decimal', precision: 20, scale: 0 } },
};

/** Reads the labels of `enum('a','b''c')`: quotes are doubled and backslashes escaped in COLUMN_TYPE. */
export function parseEnumValues(list: string): string[] {
  return [...list.matchAll(/'((?:[^'\\]|''|\\.)*)'/g)].map((m) =>
    (m[1] ?? '').replace(/''|\\(.)/g, (s, escaped: string | undefined) => escaped ?? "'"),
  );
}

const nativeRules: NativeRule[] = [
  {
    pattern: /^(tinyint|smallint|mediumint|int|bigint)(?:\(\d+\))?( unsigned)?( zerofill)?$/,
    toLogical: (m) => integerTypes[m[1]!]![m[2] ? 'unsigned' : 'signed'],
  },
  { pattern: /^float(?:\(\d+,\d+\))?( unsigned)?( zerofill)?$/, toLogical: () => ({ kind: 'float32' }) },
  { pattern: /^double(?:\(\d+,\d+\))?( unsigned)?( zerofill)?$/, toLogical: () => ({ kind: 'float64' }) },
  {
    pattern: /^decimal\((\d+),(\d+)\)( unsigned)?( zerofill)?$/,
    toLogical: (m) => ({ kind: 'decimal', precision: Number(m[1]), scale: Number(m[2]) }),
  },
  { pattern: /^(?:var)?char\((\d+)\)$/, toLogical: (m) => ({ kind: 'string', length: Number(m[1]) }) },
  { pattern: /^(?:tiny|medium|long)?text$/, toLogical: () => ({ kind: 'text' }) },
  { pattern: /^(?:var)?binary\(\d+\)$|^(?:tiny|medium|long)?blob$/, toLogical: () => ({ kind: 'bytes' }) },
  { pattern: /^date$/, toLogical: () => ({ kind: 'date' }) },
  // No fractional digits in COLUMN_TYPE means precision 0, not the PostgreSQL default of 6.
  { pattern: /^time(?:\((\d)\))?$/, toLogical: (m) => ({ kind: 'time', precision: Number(m[1] ?? 0) }) },
  {
    pattern: /^datetime(?:\((\d)\))?$/,
    toLogical: (m) => ({ kind: 'timestamp', precision: Number(m[1] ?? 0) }),
  },
  // TIMESTAMP stores an instant (converted through the session time zone, which we pin to UTC).
  {
    pattern: /^timestamp(?:\((\d)\))?$/,
    toLogical: (m) => ({ kind: 'timestamptz', precision: Number(m[1] ?? 0) }),
  },
  // MariaDB's JSON is longtext with a json_valid check; discovery reports such columns as `json`.
  { pattern: /^json$/, toLogical: () => ({ kind: 'json' }) },
  // MariaDB 10.7+ has a native uuid type.
  { pattern: /^uuid$/, toLogical: () => ({ kind: 'uuid' }) },
  { pattern: /^enum\((.*)\)$/, toLogical: (m) => ({ kind: 'enum', values: parseEnumValues(m[1] ?? '') }) },
];

/** The type text without the ` COLLATE …` suffix that discovery keeps for same-engine DDL. */
export function baseNativeType(nativeType: string): string {
  return nativeType.replace(/ COLLATE \w+$/, '');
}

/** Maps a `COLUMN_TYPE` text to its logical type, or null when no rule knows it. */
export function mysqlToLogical(nativeType: string): LogicalType | null {
  const base = baseNativeType(nativeType).toLowerCase();
  for (const rule of nativeRules) {
    const match = base.match(rule.pattern);
    if (match) return rule.toLogical(match);
  }
  return null;
}

/** Largest varchar whose utf8mb4 bytes (4 per character) fit MySQL's 65,535-byte row limit. */
const maxVarcharChars = 16_383;
/** Largest mediumtext in utf8mb4 characters (16 MiB / 4). */
const maxMediumtextChars = 4_194_303;

const fractional = (precision: number | undefined): string => `(${Math.min(precision ?? 6, 6)})`;

/** A string literal, for a session with backslash escapes on (our pools never set NO_BACKSLASH_ESCAPES). */
export const quoteLiteral = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** Generates the MySQL column type for a logical type; throws UNSUPPORTED_TYPE where MySQL has none. */
export function logicalToMysql(type: LogicalType): string {
  switch (type.kind) {
    case 'boolean':
      return 'tinyint(1)';
    case 'int16':
      return 'smallint';
    case 'int32':
      return 'int';
    case 'int64':
      return 'bigint';
    case 'float32':
      return 'float';
    case 'float64':
      return 'double';
    case 'decimal':
      // An unbounded decimal (PostgreSQL `numeric`) gets MySQL's widest; a value that does not
      // fit makes the server refuse the row (OUT_OF_RANGE), never a silent rounding.
      if (type.precision === undefined) return 'decimal(65,30)';
      if (type.precision > 65 || (type.scale ?? 0) > 30)
        throw unsupported(type, 'MySQL decimals stop at (65,30)');
      return `decimal(${type.precision},${type.scale ?? 0})`;
    case 'string':
      if (type.length === undefined) return 'longtext';
      if (type.length <= maxVarcharChars) return `varchar(${type.length})`;
      return type.length <= maxMediumtextChars ? 'mediumtext' : 'longtext';
    case 'text':
      return 'longtext';
    case 'bytes':
      return 'longblob';
    case 'date':
      return 'date';
    case 'time':
      return `time${fractional(type.precision)}`;
    case 'timestamp':
      return `datetime${fractional(type.precision)}`;
    // DATETIME holding UTC: MySQL's TIMESTAMP would be the instant type, but it only spans 1970–2038.
    case 'timestamptz':
      return `datetime${fractional(type.precision)}`;
    case 'json':
      return 'json';
    case 'uuid':
      return 'char(36)';
    case 'enum':
      // MySQL strips trailing spaces from ENUM labels, and would store `'a '` as `'a'`.
      if (type.values.some((label) => label.endsWith(' ')))
        throw unsupported(type, 'MySQL strips trailing spaces from ENUM labels');
      return `enum(${type.values.map(quoteLiteral).join(',')})`;
    case 'array':
      throw unsupported(type, 'MySQL has no array type');
  }
}

function unsupported(type: LogicalType, why: string): MigrationError {
  return new MigrationError(ErrorCode.UnsupportedType, `${formatLogicalType(type)}: ${why}`, {
    type: formatLogicalType(type),
  });
}

/**
 * The type a primary-key column gets: InnoDB cannot index a whole text or blob, so those become
 * varchar(768) / varbinary(3072), the widest that fit its 3,072-byte key limit in utf8mb4.
 */
export function keyColumnType(columnType: string): string {
  return columnType
    .replace(/^(?:tiny|medium|long)?text\b/i, 'varchar(768)')
    .replace(/^(?:tiny|medium|long)?blob$/i, 'varbinary(3072)');
}

/**
 * How a column's value travels when it needs an SQL expression on the way out of or into MySQL.
 * `read` wraps the column in the SELECT; `load` wraps the bound field (`?` or a LOAD DATA `@var`).
 */
export interface TransferForm {
  read(column: string): string;
  load(field: string): string;
}

const plain: TransferForm = { read: (c) => c, load: (f) => f };
const hexLoad: TransferForm = { read: (c) => c, load: (f) => `UNHEX(${f})` };

const transferRules: { pattern: RegExp; form: TransferForm }[] = [
  // Floats travel as the server's shortest exact text: mysql2's own float parser rounds some doubles
  // (90.66666666666667 → 90.66666666666669), and FLOAT alone prints only 6 significant digits.
  { pattern: /^float/, form: { read: (c) => `CAST(CAST(${c} AS DOUBLE) AS CHAR)`, load: (f) => f } },
  { pattern: /^double/, form: { read: (c) => `CAST(${c} AS CHAR)`, load: (f) => f } },
  // BIT arrives as a binary string LOAD DATA cannot parse back; its integer value travels instead.
  {
    pattern: /^bit\(/,
    form: { read: (c) => `CAST(${c} AS UNSIGNED)`, load: (f) => `CAST(${f} AS UNSIGNED)` },
  },
  // Geometries travel as hex of the internal format (SRID + WKB), which the server takes back as is.
  {
    pattern:
      /^(?:geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection)$/,
    form: { read: (c) => `HEX(${c})`, load: (f) => `UNHEX(${f})` },
  },
];

/** The transfer form of a column: bytes travel as hex text, a few native types through casts. */
export function transferForm(column: ColumnMeta, nativeSource: boolean): TransferForm {
  if (column.type.kind === 'bytes') return hexLoad;
  // A column a cast rule changed arrives in its new logical type's form, not its native one.
  if (!nativeSource || column.cast) return plain;
  const base = baseNativeType(column.nativeType).toLowerCase();
  return transferRules.find((r) => r.pattern.test(base))?.form ?? plain;
}

/** MySQL prints every fractional digit of the column; the Value forms drop trailing zeros, as PostgreSQL does. */
/** Drops a fraction's trailing zeros, and its dot when nothing is left (`12.500` → `12.5`, `1.000` → `1`). */
function trimFraction(text: string): string {
  const dot = text.lastIndexOf('.');
  if (dot === -1) return text;
  let end = text.length;
  for (let i = dot + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return text; // not a plain fraction: left as it is
  }
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--;
  if (end === dot + 1) end = dot;
  return end === text.length ? text : text.slice(0, end);
}

/** Builds the converter from what mysql2 returns (with our pool options) to the lossless {@link Value} form. */
export function valueReader(type: LogicalType): (raw: unknown) => Value {
  const read = ((): ((raw: unknown) => Value) => {
    switch (type.kind) {
      case 'boolean':
        return (raw) => Number(raw) !== 0;
      case 'int16':
      case 'int32':
      case 'float64':
        return (raw) => Number(raw);
      case 'float32':
        return (raw) => shortestFloat32(Number(raw));
      case 'int64':
        return (raw) => BigInt(raw as string | number);
      case 'bytes':
        return (raw) => (Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
      case 'time':
      case 'timestamp':
        return (raw) => trimFraction(String(raw));
      // The session time zone is UTC, so the text is already the instant in UTC.
      case 'timestamptz':
        return (raw) => `${trimFraction(String(raw))}+00`;
      default:
        return (raw) => (Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw));
    }
  })();
  return (raw) => (raw === null || raw === undefined ? null : read(raw));
}

/** Reads one field of the text protocol's bytes (a `typeCast: false` result) as {@link valueReader} reads mysql2's value. */
export function fieldDecoder(type: LogicalType): FieldDecoder {
  const read = valueReader(type);
  // Bytes stay the packet's bytes, as mysql2 itself returns a blob.
  return type.kind === 'bytes' ? read : (field) => read(field.toString('utf8'));
}

/**
 * The text MySQL parses back into the column, or null for NULL: bytes as hex (loaded through UNHEX),
 * booleans as 1/0, timestamptz without its `+00` (the DATETIME holds UTC).
 */
export function fieldText(value: Value, type: LogicalType, column: string): string | null {
  if (value === null) return null;
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new MigrationError(ErrorCode.OutOfRange, `MySQL cannot store ${value} (column ${column})`, {
        column,
      });
    }
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (type.kind === 'timestamptz') return value.replace(/(?:\+00(?::?00)?|Z)$/, '');
  return value;
}

/** A float MySQL can hold: any but NaN; an infinity's nearest is the largest finite value. */
const finiteFloat =
  (max: number): Convert =>
  (value) => {
    const n = value as number;
    if (Number.isFinite(n)) return n;
    return Number.isNaN(n) ? new Unholdable('NaN') : new Unholdable(String(n), Math.sign(n) * max);
  };

/** A decimal MySQL can hold: no NaN; an infinity's nearest is the widest value of the column. */
const finiteDecimal =
  (type: LogicalType & { kind: 'decimal' }): Convert =>
  (value) => {
    if (value !== 'NaN' && value !== 'Infinity' && value !== '-Infinity') return value;
    if (value === 'NaN') return new Unholdable('NaN');
    const [precision, scale] = type.precision === undefined ? [65, 30] : [type.precision, type.scale ?? 0];
    const bound = `${'9'.repeat(precision - scale) || '0'}${scale ? `.${'9'.repeat(scale)}` : ''}`;
    return new Unholdable(String(value), value === '-Infinity' ? `-${bound}` : bound);
  };

/**
 * A date or timestamp MySQL can hold: four-digit years (`infinity`, years BC and after 9999 are invalid,
 * their nearest the first or last instant of years 1–9999). MySQL documents 1000–9999, but DATE and
 * DATETIME store earlier years exactly under our sql_mode.
 */
const yearRange = (type: LogicalType): Convert => {
  const digits =
    type.kind === 'date' ? 0 : Math.min(('precision' in type ? type.precision : undefined) ?? 6, 6);
  const zone = type.kind === 'timestamptz' ? '+00' : '';
  const first = type.kind === 'date' ? '0001-01-01' : `0001-01-01 00:00:00${zone}`;
  const last =
    type.kind === 'date'
      ? '9999-12-31'
      : `9999-12-31 23:59:59${digits ? `.${'9'.repeat(digits)}` : ''}${zone}`;
  return (value) => {
    const text = value as string;
    // A four-digit year (a dash after it) and no era: the common case, tested without a regular expression.
    if (text.charCodeAt(4) === 45 && !text.endsWith(' BC')) return text;
    if (text === 'infinity' || /^\d{5,}-/.test(text)) return new Unholdable(`${text} is after 9999`, last);
    return new Unholdable(`${text} is before year 1`, first);
  };
};

/**
 * What MySQL/MariaDB columns cannot hold, as data: NaN and infinities in FLOAT, DOUBLE and DECIMAL,
 * dates and timestamps outside years 1–9999. A float -0 is stored as 0: equal by value, as checksums
 * compare them, so it passes (MySQL has no negative zero).
 */
export const mysqlValueLimits: ValueLimits = {
  label: 'MySQL',
  columnType: logicalToMysql,
  check(type) {
    switch (type.kind) {
      case 'float32':
        return finiteFloat(float32Max);
      case 'float64':
        return finiteFloat(Number.MAX_VALUE);
      case 'decimal':
        return finiteDecimal(type);
      case 'date':
      case 'timestamp':
      case 'timestamptz':
        return yearRange(type);
      default:
        return undefined;
    }
  },
};
