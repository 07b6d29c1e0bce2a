/**
 * Partitions described without engine syntax, so that a target of another engine can recreate them,
 * and the engine-neutral logic of choosing RANGE partitions by value.
 */

/** One value of a partition bound: a literal's text, SQL NULL, or the unbounded end of a range. */
export type BoundValue = string | null | { unbounded: 'MINVALUE' | 'MAXVALUE' };

/** A partition's key and bound in engine-neutral terms. */
export interface PartitionLayout {
  method: 'range' | 'list';
  /** The key's column names; null when the key is an expression, such as MySQL `YEAR(at)`. */
  columns: string[] | null;
  /** The key as the source engine writes it, for messages. */
  expression: string;
  /** RANGE: the inclusive lower bound (MINVALUE when unbounded), one value per key column. */
  from?: BoundValue[];
  /** RANGE: the exclusive upper bound (MAXVALUE when unbounded), one value per key column. */
  to?: BoundValue[];
  /** LIST: the key tuples the partition holds. */
  values?: BoundValue[][];
}

/**
 * The values a spec's `from` / `to` select by: `[from, to)`, either end open. Each is a tuple of the
 * key's values, one per key column (a one-column key has one); a shorter tuple is a prefix, filled up
 * with MINVALUE, so `to: ['2025']` on a key (year, month) means every year below 2025.
 */
export interface ValueRange {
  from?: string[];
  to?: string[];
}

/** A comparison of two literals of key column `column`, for the engine to run: -1, 0 or 1. */
export interface LiteralPair {
  a: string;
  b: string;
  column: number;
}

/** Compares literal pairs in the engine, as values of the key columns' types, in one round trip. */
export type CompareLiterals = (pairs: LiteralPair[]) => Promise<number[]>;

/** An item of a SQL value list: a value, or a parenthesised tuple of items. */
export type ValueItem = BoundValue | ValueItem[];

type Token = { kind: 'string' | 'word'; text: string } | { kind: 'punct'; text: string };

/**
 * Splits SQL text such as `FOR VALUES FROM ('a''b', 1) TO (MAXVALUE)` into strings, words and
 * punctuation. MySQL strings also take backslash escapes; a charset introducer (`_utf8mb4'x'`) is dropped.
 */
export function tokenizeSql(text: string, options: { backslashEscapes: boolean }): Token[] {
  const tokens: Token[] = [];
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', Z: '\x1a' };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated string in ${text}`);
        const d = text[i]!;
        if (d === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else if (d === '\\' && options.backslashEscapes && i + 1 < text.length) {
          const e = text[i + 1]!;
          value += escapes[e] ?? e;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      const last = tokens[tokens.length - 1];
      if (last?.kind === 'word' && last.text.startsWith('_')) tokens.pop();
      tokens.push({ kind: 'string', text: value });
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else {
      const word = /^[^\s'(),]+/.exec(text.slice(i))![0];
      tokens.push({ kind: 'word', text: word });
      i += word.length;
    }
  }
  return tokens;
}

/** A value token as a bound value: MINVALUE, MAXVALUE and NULL are keywords, everything else a literal. */
function valueOf(token: Token): BoundValue {
  if (token.kind === 'string') return token.text;
  const upper = token.text.toUpperCase();
  if (upper === 'MINVALUE' || upper === 'MAXVALUE') return { unbounded: upper };
  if (upper === 'NULL') return null;
  if (token.kind === 'punct') throw new Error(`unexpected "${token.text}"`);
  return token.text;
}

/** Parses a comma-separated list of values and parenthesised tuples, from `tokens[start]` to a closing `)` or the end. */
function parseItems(tokens: Token[], start: number): { items: ValueItem[]; next: number } {
  const items: ValueItem[] = [];
  let i = start;
  while (i < tokens.length) {
    const token = tokens[i]!;
    if (token.kind === 'punct' && token.text === ')') return { items, next: i + 1 };
    if (token.kind === 'punct' && token.text === '(') {
      const inner = parseItems(tokens, i + 1);
      items.push(inner.items);
      i = inner.next;
    } else {
      items.push(valueOf(token));
      i++;
    }
    const separator = tokens[i];
    if (separator?.kind === 'punct' && separator.text === ',') i++;
  }
  return { items, next: i };
}

/** Parses a value list such as MySQL's `'a','b'`, `1,MAXVALUE` or `(1,'a'),(2,NULL)`. */
export function parseValueList(text: string, options: { backslashEscapes: boolean }): ValueItem[] {
  return parseItems(tokenizeSql(text, options), 0).items;
}

/** Parses PostgreSQL's `FOR VALUES FROM (…) TO (…)` or `FOR VALUES IN (…)`; null for DEFAULT and hash bounds. */
export function parsePostgresBound(
  bound: string,
): { from: BoundValue[]; to: BoundValue[] } | { values: BoundValue[][] } | null {
  const tokens = tokenizeSql(bound, { backslashEscapes: false });
  const words = tokens.slice(0, 3).map((t) => t.text.toUpperCase());
  if (words[0] !== 'FOR' || words[1] !== 'VALUES') return null;
  if (words[2] === 'IN') {
    const { items } = parseItems(tokens, 4);
    return { values: items.map((item) => (Array.isArray(item) ? (item as BoundValue[]) : [item])) };
  }
  if (words[2] !== 'FROM') return null;
  const from = parseItems(tokens, 4);
  const to = parseItems(tokens, from.next + 2);
  return { from: from.items as BoundValue[], to: to.items as BoundValue[] };
}

const isLiteral = (v: BoundValue): v is string => typeof v === 'string';

/**
 * Compares bound tuples pairwise, left to right as row comparison does, with MINVALUE below and
 * MAXVALUE above every literal; literal pairs go to the engine in one batch. Returns -1, 0 or 1 each.
 */
export async function compareBounds(
  pairs: [BoundValue[], BoundValue[]][],
  compare: CompareLiterals,
): Promise<number[]> {
  const literals: LiteralPair[] = [];
  for (const [a, b] of pairs) {
    a.forEach((x, column) => {
      const y = b[column];
      if (y !== undefined && isLiteral(x) && isLiteral(y)) literals.push({ a: x, b: y, column });
    });
  }
  const results = literals.length ? await compare(literals) : [];
  let next = 0;
  return pairs.map(([a, b]) => {
    let verdict = 0;
    a.forEach((x, column) => {
      const y = b[column];
      if (y === undefined) return;
      const literal = isLiteral(x) && isLiteral(y) ? results[next++]! : undefined;
      if (verdict === 0) verdict = literal ?? rank(x) - rank(y);
    });
    return Math.sign(verdict);
  });
}

/** Where a non-literal sits among values: MINVALUE first, then literals (and NULL), MAXVALUE last. */
function rank(v: BoundValue): number {
  if (v !== null && typeof v === 'object') return v.unbounded === 'MINVALUE' ? -1 : 1;
  return 0;
}

/** A value-range tuple filled up with MINVALUE to the key's width. */
export function padTuple(values: string[], width: number): BoundValue[] {
  return [
    ...values,
    ...Array<BoundValue>(Math.max(0, width - values.length)).fill({ unbounded: 'MINVALUE' }),
  ];
}

/**
 * Which RANGE partitions `[from, to)` intersect the selected `[range.from, range.to)`: those with
 * `from < range.to` and `range.from < to`, tuples compared left to right as row comparison does
 * (the range's tuples are filled up to the key's width with MINVALUE).
 */
export async function intersectingRanges(
  bounds: { from: BoundValue[]; to: BoundValue[] }[],
  range: ValueRange,
  compare: CompareLiterals,
): Promise<boolean[]> {
  const pairs: [BoundValue[], BoundValue[]][] = [];
  for (const b of bounds) {
    const width = b.to.length;
    if (range.to !== undefined) pairs.push([b.from, padTuple(range.to, width)]);
    if (range.from !== undefined) pairs.push([padTuple(range.from, width), b.to]);
  }
  const verdicts = await compareBounds(pairs, compare);
  let next = 0;
  return bounds.map(() => {
    const belowTo = range.to === undefined || verdicts[next++]! < 0;
    const aboveFrom = range.from === undefined || verdicts[next++]! < 0;
    return belowTo && aboveFrom;
  });
}

/**
 * Checks a value range against the width of a RANGE key: a tuple may not have more values than the
 * key has columns. Returns the message of what is wrong, or null.
 */
export function rangeWidthProblem(range: ValueRange, width: number): string | null {
  const longest = Math.max(range.from?.length ?? 0, range.to?.length ?? 0);
  return longest > width
    ? `from/to give ${longest} values, but the RANGE key has ${width} column${width === 1 ? '' : 's'}`
    : null;
}

/** Whether a selection entry chooses partitions by value. */
export function selectsByValue(range: ValueRange): boolean {
  return range.from !== undefined || range.to !== undefined;
}

/** A plain or double-quoted SQL identifier, unquoted; null for anything else (an expression). */
function plainIdentifier(text: string): string | null {
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(text)) return text.toLowerCase();
  const quoted = /^"((?:[^"]|"")+)"$/.exec(text);
  return quoted ? quoted[1]!.replace(/""/g, '"') : null;
}

/**
 * The key of a PostgreSQL partitioned table from `pg_get_partkeydef` (`RANGE (at)`, `LIST ("Region")`):
 * its method, and its columns, or null columns when it is not plain columns (`lower(name)`, a COLLATE);
 * null for HASH keys.
 */
export function postgresPartitionKey(
  keyDef: string,
): Pick<PartitionLayout, 'method' | 'columns' | 'expression'> | null {
  const key = /^(RANGE|LIST)\s*\((.*)\)$/i.exec(keyDef.trim());
  if (!key) return null;
  const expression = key[2]!;
  // Split at the commas outside parentheses and quotes.
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  const names = parts.map(plainIdentifier);
  const columns = names.every((n): n is string => n !== null) ? names : null;
  return { method: key[1]!.toLowerCase() as 'range' | 'list', columns, expression };
}

/**
 * A PostgreSQL partition's key and bound in engine-neutral terms, from `pg_get_partkeydef` and
 * `pg_get_expr(relpartbound)`; null for HASH and DEFAULT partitions.
 */
export function postgresPartitionLayout(keyDef: string, bound: string): PartitionLayout | null {
  const key = postgresPartitionKey(keyDef);
  const parsed = parsePostgresBound(bound);
  return key && parsed ? { ...key, ...parsed } : null;
}
