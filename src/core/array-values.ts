import type { Value } from './connector';
import type { LogicalType } from './logical-types';

/*
 * The text forms cast rules need to look inside values: the Value form of an array is PostgreSQL's
 * array literal (`{1,2,NULL}`, `{{"a b",c},{d,e}}`, `[0:1]={7,8}`), whose elements are PostgreSQL's
 * text output of the element type; and JSON documents are read without ever turning a number into a
 * JS number, so int64 and decimal elements keep every digit.
 */

/** The levels of an array, outermost first: each element is its text, null for NULL, or a nested level. */
export type Tree<L> = (L | Tree<L>)[];

/** A parsed array literal: its elements and the lower-bound decoration (`[0:1]`) it had, if any. */
export interface ArrayLiteral {
  items: Tree<string | null>;
  bounds?: string;
}

/** Reads a PostgreSQL array literal as `array_out` prints it; null when the text is not one. */
export function parseArrayLiteral(text: string): ArrayLiteral | null {
  let i = 0;
  let bounds: string | undefined;
  if (text.startsWith('[')) {
    const eq = text.indexOf('=');
    if (eq < 0) return null;
    bounds = text.slice(0, eq);
    i = eq + 1;
  }
  const level = (): Tree<string | null> | null => {
    if (text[i] !== '{') return null;
    i++;
    const items: Tree<string | null> = [];
    if (text[i] === '}') {
      i++;
      return items;
    }
    for (;;) {
      if (text[i] === '{') {
        const nested = level();
        if (!nested) return null;
        items.push(nested);
      } else if (text[i] === '"') {
        let out = '';
        for (i++; i < text.length && text[i] !== '"'; i++) {
          if (text[i] === '\\') i++;
          out += text[i] ?? '';
        }
        if (text[i] !== '"') return null;
        i++;
        items.push(out);
      } else {
        let end = i;
        while (end < text.length && text[end] !== ',' && text[end] !== '}') end++;
        const raw = text.slice(i, end).trim();
        items.push(/^null$/i.test(raw) ? null : raw);
        i = end;
      }
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return items;
      } else return null;
    }
  };
  const items = level();
  return items && i === text.length ? { items, ...(bounds === undefined ? {} : { bounds }) } : null;
}

/** What `array_out` quotes: the empty string, NULL, and text with quotes, backslashes, braces, commas or white space. */
const needsQuotes = /^$|^null$|["\\{},\t\n\r\v\f ]/i;

/** Prints elements as PostgreSQL's `array_out` does, so a printed literal compares equal to the server's. */
export function formatArrayLiteral(items: Tree<string | null>, bounds?: string): string {
  const level = (xs: Tree<string | null>): string =>
    `{${xs
      .map((x) =>
        x === null
          ? 'NULL'
          : Array.isArray(x)
            ? level(x)
            : needsQuotes.test(x)
              ? `"${x.replace(/["\\]/g, '\\$&')}"`
              : x,
      )
      .join(',')}}`;
  return `${bounds === undefined ? '' : `${bounds}=`}${level(items)}`;
}

/** A value's PostgreSQL text output (an array element, a COPY field before escaping) → its {@link Value} form. */
export function pgTextValue(text: string, type: LogicalType): NonNullable<Value> {
  switch (type.kind) {
    case 'boolean':
      return text === 't';
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      return Number(text);
    case 'int64':
      return BigInt(text);
    case 'bytes':
      return Buffer.from(text.slice(2), 'hex');
    default:
      return text;
  }
}

/** A value in its {@link Value} form → PostgreSQL's text output of it (the inverse of {@link pgTextValue}). */
export function pgText(value: NonNullable<Value>): string {
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  return String(value);
}

/** One JSON value with its source text: numbers keep every digit, objects stay whole. */
export type JsonNode =
  | { kind: 'array'; items: JsonNode[]; text: string }
  | { kind: 'string'; value: string; text: string }
  | { kind: 'object' | 'number' | 'boolean' | 'null'; text: string };

const jsonScalar = /true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Reads a JSON document without turning numbers into JS numbers; null when it is not valid JSON. */
export function parseJson(text: string): JsonNode | null {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  // Valid JSON from here on: the scanner only needs to find where each value ends.
  let i = 0;
  const space = (): void => {
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r') i++;
  };
  const stringEnd = (from: number): number => {
    let j = from + 1;
    while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  const value = (): JsonNode => {
    space();
    const start = i;
    if (text[i] === '[') {
      i++;
      const items: JsonNode[] = [];
      space();
      if (text[i] === ']') i++;
      else
        for (;;) {
          items.push(value());
          space();
          if (text[i++] === ']') break;
        }
      return { kind: 'array', items, text: text.slice(start, i) };
    }
    if (text[i] === '{') {
      let depth = 0;
      do {
        if (text[i] === '"') {
          i = stringEnd(i);
          continue;
        }
        if (text[i] === '{' || text[i] === '[') depth++;
        else if (text[i] === '}' || text[i] === ']') depth--;
        i++;
      } while (depth > 0);
      return { kind: 'object', text: text.slice(start, i) };
    }
    if (text[i] === '"') {
      i = stringEnd(i);
      const source = text.slice(start, i);
      return { kind: 'string', value: JSON.parse(source) as string, text: source };
    }
    jsonScalar.lastIndex = i;
    const scalar = jsonScalar.exec(text)![0];
    i += scalar.length;
    const kind = scalar === 'null' ? 'null' : scalar === 'true' || scalar === 'false' ? 'boolean' : 'number';
    return { kind, text: scalar };
  };
  return value();
}
