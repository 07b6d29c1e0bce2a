import { copyRun } from '../../core/byte-pieces';
import { textualKinds, type LogicalKind } from '../../core/logical-types';

/**
 * PostgreSQL's binary form of a value, written from the value's text: the text a MySQL server sends
 * (digits, `YYYY-MM-DD HH:MM:SS.ffffff`, `\x` and hex) becomes what the column type's receive function
 * reads (big-endian integers, base-10000 numerics, microseconds since 2000). PostgreSQL parses less,
 * which is most of what COPY FROM costs it in text (docs/performance.md).
 *
 * A writer reads only the forms it knows and refuses the rest (-1), so it never guesses: the caller then
 * goes the slow way, through the value. Range and type modifier (length, scale, precision) PostgreSQL
 * still applies on receipt, as it does to text.
 */

/**
 * Writes the value whose text is `text[start, end)` into `out` at `at`, without its length word, and
 * returns where it ends; -1 when the text is not one this writer reads. At most `end - start + 16` bytes.
 */
export type BinaryWriter = (text: Buffer, start: number, end: number, out: Buffer, at: number) => number;

/** How one column of a target type is written: from its text, or, for bytes, from the value's own bytes. */
export interface BinaryColumn {
  write: BinaryWriter;
  /** A value of bytes goes as they are (the text form of bytes is hex). */
  rawBytes?: boolean;
  /** The binary form is the text itself. */
  verbatim?: boolean;
}

const zero = 0x30;

/** Writes a 16-bit integer big-endian (a typed array keeps each byte's low 8 bits). */
export function putInt16(out: Buffer, at: number, n: number): void {
  out[at] = n >>> 8;
  out[at + 1] = n;
}

/** Writes a 32-bit integer big-endian, signed or not. */
export function putInt32(out: Buffer, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = n >>> 16;
  out[at + 2] = n >>> 8;
  out[at + 3] = n;
}
const two32 = 4294967296;

/** The number written by the `count` decimal digits at `text[i]`, or -1 when one is not a digit. */
function digitsAt(text: Buffer, i: number, count: number): number {
  let n = 0;
  for (let k = i; k < i + count; k++) {
    const d = text[k]! - zero;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Writes a safe integer as a big-endian int64. */
function writeInt64(n: number, out: Buffer, at: number): number {
  const high = Math.floor(n / two32);
  putInt32(out, at, high);
  putInt32(out, at + 4, n - high * two32);
  return at + 8;
}

/** Writes `seconds * 1e6 + micros` as a big-endian int64, exactly past 2^53 (years up to 9999 reach 2^58). */
function writeMicros(seconds: number, micros: number, out: Buffer, at: number): number {
  // seconds * 1e6 = seconds * 15625 * 2^6, and seconds * 15625 stays below 2^53.
  const x = seconds * 15625;
  const high = Math.floor(x / 67108864); // 2^26
  let low = (x - high * 67108864) * 64 + micros;
  let carry = 0;
  if (low >= two32) {
    low -= two32;
    carry = 1;
  }
  putInt32(out, at, high + carry);
  putInt32(out, at + 4, low);
  return at + 8;
}

/** An integer of `bytes` bytes from optional `-` and digits. */
function integerWriter(bytes: 2 | 4 | 8): BinaryWriter {
  const max = bytes === 2 ? 32767 : bytes === 4 ? 2147483647 : Number.MAX_SAFE_INTEGER;
  return (text, start, end, out, at) => {
    const negative = text[start] === 0x2d;
    const from = negative ? start + 1 : start;
    const count = end - from;
    if (count === 0) return -1;
    // Beyond 15 digits a double is not exact: bigint, for int8 only.
    if (count > 15) {
      if (bytes !== 8 || count > 19 || digitsAt(text, from, count) === -1) return -1;
      const n = BigInt(text.toString('latin1', start, end));
      if (n < -(2n ** 63n) || n >= 2n ** 63n) return -1;
      out.writeBigInt64BE(n, at);
      return at + 8;
    }
    const magnitude = digitsAt(text, from, count);
    if (magnitude === -1 || magnitude > max + (negative ? 1 : 0)) return -1;
    const n = negative ? -magnitude : magnitude;
    if (bytes === 2) putInt16(out, at, n);
    else if (bytes === 4) putInt32(out, at, n);
    else return writeInt64(n, out, at);
    return at + bytes;
  };
}

/** Base-10000 digits of one numeric, reused (a MySQL DECIMAL has at most 65 digits: 18 of them). */
const numericDigits = new Uint16Array(24);

/**
 * `numeric`: optional `-`, digits, optional `.` and digits; as numeric_recv reads it: digit count,
 * weight (of the first base-10000 digit), sign, display scale, then the digits, zeros trimmed at both ends.
 */
const writeNumeric: BinaryWriter = (text, start, end, out, at) => {
  const negative = text[start] === 0x2d;
  let from = negative ? start + 1 : start;
  let dot = end;
  for (let i = from; i < end; i++) {
    const c = text[i]!;
    if (c === 0x2e && dot === end) dot = i;
    else if (!(c >= zero && c <= zero + 9)) return -1;
  }
  const scale = dot === end ? 0 : end - dot - 1;
  if (dot === from || (dot < end && scale === 0)) return -1; // "", ".5", "5."
  while (from < dot && text[from] === zero) from++;
  const integerDigits = dot - from;
  const integerGroups = Math.ceil(integerDigits / 4);
  const groups = integerGroups + Math.ceil(scale / 4);
  if (groups > numericDigits.length) return -1;
  // Integer groups, the first one short; then fraction groups, the last one padded with zeros.
  let i = from;
  for (let g = 0; g < integerGroups; g++) {
    const count = g === 0 ? integerDigits - (integerGroups - 1) * 4 : 4;
    numericDigits[g] = digitsAt(text, i, count);
    i += count;
  }
  i = dot + 1;
  for (let g = integerGroups; g < groups; g++) {
    let d = 0;
    for (let k = 0; k < 4; k++, i++) d = d * 10 + (i < end ? text[i]! - zero : 0);
    numericDigits[g] = d;
  }
  let first = 0;
  let last = groups;
  while (first < last && numericDigits[first] === 0) first++;
  while (last > first && numericDigits[last - 1] === 0) last--;
  const count = last - first;
  putInt16(out, at, count);
  putInt16(out, at + 2, count === 0 ? 0 : integerGroups - 1 - first);
  putInt16(out, at + 4, negative && count > 0 ? 0x4000 : 0);
  putInt16(out, at + 6, scale);
  let to = at + 8;
  for (let g = first; g < last; g++, to += 2) putInt16(out, to, numericDigits[g]!);
  return to;
};

/** A float or double from its decimal text (MySQL's shortest exact one), the same IEEE value float8in reads. */
function floatWriter(bytes: 4 | 8): BinaryWriter {
  return (text, start, end, out, at) => {
    if (end === start) return -1;
    const n = Number(text.toString('latin1', start, end));
    if (Number.isNaN(n)) return -1;
    if (bytes === 4) out.writeFloatBE(n, at);
    else out.writeDoubleBE(n, at);
    return at + bytes;
  };
}

/** Text as it is: PostgreSQL checks its encoding (and a NUL byte) as it does for text. */
const writeText: BinaryWriter = (text, start, end, out, at) => copyRun(text, start, end, out, at);

/** jsonb's binary form: version 1, then the text. */
const writeJsonb: BinaryWriter = (text, start, end, out, at) => {
  out[at] = 1;
  return copyRun(text, start, end, out, at + 1);
};

/** The value of each hex digit by byte, -1 for other bytes. */
const hexValue = new Int8Array(256).fill(-1);
for (let d = 0; d < 16; d++) {
  hexValue[d.toString(16).charCodeAt(0)] = d;
  hexValue[d.toString(16).toUpperCase().charCodeAt(0)] = d;
}

/** Decodes `count` bytes of hex at `text[i]` into `out` at `at`; -1 at a byte that is not hex. */
function hexBytes(text: Buffer, i: number, count: number, out: Buffer, at: number): number {
  for (let k = 0; k < count; k++, i += 2) {
    const high = hexValue[text[i]!]!;
    const low = hexValue[text[i + 1]!]!;
    if (high < 0 || low < 0) return -1;
    out[at++] = (high << 4) | low;
  }
  return at;
}

/** bytea from its hex text (`\x…`). */
const writeBytea: BinaryWriter = (text, start, end, out, at) => {
  const hex = end - start - 2;
  if (text[start] !== 0x5c || text[start + 1] !== 0x78 || hex % 2 !== 0) return -1;
  return hexBytes(text, start + 2, hex / 2, out, at);
};

/** uuid from `8-4-4-4-12` hex. */
const writeUuid: BinaryWriter = (text, start, end, out, at) => {
  if (end - start !== 36) return -1;
  let to = at;
  for (const [offset, count] of uuidGroups) {
    if (offset > 0 && text[start + offset - 1] !== 0x2d) return -1;
    to = hexBytes(text, start + offset, count, out, to);
    if (to === -1) return -1;
  }
  return to;
};
const uuidGroups = [
  [0, 4],
  [9, 2],
  [14, 2],
  [19, 2],
  [24, 6],
] as const;

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}
/** PostgreSQL counts days and microseconds from 2000-01-01. */
const epoch2000 = daysFromCivil(2000, 1, 1);
const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leapYear = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/**
 * Days since 2000-01-01 of the `YYYY-MM-DD` at `text[i]`, or NaN: a date that is not one (MySQL's zero
 * dates, or February 30th where MySQL allows invalid dates) goes the slow way, to its check or to an error.
 */
function dateAt(text: Buffer, i: number): number {
  if (text[i + 4] !== 0x2d || text[i + 7] !== 0x2d) return NaN;
  const year = digitsAt(text, i, 4);
  const month = digitsAt(text, i + 5, 2);
  const day = digitsAt(text, i + 8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1) return NaN;
  if (day > monthDays[month - 1]! && !(month === 2 && day === 29 && leapYear(year))) return NaN;
  return daysFromCivil(year, month, day) - epoch2000;
}

/** The microseconds {@link timeAt} read last: one number returned through here, not an array per value. */
let timeMicros = 0;

/**
 * Seconds of the `HH:MM:SS[.f…]` at `text[i]` up to `end`, its microseconds left in {@link timeMicros};
 * -1 when it is not one: hours up to `maxHours` (24:00:00 itself for a time of day), one to six
 * fraction digits.
 */
function timeAt(text: Buffer, i: number, end: number, maxHours: number): number {
  if (end - i < 8 || text[i + 2] !== 0x3a || text[i + 5] !== 0x3a) return -1;
  const hours = digitsAt(text, i, 2);
  const minutes = digitsAt(text, i + 3, 2);
  const seconds = digitsAt(text, i + 6, 2);
  if (hours < 0 || minutes < 0 || seconds < 0 || hours > maxHours || minutes > 59 || seconds > 59) return -1;
  let micros = 0;
  if (end > i + 8) {
    const count = end - i - 9;
    if (text[i + 8] !== 0x2e || count < 1 || count > 6) return -1;
    micros = digitsAt(text, i + 9, count);
    if (micros < 0) return -1;
    micros *= 10 ** (6 - count);
  }
  const total = (hours * 60 + minutes) * 60 + seconds;
  if (hours === 24 && (total > 86400 || micros > 0)) return -1;
  timeMicros = micros;
  return total;
}

const writeDate: BinaryWriter = (text, start, end, out, at) => {
  if (end - start !== 10) return -1;
  const days = dateAt(text, start);
  if (Number.isNaN(days)) return -1;
  putInt32(out, at, days);
  return at + 4;
};

/** `timestamp` from `YYYY-MM-DD HH:MM:SS[.f…]`; with `zone`, the text ends in `+00` (the instant in UTC). */
function timestampWriter(zone: boolean): BinaryWriter {
  return (text, start, end, out, at) => {
    if (zone) {
      if (text[end - 3] !== 0x2b || text[end - 2] !== zero || text[end - 1] !== zero) return -1;
      end -= 3;
    }
    if (end - start < 19 || text[start + 10] !== 0x20) return -1;
    const days = dateAt(text, start);
    const seconds = timeAt(text, start + 11, end, 23);
    if (Number.isNaN(days) || seconds === -1) return -1;
    return writeMicros(days * 86400 + seconds, timeMicros, out, at);
  };
}

/** `time` from `HH:MM:SS[.f…]`, 00:00:00 to 24:00:00. */
const writeTime: BinaryWriter = (text, start, end, out, at) => {
  const seconds = timeAt(text, start, end, 24);
  return seconds === -1 ? -1 : writeInt64(seconds * 1e6 + timeMicros, out, at);
};

/** Each target type this writes: the logical kinds whose text it reads, and how. */
const columnWays: { type: RegExp; kinds: ReadonlySet<LogicalKind>; column: BinaryColumn }[] = [
  { type: /^smallint$/, kinds: new Set(['int16']), column: { write: integerWriter(2) } },
  { type: /^integer$/, kinds: new Set(['int16', 'int32']), column: { write: integerWriter(4) } },
  { type: /^bigint$/, kinds: new Set(['int16', 'int32', 'int64']), column: { write: integerWriter(8) } },
  {
    type: /^numeric(?:\(\d+,\d+\))?$/,
    kinds: new Set(['int16', 'int32', 'int64', 'decimal']),
    column: { write: writeNumeric },
  },
  { type: /^real$/, kinds: new Set(['float32']), column: { write: floatWriter(4) } },
  { type: /^double precision$/, kinds: new Set(['float32', 'float64']), column: { write: floatWriter(8) } },
  {
    type: /^(?:text|character varying(?:\(\d+\))?|character(?:\(\d+\))?|json)$/,
    kinds: textualKinds,
    column: { write: writeText, verbatim: true },
  },
  { type: /^jsonb$/, kinds: new Set(['json']), column: { write: writeJsonb } },
  { type: /^bytea$/, kinds: new Set(['bytes']), column: { write: writeBytea, rawBytes: true } },
  { type: /^uuid$/, kinds: new Set(['uuid']), column: { write: writeUuid } },
  { type: /^date$/, kinds: new Set(['date']), column: { write: writeDate } },
  {
    type: /^timestamp(?:\(\d\))? without time zone$/,
    kinds: new Set(['timestamp']),
    column: { write: timestampWriter(false) },
  },
  {
    type: /^timestamp(?:\(\d\))? with time zone$/,
    kinds: new Set(['timestamptz']),
    column: { write: timestampWriter(true) },
  },
  { type: /^time(?:\(\d\))? without time zone$/, kinds: new Set(['time']), column: { write: writeTime } },
];

/** An enum's binary form is its label, as text. */
const enumWay = { kinds: textualKinds, column: { write: writeText, verbatim: true } };

/**
 * How a target column of `type` (as `format_type()` prints it; `isEnum` for a user enum) takes the
 * text of values of logical `kind`, or null when this does not write it: that copy stays COPY text.
 */
export function binaryColumn(type: string, isEnum: boolean, kind: LogicalKind): BinaryColumn | null {
  const way = isEnum ? enumWay : columnWays.find((w) => w.type.test(type));
  return way && way.kinds.has(kind) ? way.column : null;
}
