import type { Row, Value } from './connector';
import type { LogicalKind, LogicalType } from './logical-types';

/*
 * Checksums that agree across engines. Each value is first brought to the canonical text of its
 * LOGICAL value (so `1.50` and `1.5`, or `…00.500000` and `…00.5`, are the same). Column i (from 1)
 * hashes its canonical text's UTF-8 bytes to 64 bits with PostgreSQL's `hash_bytes_extended` seeded
 * with i (Bob Jenkins' lookup3: what `hashtextextended(text, i)` computes), or is the number i when
 * NULL; the seed ties a value to its column, so NULL, the empty string and values that trade columns
 * all differ. The row's hash is `hashtextextended` (seed 0) of the decimal text of those column
 * hashes XORed together: the second hash mixes the columns, so rows that trade values still differ.
 * PostgreSQL computes the same in SQL without building a row text, which is what makes the in-SQL
 * path cheap (about 2.5 times cheaper than hashing `ROW(…)::text`). The hash is ported below;
 * PostgreSQL keeps it stable across versions because hash partitions depend on it, and the in-SQL
 * path checks a probe against this port before it is trusted. A set of rows is the sum of its row
 * hashes mod 2^64 plus its row count: addition does not care about order, and the sums of key ranges
 * add up to the sum of the table.
 *
 * Canonical text per logical kind (PostgreSQL's in-SQL path in postgres-checksum.ts builds the same):
 * - boolean `t`/`f`; int16/32/64 decimal digits;
 * - float32/float64: `NaN`, else the 16 hex digits of the IEEE-754 double (a float32 widened exactly);
 *   -0 counts as 0, because every engine compares them equal and not every engine can store -0;
 * - decimal: by value, not by scale: no leading or trailing zeros (`1.50` → `1.5`, `0.00` → `0`),
 *   because the scale belongs to the column type and engines print it differently; NaN stays `NaN`;
 * - time, timestamp: fraction without trailing zeros, `T` → space; timestamptz: the same in UTC with `+00`;
 * - bytes: lowercase hex; uuid: lowercase; date, string, text, enum, json, array: the text as it is
 *   (json is the stored text: an engine that rewrites JSON documents shows up as changed).
 */

/** What a set of rows hashes to: how many rows, and the sum of their row hashes as 16 hex digits. */
export interface Checksum {
  rows: number;
  /** The sum of the row hashes mod 2^64, as 16 lowercase hex digits. */
  hash: string;
}

/** The checksum of no rows. */
export const emptyChecksum: Checksum = { rows: 0, hash: '0000000000000000' };

const two64 = 1n << 64n;

/** A sum mod 2^64 as 16 hex digits; negative sums (PostgreSQL sums signed bigints) wrap around. */
export function hashFromSum(sum: bigint): string {
  return (((sum % two64) + two64) % two64).toString(16).padStart(16, '0');
}

/** The checksum of two disjoint sets of rows. */
export function addChecksums(a: Checksum, b: Checksum): Checksum {
  return { rows: a.rows + b.rows, hash: hashFromSum(BigInt(`0x${a.hash}`) + BigInt(`0x${b.hash}`)) };
}

/** Whether two checksums describe the same rows. */
export function sameChecksum(a: Checksum, b: Checksum): boolean {
  return a.rows === b.rows && a.hash === b.hash;
}

/** Drops trailing zeros of a fraction, and the dot when nothing is left: `00.500000` → `00.5`. */
const trimFraction = (text: string): string =>
  text.replace(/\.(\d*?)0+(?=$|\D)/, (_, kept: string) => (kept ? `.${kept}` : ''));

/** A decimal in plain notation, by value: `-001.50` → `-1.5`, `-0.00` → `0`, `.5` → `0.5`. */
export function canonicalDecimal(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (m[2] === '' && !m[3])) return text; // NaN, Infinity: the text is the value
  const whole = m[2]!.replace(/^0+/, '') || '0';
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const digits = fraction ? `${whole}.${fraction}` : whole;
  return m[1] === '-' && digits !== '0' ? `-${digits}` : digits;
}

const float64Bytes = Buffer.alloc(8);

/** A float by value: `NaN`, else the hex of its IEEE-754 double with -0 folded into 0. */
export function canonicalFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  float64Bytes.writeDoubleBE(value + 0); // -0 + 0 is +0
  return float64Bytes.toString('hex');
}

const zoneSuffix = /(?:Z|([+-])(\d\d)(?::?(\d\d)(?::?(\d\d))?)?)$/;

/** A timestamp with zone in UTC: `…+00:00`, `…Z`, `…+0000` → `…+00`; another offset is converted. */
export function canonicalTimestamptz(text: string): string {
  if (!/\d:\d/.test(text)) return text; // infinity and -infinity carry no zone
  const bc = text.endsWith(' BC');
  const body = (bc ? text.slice(0, -3) : text).replace('T', ' ');
  const zone = zoneSuffix.exec(body);
  const local = trimFraction(zone ? body.slice(0, zone.index) : body);
  const offset = zone?.[1]
    ? (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 3600 + Number(zone[3] ?? 0) * 60 + Number(zone[4] ?? 0))
    : 0;
  const utc = offset === 0 ? { text: local, bc } : shiftSeconds(local, -offset, bc);
  return `${utc.text}+00${utc.bc ? ' BC' : ''}`;
}

/** Moves `YYYY-MM-DD HH:MM:SS[.f]` by whole seconds, keeping the fraction; only for non-UTC offsets. */
function shiftSeconds(local: string, seconds: number, bc: boolean): { text: string; bc: boolean } {
  const m = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?$/.exec(local);
  if (!m) return { text: local, bc };
  const date = new Date(0);
  // Astronomical years: 1 BC is year 0; setUTCFullYear keeps years 0–99 as they are.
  date.setUTCFullYear(bc ? 1 - Number(m[1]) : Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  date.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]) + seconds);
  const year = date.getUTCFullYear();
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const text =
    `${pad(year <= 0 ? 1 - year : year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${m[7] ?? ''}`;
  return { text, bc: year <= 0 };
}

const asText = (value: Value): string => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));

/** Per logical kind: any `Value` form an engine produces → the canonical text (never called with null). */
const canonicalByKind: Record<LogicalKind, (value: Value) => string> = {
  boolean: (v) => (v === true || v === 1 || v === 1n || v === 't' || v === 'true' || v === '1' ? 't' : 'f'),
  int16: (v) => String(v),
  int32: (v) => String(v),
  int64: (v) => (typeof v === 'string' ? BigInt(v).toString() : String(v)),
  float32: (v) => canonicalFloat(Math.fround(Number(v))),
  float64: (v) => canonicalFloat(Number(v)),
  decimal: (v) => canonicalDecimal(String(v)),
  string: asText,
  text: asText,
  enum: asText,
  json: asText,
  array: asText,
  bytes: (v) => (Buffer.isBuffer(v) ? v.toString('hex') : String(v).replace(/^\\x/, '').toLowerCase()),
  uuid: (v) => asText(v).toLowerCase(),
  date: asText,
  time: (v) => trimFraction(asText(v)),
  timestamp: (v) => {
    const text = asText(v).replace('T', ' ');
    return text.endsWith(' BC') ? `${trimFraction(text.slice(0, -3))} BC` : trimFraction(text);
  },
  timestamptz: (v) => canonicalTimestamptz(asText(v)),
};

/** The canonical text of one value of a logical type, or null for NULL. */
export function canonicalText(value: Value, type: LogicalType): string | null {
  return value === null ? null : canonicalByKind[type.kind](value);
}

/** Builds the function that turns a row into its canonical texts, one per column. */
export function rowCanonicalizer(types: LogicalType[]): (row: Row) => (string | null)[] {
  const convert = types.map((t) => canonicalByKind[t.kind]);
  return (row) => row.map((v, i) => (v === null ? null : convert[i]!(v)));
}

const rot = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/**
 * PostgreSQL's `hash_bytes_extended(bytes, len, seed)` (src/common/hashfn.c, little-endian byte order)
 * as its two 32-bit halves `[high, low]`, for a seed from 0 to 2^53; every operation is a uint32 one,
 * as in C.
 */
export function hashBytesExtended(k: Uint8Array, len = k.length, seed = 0): [number, number] {
  let a = (0x9e3779b9 + len + 3923095) | 0;
  let b = a;
  let c = a;
  // A non-zero seed perturbs the state: it is added to a and b and mixed, before the key's blocks.
  let seeded = seed !== 0;
  if (seeded) {
    a = (a + Math.floor(seed / 0x1_0000_0000)) | 0;
    b = (b + (seed >>> 0)) | 0;
  }
  let i = 0;
  let left = len;
  const word = (j: number): number => k[j]! | (k[j + 1]! << 8) | (k[j + 2]! << 16) | (k[j + 3]! << 24);
  while (seeded || left >= 12) {
    if (seeded) seeded = false;
    else {
      a = (a + word(i)) | 0;
      b = (b + word(i + 4)) | 0;
      c = (c + word(i + 8)) | 0;
      i += 12;
      left -= 12;
    }
    // mix(a, b, c)
    a = (a - c) ^ rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) ^ rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) ^ rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) ^ rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) ^ rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) ^ rot(b, 4);
    b = (b + a) | 0;
  }
  // The last 0–11 bytes, as the C switch adds them: bytes 0–3 to a, 4–7 to b, 8–10 to c one byte up
  // (the lowest byte of c is left to the length).
  for (let j = 0; j < left; j++) {
    const byte = k[i + j]!;
    if (j >= 8) c = (c + (byte << (8 * (j - 7)))) | 0;
    else if (j >= 4) b = (b + (byte << (8 * (j - 4)))) | 0;
    else a = (a + (byte << (8 * j))) | 0;
  }
  // final(a, b, c)
  c = (c ^ b) - rot(b, 14);
  a = (a ^ c) - rot(c, 11);
  b = (b ^ a) - rot(a, 25);
  c = (c ^ b) - rot(b, 16);
  a = (a ^ c) - rot(c, 4);
  b = (b ^ a) - rot(a, 14);
  c = (c ^ b) - rot(b, 24);
  return [b >>> 0, c >>> 0];
}

/** A text's hash as PostgreSQL's `hashtextextended(text, seed)` returns it: a signed 64-bit integer. */
export function hashText(text: string, seed = 0): bigint {
  const [high, low] = hashBytesExtended(Buffer.from(text, 'utf8'), undefined, seed);
  return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low));
}

/** A text with multi-byte characters and punctuation, for checking that an engine hashes as we do. */
export const hashProbe = '(1,"x y",,"é ""😀""\\\\",)';

/** Hashes rows as the module comment says, reusing one byte buffer. */
export class RowHasher {
  private bytes = Buffer.alloc(4096);

  /** The row's hash as two 32-bit halves `[high, low]`. */
  hash(texts: readonly (string | null)[]): [number, number] {
    let high = 0;
    let low = 0;
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i];
      if (text === null || text === undefined) {
        low ^= i + 1;
        continue;
      }
      const [h, l] = this.hashString(text, i + 1);
      high ^= h;
      low ^= l;
    }
    const xored = BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0));
    return this.hashString(xored.toString(), 0);
  }

  private hashString(text: string, seed: number): [number, number] {
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes, so the buffer always holds the text.
    if (text.length * 3 > this.bytes.length) this.bytes = Buffer.alloc(text.length * 3);
    return hashBytesExtended(this.bytes, this.bytes.write(text, 0, 'utf8'), seed);
  }
}

/** Accumulates the checksum of rows in any order, in two 32-bit halves so no row needs a bigint. */
export class RowChecksum {
  private high = 0;
  private low = 0;
  private count = 0;
  private readonly hasher = new RowHasher();
  private readonly canonical: (row: Row) => (string | null)[];

  constructor(types: LogicalType[]) {
    this.canonical = rowCanonicalizer(types);
  }

  /** Adds one row in its `Value` forms. */
  add(row: Row): void {
    this.addCanonical(this.canonical(row));
  }

  /** Adds one row already in canonical texts (see {@link rowCanonicalizer}). */
  addCanonical(texts: (string | null)[]): void {
    const [high, low] = this.hasher.hash(texts);
    this.low += low;
    this.high += high + Math.floor(this.low / 0x1_0000_0000);
    this.low %= 0x1_0000_0000;
    this.high %= 0x1_0000_0000;
    this.count++;
  }

  /** The checksum of the rows added so far. */
  result(): Checksum {
    const hex = (n: number): string => n.toString(16).padStart(8, '0');
    return { rows: this.count, hash: hex(this.high) + hex(this.low) };
  }
}

/** The checksum of a list of rows; for tests and small sets. */
export function checksumOf(rows: Iterable<Row>, types: LogicalType[]): Checksum {
  const sum = new RowChecksum(types);
  for (const row of rows) sum.add(row);
  return sum.result();
}
