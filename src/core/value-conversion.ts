import type { Value } from './connector';
import { canonicalDecimal } from './checksum';
import {
  formatArrayLiteral,
  parseArrayLiteral,
  parseJson,
  pgText,
  pgTextValue,
  type JsonNode,
  type Tree,
} from './array-values';
import { formatLogicalType, type LogicalKind, type LogicalType } from './logical-types';

/*
 * Converting values from one logical type to another (cast rules), in their lossless `Value` forms.
 * Every conversion is one of three kinds:
 * - exact: every value of the source type has the same value in the target type (int16 → int32,
 *   json → text, date → timestamp);
 * - narrowing: a value either converts unchanged or does not fit at all (int64 → int32, int16 → boolean,
 *   text → json, decimal(12,4) → decimal(12,2)). A value that does not fit is "invalid": an error by
 *   default, NULL or the nearest value that fits when a cast rule asks for that. Nothing changes silently;
 * - lossy: the conversion changes values it accepts (float64 → float32 and decimal → float round,
 *   timestamptz → timestamp drops the zone). A cast rule must allow it with `lossy: true`.
 * Targets add their own limits on top (see `ValueLimits`): MySQL holds no NaN, PostgreSQL no NUL byte.
 */

/** A value the target cannot hold: why, and the nearest value it can hold, when one is near (none for NaN). */
export class Unholdable {
  constructor(
    readonly why: string,
    readonly nearest?: Value,
  ) {}
}

/** A non-null value in its {@link Value} form → its form in the target type, or why it does not fit. */
export type Convert = (value: NonNullable<Value>) => Value | Unholdable;

/** exact, narrowing or lossy: see the top of this file. */
export type ConversionKind = 'exact' | 'narrowing' | 'lossy';

/** How values of one logical type become values of another. */
export interface Conversion {
  kind: ConversionKind;
  /** For lossy conversions: what changes. */
  why?: string;
  convert: Convert;
}

/**
 * What one target engine's columns cannot hold, as data, per logical type: MySQL has no NaN and no
 * years after 9999, PostgreSQL no NUL byte in text and no zero dates. Values are checked in their
 * `Value` form before they reach the target.
 */
export interface ValueLimits {
  /** The engine's name in messages, e.g. `MySQL`. */
  label: string;
  /** The engine's column type for a logical type, for messages. */
  columnType(type: LogicalType): string;
  /** The check of one type's values, or undefined when the engine holds every value of the type. */
  check(type: LogicalType): Convert | undefined;
}

/** A date or timestamp that is not one of MySQL's zero dates (`0000-00-00`, `2024-00-15`, year 0), which have no nearest. */
export const notZeroDate: Convert = (value) => {
  const text = value as string;
  // Character tests, no regular expression or closure: this runs for every date of a MySQL → PostgreSQL copy.
  const dash = text.charCodeAt(4) === 45 ? 4 : text.indexOf('-');
  const zeroMonth = text.charCodeAt(dash + 1) === 48 && text.charCodeAt(dash + 2) === 48;
  const zeroDay = text.charCodeAt(dash + 4) === 48 && text.charCodeAt(dash + 5) === 48;
  const zeroYear = text.charCodeAt(0) === 48 && /^0+-/.test(text);
  return dash > 0 && (zeroMonth || zeroDay || zeroYear) ? new Unholdable(`the zero date ${text}`) : text;
};

/** A time of day, 00:00:00–24:00:00 (MySQL's TIME spans ±838 hours); the nearest is the bound. */
export const timeOfDay: Convert = (value) => {
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

const exact = (convert: Convert): Conversion => ({ kind: 'exact', convert });
const narrowing = (convert: Convert): Conversion => ({ kind: 'narrowing', convert });
const lossy = (why: string, convert: Convert): Conversion => ({ kind: 'lossy', why, convert });
const identity: Convert = (v) => v;

type IntKind = 'int16' | 'int32' | 'int64';
const intRanges: Record<IntKind, [bigint, bigint]> = {
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
};
/** Digits of the widest value of each integer kind. */
const intDigits: Record<IntKind, number> = { int16: 5, int32: 10, int64: 19 };
const isInt = (kind: LogicalKind): kind is IntKind =>
  kind === 'int16' || kind === 'int32' || kind === 'int64';
/** Kinds whose values are plain strings a user may cast from (text read from any column). */
const isTextual = (kind: LogicalKind): boolean => kind === 'string' || kind === 'text';

/** The largest float32, the bound of MySQL FLOAT. */
export const float32Max = 3.4028234663852886e38;

/** The shortest decimal that reads back as the same float32, as PostgreSQL prints `real`. */
export function shortestFloat32(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f)) return f;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

/** A float's text as PostgreSQL prints it: shortest round-trip digits, `-0`, `NaN`, `Infinity`. */
const floatText = (value: number): string => pgText(value);

/** An integer in the Value form of its kind: number for int16/int32, bigint for int64. */
const intValue = (n: bigint, kind: IntKind): number | bigint => (kind === 'int64' ? n : Number(n));

/** A whole number into an integer kind: itself when in range, else invalid with the nearest bound. */
function fitInt(n: bigint, kind: IntKind): Value | Unholdable {
  const [min, max] = intRanges[kind];
  if (n < min) return new Unholdable(`${n} is below the ${kind} range`, intValue(min, kind));
  if (n > max) return new Unholdable(`${n} is above the ${kind} range`, intValue(max, kind));
  return intValue(n, kind);
}

/** An infinity into an integer kind: invalid, with the bound on its side as nearest. */
function infiniteInt(shown: string, negative: boolean, kind: IntKind): Unholdable {
  const [min, max] = intRanges[kind];
  return new Unholdable(`${shown} has no ${kind}`, intValue(negative ? min : max, kind));
}

/** A number that had to be rounded to fit: invalid, with the rounded (and range-fitted) value as nearest. */
function rounded(shown: string, whole: bigint, kind: IntKind): Unholdable {
  const fitted = fitInt(whole, kind);
  return new Unholdable(
    `${shown} is not a whole number`,
    fitted instanceof Unholdable ? fitted.nearest : fitted,
  );
}

interface Decimal {
  sign: '' | '-';
  whole: string;
  fraction: string;
}

/** Reads plain decimal notation (`-12.50`, `.5`); null for NaN, infinities and anything else. */
function parseDecimal(text: string): Decimal | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (m[2] === '' && !m[3])) return null;
  return { sign: m[1] === '-' ? '-' : '', whole: m[2]!.replace(/^0+(?=\d)/, ''), fraction: m[3] ?? '' };
}

const formatDecimal = (d: Decimal): string => {
  const text = d.fraction ? `${d.whole || '0'}.${d.fraction}` : d.whole || '0';
  return d.sign && /[1-9]/.test(text) ? `-${text}` : text;
};

/** Rounds half away from zero to `scale` fraction digits. */
function roundDecimal(d: Decimal, scale: number): Decimal {
  const digits = BigInt(`${d.whole}${d.fraction.padEnd(scale + 1, '0').slice(0, scale + 1)}` || '0');
  const text = ((digits + 5n) / 10n).toString().padStart(scale + 1, '0');
  return {
    sign: d.sign,
    whole: text.slice(0, text.length - scale).replace(/^0+(?=\d)/, ''),
    fraction: text.slice(text.length - scale),
  };
}

/** The widest value of decimal(p,s), with a sign. */
const decimalBound = (precision: number, scale: number, negative: boolean): string =>
  `${negative ? '-' : ''}${'9'.repeat(precision - scale) || '0'}${scale ? `.${'9'.repeat(scale)}` : ''}`;

/**
 * Whether plain decimal text (`-12.50`) has at most `whole` integer digits (leading zeros aside) and
 * `scale` fraction digits: the common case of {@link fitDecimal}, tested character by character,
 * because it runs for every decimal copied into a Parquet DECIMAL column.
 */
function fitsPlainly(text: string, whole: number, scale: number): boolean {
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  let digits = 0;
  let seen = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) break;
    if (c < 48 || c > 57) return false;
    if (c !== 48 || digits > 0) digits++;
    seen++;
  }
  if (digits > whole) return false;
  const fraction = i < text.length ? text.length - i - 1 : 0;
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return fraction <= scale && seen + fraction > 0;
}

/** A decimal's text into decimal(p,s): itself when it fits, else invalid with the rounded or bounding value. */
export function fitDecimal(text: string, to: { precision?: number; scale?: number }): Value | Unholdable {
  if (to.precision !== undefined && fitsPlainly(text, to.precision - (to.scale ?? 0), to.scale ?? 0))
    return text;
  const d = parseDecimal(text);
  if (to.precision === undefined) return d || /^[+-]?(?:NaN|Infinity)$/.test(text) ? text : notANumber(text);
  const scale = to.scale ?? 0;
  const type = formatLogicalType({ kind: 'decimal', ...to });
  if (!d) {
    const infinite = /^[+-]?Infinity$/.test(text);
    return infinite
      ? new Unholdable(
          `${text} does not fit ${type}`,
          decimalBound(to.precision, scale, text.startsWith('-')),
        )
      : new Unholdable(`${text} does not fit ${type}`);
  }
  const lost = /[1-9]/.test(d.fraction.slice(scale));
  const fitted = lost ? roundDecimal(d, scale) : d;
  if (fitted.whole.replace(/^0+/, '').length > to.precision - scale) {
    return new Unholdable(
      `${text} needs more than ${to.precision - scale} integer digits (${type})`,
      decimalBound(to.precision, scale, d.sign === '-'),
    );
  }
  return lost
    ? new Unholdable(`${text} has more than ${scale} fraction digits (${type})`, formatDecimal(fitted))
    : text;
}

const notANumber = (text: string): Unholdable => new Unholdable(`${JSON.stringify(text)} is not a number`);

/** `1e+21` → `1000000000000000000000`, `5e-7` → `0.0000005`: decimals take no exponent. */
function plainDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const digits = `${m[2]}${m[3] ?? ''}`;
  const point = m[2]!.length + Number(m[4]);
  const whole = point <= 0 ? '0' : digits.slice(0, point).padEnd(point, '0');
  const fraction =
    point >= digits.length ? '' : point <= 0 ? '0'.repeat(-point) + digits : digits.slice(point);
  return `${m[1]}${whole.replace(/^0+(?=\d)/, '')}${fraction ? `.${fraction}` : ''}`;
}

/** Splits PostgreSQL's ` BC` suffix off a date or timestamp text. */
const splitEra = (text: string): [string, string] =>
  text.endsWith(' BC') ? [text.slice(0, -3), ' BC'] : [text, ''];
const isInfinity = (text: string): boolean => text === 'infinity' || text === '-infinity';

/** A time or timestamp text with at most `precision` fraction digits: itself, or invalid with the truncated text. */
function fitFraction(text: string, precision: number): Value | Unholdable {
  const m = /\.(\d+)/.exec(text);
  if (!m || m[1]!.length <= precision) return text;
  const kept = m[1]!.slice(0, precision).replace(/0+$/, '');
  const trimmed = text.replace(m[0], kept ? `.${kept}` : '');
  return /[1-9]/.test(m[1]!.slice(precision))
    ? new Unholdable(`${text} has more than ${precision} fractional digits`, trimmed)
    : trimmed;
}

/** Runs a second step on a converted value, and on the nearest value of an invalid one. */
function andThen(first: Convert, second: (value: NonNullable<Value>) => Value | Unholdable): Convert {
  return (value) => {
    const out = first(value);
    if (out === null) return out;
    if (!(out instanceof Unholdable)) return second(out);
    if (out.nearest === undefined || out.nearest === null) return out;
    const near = second(out.nearest);
    return new Unholdable(out.why, near instanceof Unholdable ? near.nearest : near);
  };
}

/**
 * The conversion from one logical type to another, or null when there is none. The same type
 * converts exactly; see the top of this file for what each kind promises.
 */
export function conversion(from: LogicalType, to: LogicalType): Conversion | null {
  if (formatLogicalType(from) === formatLogicalType(to)) return exact(identity);
  switch (to.kind) {
    case 'string':
    case 'text':
      return toText(from, to);
    case 'boolean':
      return toBoolean(from);
    case 'int16':
    case 'int32':
    case 'int64':
      return toInteger(from, to.kind);
    case 'float32':
    case 'float64':
      return toFloat(from, to.kind);
    case 'decimal':
      return toDecimal(from, to);
    case 'json':
      return toJson(from);
    case 'enum':
      return toEnum(from, to);
    case 'array':
      return toArray(from, to.element);
    case 'uuid':
      return isTextual(from.kind) || from.kind === 'uuid'
        ? narrowing((v) =>
            /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(String(v))
              ? v
              : new Unholdable(`${JSON.stringify(v)} is not a UUID`),
          )
        : null;
    case 'bytes':
      return isTextual(from.kind) ? exact((v) => Buffer.from(String(v), 'utf8')) : null;
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return toTemporal(from, to);
    default:
      return null;
  }
}

/** The longest text a type's values print as, where that is known. */
function maxTextLength(type: LogicalType): number | undefined {
  switch (type.kind) {
    case 'string':
      return type.length;
    case 'boolean':
      return 5;
    case 'uuid':
      return 36;
    case 'int16':
    case 'int32':
    case 'int64':
      return intDigits[type.kind] + 1;
    case 'enum':
      return Math.max(0, ...type.values.map((v) => [...v].length));
    default:
      return undefined;
  }
}

function toText(from: LogicalType, to: LogicalType & { kind: 'string' | 'text' }): Conversion | null {
  let convert: Convert;
  let kind: ConversionKind = 'exact';
  switch (from.kind) {
    case 'boolean':
      convert = (v) => (v ? 'true' : 'false');
      break;
    case 'int16':
    case 'int32':
    case 'int64':
      convert = (v) => String(v);
      break;
    case 'float32':
    case 'float64':
      convert = (v) => floatText(Number(v));
      break;
    case 'bytes':
      kind = 'narrowing';
      convert = (v) => {
        const bytes = v as Buffer;
        const text = bytes.toString('utf8');
        return Buffer.from(text, 'utf8').equals(bytes)
          ? text
          : new Unholdable('bytes that are not UTF-8', text);
      };
      break;
    default:
      convert = identity;
  }
  const length = to.kind === 'string' ? to.length : undefined;
  if (length === undefined) return { kind, convert };
  const longest = maxTextLength(from);
  if (longest !== undefined && longest <= length) return { kind, convert };
  return narrowing(
    andThen(convert, (v) => {
      const text = String(v);
      if (text.length <= length) return text;
      const chars = [...text];
      return chars.length <= length
        ? text
        : new Unholdable(
            `a text of ${chars.length} characters exceeds string(${length})`,
            chars.slice(0, length).join(''),
          );
    }),
  );
}

const trueWords = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const falseWords = new Set(['f', 'false', 'n', 'no', 'off', '0']);

function toBoolean(from: LogicalType): Conversion | null {
  if (isInt(from.kind)) {
    return narrowing((v) =>
      v === 0 || v === 0n
        ? false
        : v === 1 || v === 1n
          ? true
          : new Unholdable(`${String(v)} is not 0 or 1`, true),
    );
  }
  if (from.kind === 'decimal') {
    return narrowing((v) => {
      const text = canonicalDecimal(String(v));
      if (text === '0' || text === '1') return text === '1';
      return new Unholdable(`${String(v)} is not 0 or 1`, parseDecimal(text) ? true : undefined);
    });
  }
  if (isTextual(from.kind)) {
    return narrowing((v) => {
      const word = String(v).trim().toLowerCase();
      if (trueWords.has(word)) return true;
      if (falseWords.has(word)) return false;
      return new Unholdable(`${JSON.stringify(v)} is not a boolean`);
    });
  }
  return null;
}

function toInteger(from: LogicalType, kind: IntKind): Conversion | null {
  if (from.kind === 'boolean') return exact((v) => intValue(v ? 1n : 0n, kind));
  if (isInt(from.kind)) {
    const widening = intDigits[from.kind] <= intDigits[kind];
    return widening
      ? exact((v) => intValue(BigInt(v as number | bigint), kind))
      : narrowing((v) => fitInt(BigInt(v as number | bigint), kind));
  }
  if (from.kind === 'decimal') {
    const fits = from.precision !== undefined && (from.scale ?? 0) === 0 && from.precision < intDigits[kind];
    const convert: Convert = (v) => {
      const text = String(v);
      const d = parseDecimal(text);
      if (!d) return /Infinity/.test(text) ? infiniteInt(text, text.startsWith('-'), kind) : notANumber(text);
      const whole = BigInt(`${d.sign}${d.whole || '0'}`);
      if (!/[1-9]/.test(d.fraction)) return fitInt(whole, kind);
      const r = roundDecimal(d, 0);
      return rounded(text, BigInt(`${r.sign}${r.whole || '0'}`), kind);
    };
    return fits ? exact(convert) : narrowing(convert);
  }
  if (from.kind === 'float32' || from.kind === 'float64') {
    return narrowing((v) => {
      const n = Number(v);
      if (Number.isNaN(n)) return new Unholdable('NaN is not a whole number');
      if (!Number.isFinite(n)) return infiniteInt(floatText(n), n < 0, kind);
      if (Number.isInteger(n)) return fitInt(BigInt(n), kind);
      return rounded(floatText(n), BigInt(Math.sign(n) * Math.round(Math.abs(n))), kind);
    });
  }
  if (isTextual(from.kind)) {
    return narrowing((v) => {
      const text = String(v).trim();
      return /^[+-]?\d+$/.test(text)
        ? fitInt(BigInt(text), kind)
        : new Unholdable(`${JSON.stringify(v)} is not a whole number`);
    });
  }
  return null;
}

/** A double into float32 or float64, with infinities kept and finite values beyond float32 invalid. */
function fitFloat(n: number, kind: 'float32' | 'float64'): Value | Unholdable {
  if (kind === 'float64' || !Number.isFinite(n)) return n;
  const f = shortestFloat32(n);
  return Number.isFinite(f)
    ? f
    : new Unholdable(`${n} is beyond the float32 range`, Math.sign(n) * float32Max);
}

function toFloat(from: LogicalType, kind: 'float32' | 'float64'): Conversion | null {
  if (from.kind === 'float32') return exact((v) => Math.fround(Number(v)));
  if (from.kind === 'float64') {
    return lossy('rounds each double to the nearest float32', (v) => fitFloat(Number(v), kind));
  }
  if (from.kind === 'boolean') return exact((v) => (v ? 1 : 0));
  if (isInt(from.kind)) {
    // A float32 holds every integer up to 2^24 exactly, a float64 every one up to 2^53.
    const digits = kind === 'float32' ? 7 : 15;
    const convert: Convert = (v) => {
      const n = Number(v);
      const back = kind === 'float32' ? Math.fround(n) : n;
      return BigInt(back) === BigInt(v as number | bigint)
        ? back
        : new Unholdable(`${String(v)} has no exact ${kind}`, kind === 'float32' ? shortestFloat32(n) : n);
    };
    return intDigits[from.kind] <= digits ? exact(convert) : narrowing(convert);
  }
  if (from.kind === 'decimal') {
    return lossy(`rounds decimal digits to the nearest ${kind}`, (v) => {
      const n = Number(String(v));
      if (Number.isNaN(n) && String(v) !== 'NaN') return notANumber(String(v));
      if (!Number.isFinite(n) && !/Infinity/.test(String(v))) {
        return new Unholdable(
          `${String(v)} is beyond the ${kind} range`,
          Math.sign(n) * (kind === 'float32' ? float32Max : Number.MAX_VALUE),
        );
      }
      return fitFloat(n, kind);
    });
  }
  return null;
}

function toDecimal(from: LogicalType, to: LogicalType & { kind: 'decimal' }): Conversion | null {
  const fit = (v: NonNullable<Value>): Value | Unholdable => fitDecimal(String(v), to);
  const room = to.precision === undefined ? Infinity : to.precision - (to.scale ?? 0);
  if (isInt(from.kind)) return intDigits[from.kind] <= room ? exact(fit) : narrowing(fit);
  if (from.kind === 'boolean') return room >= 1 ? exact((v) => (v ? '1' : '0')) : null;
  if (from.kind === 'decimal') {
    const widening =
      to.precision === undefined ||
      (from.precision !== undefined &&
        (from.scale ?? 0) <= (to.scale ?? 0) &&
        from.precision - (from.scale ?? 0) <= room);
    return widening ? exact(identity) : narrowing(fit);
  }
  if (from.kind === 'float32' || from.kind === 'float64') {
    return lossy(
      'writes the shortest decimal that reads back as the float, not its exact binary value',
      (v) => fitDecimal(plainDecimal(floatText(Number(v))), to),
    );
  }
  if (isTextual(from.kind)) {
    return narrowing((v) => (parseDecimal(String(v)) ? fit(String(v).trim()) : notANumber(String(v))));
  }
  return null;
}

function toJson(from: LogicalType): Conversion | null {
  if (isTextual(from.kind)) {
    return narrowing((v) => {
      try {
        JSON.parse(String(v));
        return v;
      } catch {
        return new Unholdable('text that is not valid JSON');
      }
    });
  }
  if (isInt(from.kind)) return exact((v) => String(v));
  if (from.kind === 'boolean') return exact((v) => (v ? 'true' : 'false'));
  if (from.kind === 'array') return arrayToJson(from.element);
  if (from.kind === 'decimal' || from.kind === 'float32' || from.kind === 'float64') {
    return narrowing((v) => {
      const text = typeof v === 'number' ? floatText(v) : String(v);
      if (!/^[+-]?[\d.]/.test(text) || /Infinity|NaN/.test(text))
        return new Unholdable(`JSON has no number ${text}`);
      return typeof v === 'number' ? text : canonicalDecimal(text);
    });
  }
  return null;
}

const datePattern = /^(?:\d{4,}-\d\d-\d\d(?: BC)?|-?infinity)$/;
const timestampPattern = /^(?:\d{4,}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?: BC)?|-?infinity)$/;
const timePattern = /^\d\d:\d\d:\d\d(?:\.\d+)?$/;
const utcSuffix = /(?:\+00(?::?00)?|Z)$/;

function toTemporal(
  from: LogicalType,
  to: LogicalType & { kind: 'date' | 'time' | 'timestamp' | 'timestamptz' },
): Conversion | null {
  const precision = to.kind === 'date' ? 0 : (to.precision ?? 6);
  const fraction = (v: NonNullable<Value>): Value | Unholdable => fitFraction(String(v), precision);
  if (from.kind === to.kind && from.kind !== 'date') {
    return ((from as { precision?: number }).precision ?? 6) <= precision
      ? exact(identity)
      : narrowing(fraction);
  }
  const parsed = (pattern: RegExp, what: string, next: Convert): Conversion =>
    narrowing((v) =>
      pattern.test(String(v).trim())
        ? next(String(v).trim().replace('T', ' '))
        : new Unholdable(`${JSON.stringify(v)} is not a ${what}`),
    );
  switch (`${from.kind}>${to.kind}`) {
    case 'timestamp>date':
      return narrowing((v) => {
        const [body, era] = splitEra(String(v));
        if (isInfinity(body)) return body;
        const [day, time] = body.split(' ');
        return /^00:00:00(?:\.0*)?$/.test(time ?? '')
          ? `${day}${era}`
          : new Unholdable(`${String(v)} is not midnight`, `${day}${era}`);
      });
    case 'timestamptz>date':
      return lossy('keeps the UTC date and drops the time of day', (v) => {
        const [body, era] = splitEra(String(v));
        return isInfinity(body) ? body : `${body.split(' ')[0]}${era}`;
      });
    case 'date>timestamp':
      return exact((v) => {
        const [body, era] = splitEra(String(v));
        return isInfinity(body) ? body : `${body} 00:00:00${era}`;
      });
    case 'date>timestamptz':
      return lossy('reads each date as midnight UTC', (v) => {
        const [body, era] = splitEra(String(v));
        return isInfinity(body) ? body : `${body} 00:00:00+00${era}`;
      });
    case 'timestamptz>timestamp':
      return lossy('keeps the UTC wall-clock time and drops the zone', (v) => {
        const [body, era] = splitEra(String(v));
        return fitFraction(`${body.replace(utcSuffix, '')}${era}`, precision);
      });
    case 'timestamp>timestamptz':
      return lossy('reads each timestamp as UTC', (v) => {
        const [body, era] = splitEra(String(v));
        return isInfinity(body) ? body : fitFraction(`${body}+00${era}`, precision);
      });
    case 'string>date':
    case 'text>date':
      return parsed(datePattern, 'date', identity);
    case 'string>timestamp':
    case 'text>timestamp':
      return parsed(timestampPattern, 'timestamp', fraction);
    case 'string>time':
    case 'text>time':
      return parsed(timePattern, 'time of day', fraction);
    default:
      return null;
  }
}

/** A JSON value's text in messages, cut short. */
const jsonShown = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}…` : text);

/** A value's text in messages, cut short. */
const shown = (value: NonNullable<Value>): string => {
  const text = JSON.stringify(String(value));
  return text.length > 60 ? `${text.slice(0, 57)}…"` : text;
};

function toEnum(from: LogicalType, to: LogicalType & { kind: 'enum' }): Conversion | null {
  const labels = new Set(to.values);
  const type = formatLogicalType(to);
  const among = type.length <= 80 ? `a label of ${type}` : `one of the ${labels.size} labels`;
  // A value outside the labels has no nearest label: NULL is the only way to settle it.
  const check: Convert = (v) =>
    labels.has(String(v)) ? String(v) : new Unholdable(`${shown(v)} is not ${among}`);
  if (from.kind === 'enum')
    return from.values.every((l) => labels.has(l)) ? exact(identity) : narrowing(check);
  return isTextual(from.kind) ? narrowing(check) : null;
}

/**
 * Converts the elements of an array and keeps its shape. An element that does not fit makes the whole
 * value invalid (named by its position, from 1); the nearest value is the array of the elements'
 * nearest values, when every such element has one.
 */
function mapTree<L>(
  tree: Tree<L>,
  leaf: (element: L) => string | null | Unholdable,
): Tree<string | null> | Unholdable {
  let failure: string | undefined;
  let nearest = true;
  let position = 0;
  const visit = (level: Tree<L>): Tree<string | null> =>
    level.map((x) => {
      if (Array.isArray(x)) return visit(x);
      position++;
      const out = leaf(x);
      if (!(out instanceof Unholdable)) return out;
      failure ??= `element ${position}: ${out.why}`;
      if (out.nearest === undefined) nearest = false;
      return out.nearest === undefined ? null : (out.nearest as string | null);
    });
  const mapped = visit(tree);
  if (failure === undefined) return mapped;
  return new Unholdable(failure, nearest ? (mapped as unknown as Value) : undefined);
}

/** Prints a converted tree, and the nearest value of an invalid one, with `print`. */
function printTree(out: Tree<string | null> | Unholdable, print: (items: Tree<string | null>) => string) {
  if (!(out instanceof Unholdable)) return print(out);
  const near = out.nearest as unknown as Tree<string | null> | undefined;
  return new Unholdable(out.why, near === undefined ? undefined : print(near));
}

/** One element's conversion, from and to PostgreSQL's element text; NULL elements stay NULL. */
function elementStep(
  convert: Convert,
  read: (element: string) => NonNullable<Value>,
): (element: string | null) => string | null | Unholdable {
  const text = (v: Value): string | null => (v === null ? null : pgText(v));
  return (element) => {
    if (element === null) return null;
    const out = convert(read(element));
    return out instanceof Unholdable
      ? new Unholdable(out.why, out.nearest === undefined ? undefined : text(out.nearest))
      : text(out);
  };
}

const notAnArray = (v: NonNullable<Value>): Unholdable => new Unholdable(`${shown(v)} is not an array`);

/**
 * Arrays: element by element from another array (as exact, narrowing or lossy as the elements'
 * conversion), or from a JSON array (narrowing: elements must have the element type's JSON form).
 */
function toArray(from: LogicalType, element: LogicalType): Conversion | null {
  if (element.kind === 'array' || element.kind === 'enum') return null;
  if (from.kind === 'array') {
    const inner = conversion(from.element, element);
    if (!inner) return null;
    const step = elementStep(inner.convert, (text) => pgTextValue(text, from.element));
    return {
      ...inner,
      convert: (v) => {
        const literal = parseArrayLiteral(String(v));
        if (!literal) return notAnArray(v);
        return printTree(mapTree(literal.items, step), (items) => formatArrayLiteral(items, literal.bounds));
      },
    };
  }
  if (from.kind !== 'json') return null;
  const leaf = jsonElement(element);
  if (!leaf) return null;
  const step = (node: JsonNode): string | null | Unholdable =>
    node.kind === 'null' ? null : leaf.step(node);
  return {
    kind: leaf.kind === 'exact' ? 'narrowing' : leaf.kind,
    ...(leaf.why ? { why: leaf.why } : {}),
    convert: (v) => {
      const node = parseJson(String(v));
      if (!node) return new Unholdable('text that is not valid JSON');
      if (node.kind !== 'array')
        return new Unholdable(`the JSON ${node.kind} ${jsonShown(node.text)} is not an array`);
      const tree = rectangular(node);
      if (!tree) {
        return new Unholdable(
          'a JSON array whose nested arrays differ in length or depth (an array is rectangular)',
        );
      }
      return printTree(mapTree(tree, step), (items) => formatArrayLiteral(items));
    },
  };
}

/** A JSON array as a tree of its scalar leaves, or null unless every level is rectangular (as arrays are). */
function rectangular(node: JsonNode & { kind: 'array' }): Tree<JsonNode> | null {
  const shape = (n: JsonNode): string =>
    n.kind === 'array' ? `${n.items.length}[${n.items.length ? shape(n.items[0]!) : ''}]` : '';
  const first = node.items[0];
  const level = first ? shape(first) : '';
  const items: Tree<JsonNode> = [];
  for (const item of node.items) {
    if (shape(item) !== level) return null;
    if (item.kind !== 'array') {
      items.push(item);
      continue;
    }
    if (item.items.length === 0) return null;
    const nested = rectangular(item);
    if (!nested) return null;
    items.push(nested);
  }
  return items;
}

/** How a JSON scalar becomes an element of a type: its kind of conversion and the step, or null when none. */
function jsonElement(
  element: LogicalType,
): { kind: ConversionKind; why?: string; step: (node: JsonNode) => string | Unholdable } | null {
  const fromText = (want: JsonNode['kind'], value: (node: JsonNode) => string, convert: Convert) => {
    const step = elementStep(convert, (text) => text);
    return (node: JsonNode): string | Unholdable =>
      node.kind === want
        ? (step(value(node)) as string | Unholdable)
        : new Unholdable(`${jsonShown(node.text)} is not a JSON ${want}`);
  };
  switch (element.kind) {
    case 'boolean':
      return {
        kind: 'exact',
        step: (node) =>
          node.kind === 'boolean'
            ? node.text === 'true'
              ? 't'
              : 'f'
            : new Unholdable(`${jsonShown(node.text)} is not true or false`),
      };
    case 'int16':
    case 'int32':
    case 'int64':
    case 'decimal': {
      const inner = conversion({ kind: 'text' }, element)!;
      return {
        kind: inner.kind,
        step: fromText(
          'number',
          (n) => plainDecimal(n.text.toLowerCase().replace(/e(\d)/, 'e+$1')),
          inner.convert,
        ),
      };
    }
    case 'float32':
    case 'float64':
      return {
        kind: 'lossy',
        why: `rounds each JSON number to the nearest ${element.kind}`,
        step: fromText(
          'number',
          (n) => n.text,
          (v) => fitFloat(Number(v), element.kind),
        ),
      };
    case 'json':
      return { kind: 'exact', step: (node) => node.text };
    case 'string':
    case 'text':
    case 'uuid':
    case 'date':
    case 'time':
    case 'timestamp': {
      const inner = conversion({ kind: 'text' }, element);
      if (!inner) return null;
      return {
        kind: inner.kind,
        step: fromText('string', (n) => (n as { value: string }).value, inner.convert),
      };
    }
    default:
      return null;
  }
}

/**
 * An array as a JSON array, levels nested: booleans, integers and decimals as JSON numbers and
 * literals, json elements as they are, every other element as a JSON string of its text. Narrowing:
 * NaN and infinities have no JSON number, and lower bounds other than 1 (`[0:2]={…}`) no JSON form.
 */
function arrayToJson(element: LogicalType): Conversion | null {
  let leaf: (text: string) => string | Unholdable;
  switch (element.kind) {
    case 'boolean':
      leaf = (text) => (text === 't' ? 'true' : 'false');
      break;
    case 'int16':
    case 'int32':
    case 'int64':
    case 'json':
      leaf = (text) => text;
      break;
    case 'decimal':
    case 'float32':
    case 'float64':
      leaf = (text) =>
        /^-?\d/.test(text) && !/Infinity/.test(text) ? text : new Unholdable(`JSON has no number ${text}`);
      break;
    case 'string':
    case 'text':
    case 'enum':
    case 'uuid':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      leaf = (text) => JSON.stringify(text);
      break;
    default:
      return null;
  }
  const json = (items: Tree<string | null>): string =>
    `[${items.map((x) => (x === null ? 'null' : Array.isArray(x) ? json(x) : x)).join(',')}]`;
  return {
    kind: 'narrowing',
    convert: (v) => {
      const literal = parseArrayLiteral(String(v));
      if (!literal) return notAnArray(v);
      const out = printTree(
        mapTree(literal.items, (x) => (x === null ? null : leaf(x))),
        json,
      );
      if (out instanceof Unholdable || literal.bounds === undefined) return out;
      return new Unholdable(`the array's bounds ${literal.bounds} have no JSON form`, out);
    },
  };
}
