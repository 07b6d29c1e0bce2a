import { ErrorCode, MigrationError } from '../../core/errors';

/**
 * The text forms of decimals, dates, times and timestamps (see `Value`) ⇄ the exact integers
 * Parquet stores. Everything goes through bigint or safe integers, never through JS `Date` or a
 * float, so microseconds, years 1–9999 (and BC) and 38-digit decimals survive.
 */

const microsPerSecond = 1_000_000n;
const microsPerDay = 86_400n * microsPerSecond;

const invalid = (kind: string, text: string): MigrationError =>
  new MigrationError(
    ErrorCode.OutOfRange,
    `${JSON.stringify(text)} is not a ${kind} Parquet can hold exactly`,
    {
      type: kind,
    },
  );

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 1 BC is 0). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The proleptic Gregorian [year, month, day] of a day number (inverse of {@link daysFromCivil}). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Parses the date part of a date or timestamp, refusing impossible days such as 02-30. */
function parseDays(
  year: string,
  month: string,
  day: string,
  bc: boolean,
  kind: string,
  text: string,
): number {
  // PostgreSQL prints 1 BC as `0001 … BC`; astronomically that is year 0.
  const y = bc ? 1 - Number(year) : Number(year);
  const days = daysFromCivil(y, Number(month), Number(day));
  const [yy, mm, dd] = civilFromDays(days);
  if (yy !== y || mm !== Number(month) || dd !== Number(day)) throw invalid(kind, text);
  return days;
}

/** Formats a day number as `YYYY-MM-DD`, with PostgreSQL's ` BC` suffix before year 1. */
function formatDays(days: number): { date: string; bc: boolean } {
  const [y, m, d] = civilFromDays(days);
  const bc = y <= 0;
  return { date: `${pad(bc ? 1 - y : y, 4)}-${pad(m, 2)}-${pad(d, 2)}`, bc };
}

/** Parses `HH:MM:SS[.ffffff]` into microseconds of the day; 24:00:00 is allowed as PostgreSQL does. */
function parseTimeOfDay(h: string, m: string, s: string, fraction: string | undefined): bigint | null {
  const hours = Number(h);
  const minutes = Number(m);
  const seconds = Number(s);
  const micros = BigInt((fraction ?? '').padEnd(6, '0'));
  if (minutes > 59 || seconds > 59 || hours > 24 || (hours === 24 && (minutes || seconds || micros)))
    return null;
  return BigInt((hours * 60 + minutes) * 60 + seconds) * microsPerSecond + micros;
}

/** Formats microseconds of the day as `HH:MM:SS[.ffffff]`, trailing fraction zeros dropped like PostgreSQL. */
function formatTimeOfDay(micros: bigint): string {
  const seconds = Number(micros / microsPerSecond);
  const fraction = (micros % microsPerSecond).toString().padStart(6, '0').replace(/0+$/, '');
  const hms = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  return fraction ? `${hms}.${fraction}` : hms;
}

/** `YYYY-MM-DD[ BC]` → days since the epoch. */
export function dateToDays(text: string): number {
  const m = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/.exec(text);
  if (!m) throw invalid('date', text);
  const days = parseDays(m[1]!, m[2]!, m[3]!, m[4] !== undefined, 'date', text);
  // Parquet DATE is an INT32.
  if (days < -(2 ** 31) || days >= 2 ** 31) throw invalid('date', text);
  return days;
}

/** Days since the epoch → `YYYY-MM-DD[ BC]`. */
export function daysToDate(days: number): string {
  const { date, bc } = formatDays(days);
  return bc ? `${date} BC` : date;
}

/** `HH:MM:SS[.ffffff]` → microseconds since midnight. */
export function timeToMicros(text: string): bigint {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(text);
  const micros = m ? parseTimeOfDay(m[1]!, m[2]!, m[3]!, m[4]) : null;
  if (micros === null) throw invalid('time', text);
  return micros;
}

/** Microseconds since midnight → `HH:MM:SS[.ffffff]`. */
export function microsToTime(micros: bigint): string {
  return formatTimeOfDay(micros);
}

const timestampPattern =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::?\d\d(?::?\d\d)?)?)?( BC)?$/;

/**
 * A timestamp text → microseconds since 1970-01-01 00:00:00. With `zoned`, an offset such as `+00`
 * or `-08:30` is applied so the result is UTC; without it an offset is refused (no zone means none).
 */
export function timestampToMicros(text: string, zoned: boolean): bigint {
  const kind = zoned ? 'timestamptz' : 'timestamp';
  const m = timestampPattern.exec(text);
  if (!m || (m[8] !== undefined && !zoned)) throw invalid(kind, text);
  const days = parseDays(m[1]!, m[2]!, m[3]!, m[9] !== undefined, kind, text);
  const timeOfDay = parseTimeOfDay(m[4]!, m[5]!, m[6]!, m[7]);
  if (timeOfDay === null) throw invalid(kind, text);
  const micros = BigInt(days) * microsPerDay + timeOfDay - offsetMicros(m[8]);
  if (micros < -(2n ** 63n) || micros >= 2n ** 63n) throw invalid(kind, text);
  return micros;
}

/** `+05:30` → its microseconds; `Z`, `+00` or none → 0. */
function offsetMicros(offset: string | undefined): bigint {
  if (!offset || offset === 'Z') return 0n;
  const [h = '0', m = '0', s = '0'] = offset.slice(1).match(/\d\d/g) ?? [];
  const micros = BigInt((Number(h) * 60 + Number(m)) * 60 + Number(s)) * microsPerSecond;
  return offset[0] === '-' ? -micros : micros;
}

/** Microseconds since the epoch → `YYYY-MM-DD HH:MM:SS[.ffffff]` (with `+00` when zoned, ` BC` before year 1). */
export function microsToTimestamp(micros: bigint, zoned: boolean): string {
  // Floor division: a pre-1970 instant belongs to the earlier day.
  let days = micros / microsPerDay;
  if (micros % microsPerDay < 0n) days -= 1n;
  const { date, bc } = formatDays(Number(days));
  const text = `${date} ${formatTimeOfDay(micros - days * microsPerDay)}${zoned ? '+00' : ''}`;
  return bc ? `${text} BC` : text;
}

/**
 * A decimal in plain notation → its unscaled integer at `scale`, refusing anything that would lose
 * digits: more than `precision` digits, non-zero digits beyond `scale`, NaN or infinities.
 */
export function decimalToUnscaled(text: string, precision: number, scale: number): bigint {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && !m[3])) throw invalid(`decimal(${precision},${scale})`, text);
  const fraction = m[3] ?? '';
  if (/[^0]/.test(fraction.slice(scale))) throw invalid(`decimal(${precision},${scale})`, text);
  const digits = (m[2]! + fraction.slice(0, scale).padEnd(scale, '0')).replace(/^0+/, '');
  if (digits.length > precision) throw invalid(`decimal(${precision},${scale})`, text);
  const unscaled = BigInt(digits || '0');
  return m[1] === '-' ? -unscaled : unscaled;
}

/** An unscaled integer → plain notation with exactly `scale` fraction digits, as PostgreSQL and MySQL print. */
export function unscaledToDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const text = scale > 0 ? `${whole}.${digits.slice(digits.length - scale)}` : whole;
  return negative ? `-${text}` : text;
}

/** The fewest bytes whose two's complement holds every `precision`-digit integer. */
export function decimalByteLength(precision: number): number {
  let bytes = 1;
  while (1n << BigInt(8 * bytes - 1) < 10n ** BigInt(precision)) bytes++;
  return bytes;
}

/** A big-endian two's complement byte array → bigint. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  if (bytes.length > 0 && bytes[0]! & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value;
}
