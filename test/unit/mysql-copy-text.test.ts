import { describe, expect, it } from 'vitest';
import type { Value, ValueCheck } from '../../src/core/connector';
import { MigrationError } from '../../src/core/errors';
import type { LogicalType } from '../../src/core/logical-types';
import type { TableMeta } from '../../src/core/table';
import { copyTextTranscoder } from '../../src/connectors/mysql/mysql-copy-text';
import { loadDataParts } from '../../src/connectors/mysql/mysql-dialect';
import { fieldText } from '../../src/connectors/mysql/mysql-types';
import { CopyLines, decodeCopyLine } from '../../src/connectors/postgres/postgres-copy-text';

const tableOf = (types: LogicalType[]): TableMeta => ({
  engine: 'postgres',
  ref: { schema: 'shop', name: 'odd' },
  columns: types.map((type, i) => ({ name: `c${i}`, nativeType: type.kind, type, nullable: true })),
  primaryKey: [],
  estimatedRows: 0,
  estimatedBytes: 0,
});

/** Reads one LOAD DATA line as MySQL does (FIELDS TERMINATED BY '\t' ESCAPED BY '\\'): null for `\N`. */
function readLoadDataLine(line: string): (string | null)[] {
  expect(line.endsWith('\n')).toBe(false);
  return line.split('\t').map((field) => {
    if (field === '\\N') return null;
    const special: Record<string, string> = { '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' };
    return field.replace(/\\([\s\S])/g, (_, c: string) => special[c] ?? c);
  });
}

/** What the rows path loads for the same line: decoded values, encoded as rows are. */
function throughRows(line: string, table: TableMeta): string {
  const row = decodeCopyLine(
    line,
    table.columns.map((c) => c.type),
  );
  return loadDataParts(row.map((value, i) => fieldText(value, table.columns[i]!.type, `c${i}`))).join('');
}

// Each case: a COPY TO field as PostgreSQL writes it, and the text MySQL must read from the LOAD DATA field.
const cases: { type: LogicalType; copy: string; loaded: string | null }[] = [
  { type: { kind: 'int64' }, copy: '-9223372036854775808', loaded: '-9223372036854775808' },
  { type: { kind: 'int32' }, copy: '\\N', loaded: null },
  { type: { kind: 'text' }, copy: '', loaded: '' },
  { type: { kind: 'text' }, copy: '\\N', loaded: null },
  { type: { kind: 'text' }, copy: 'tab\\there\\nnew\\rcr', loaded: 'tab\there\nnew\rcr' },
  { type: { kind: 'text' }, copy: 'back\\\\slash \\\\N \\\\f', loaded: 'back\\slash \\N \\f' },
  {
    type: { kind: 'text' },
    copy: 'form\\ffeed vertical\\vtab back\\bspace',
    loaded: 'form\ffeed vertical\vtab back\bspace',
  },
  { type: { kind: 'text' }, copy: '\\\\\\f\\\\\\v', loaded: '\\\f\\\v' },
  { type: { kind: 'string', length: 40 }, copy: 'ü 😀 "q" \'s\' \x01', loaded: 'ü 😀 "q" \'s\' \x01' },
  {
    type: { kind: 'json' },
    copy: '{"a": "x\\\\"y\\\\\\\\z", "t": "\\\\t"}',
    loaded: '{"a": "x\\"y\\\\z", "t": "\\t"}',
  },
  {
    type: { kind: 'enum', values: ['sad', 'happy, "quoted"'] },
    copy: 'happy, "quoted"',
    loaded: 'happy, "quoted"',
  },
  {
    type: { kind: 'uuid' },
    copy: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    loaded: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  },
  { type: { kind: 'time', precision: 6 }, copy: '24:00:00', loaded: '24:00:00' },
  { type: { kind: 'boolean' }, copy: 't', loaded: '1' },
  { type: { kind: 'boolean' }, copy: 'f', loaded: '0' },
  { type: { kind: 'boolean' }, copy: '\\N', loaded: null },
  { type: { kind: 'bytes' }, copy: '\\\\x00ff5c0a09', loaded: '00ff5c0a09' },
  { type: { kind: 'bytes' }, copy: '\\\\x', loaded: '' },
  { type: { kind: 'bytes' }, copy: '\\N', loaded: null },
  { type: { kind: 'decimal', precision: 12, scale: 2 }, copy: '-12.50', loaded: '-12.50' },
  { type: { kind: 'float64' }, copy: '-0', loaded: '0' },
  { type: { kind: 'float64' }, copy: '1e+100', loaded: '1e+100' },
  { type: { kind: 'date' }, copy: '1999-12-31', loaded: '1999-12-31' },
  {
    type: { kind: 'timestamp', precision: 6 },
    copy: '2001-02-03 04:05:06.789012',
    loaded: '2001-02-03 04:05:06.789012',
  },
  {
    type: { kind: 'timestamptz', precision: 6 },
    copy: '2024-03-31 00:59:59.000123+00',
    loaded: '2024-03-31 00:59:59.000123',
  },
  { type: { kind: 'timestamptz', precision: 6 }, copy: '\\N', loaded: null },
  // Arrays reach MySQL only through a cast (as rows); here they go through their value, their text as it is.
  {
    type: { kind: 'array', element: { kind: 'text' } },
    copy: '{"a\\\\\\\\b","t\\tx",NULL}',
    loaded: '{"a\\\\b","t\tx",NULL}',
  },
];

describe('PostgreSQL COPY text → MySQL LOAD DATA text', () => {
  for (const c of cases) {
    it(`${c.type.kind} ${JSON.stringify(c.copy)} loads as ${JSON.stringify(c.loaded)}`, () => {
      const table = tableOf([c.type, { kind: 'int32' }]);
      const line = `${c.copy}\t7`;
      const loaded = copyTextTranscoder(table).loadDataLine(line);
      expect(readLoadDataLine(loaded)).toEqual([c.loaded, '7']);
      // The same values MySQL reads from the rows path, which decodes every field.
      expect(readLoadDataLine(loaded)).toEqual(readLoadDataLine(throughRows(line, table)));
    });
  }

  it('copies fields MySQL reads alike as they are, and rewrites only the others', () => {
    const table = tableOf(cases.map((c) => c.type));
    const line = cases.map((c) => c.copy).join('\t');
    const loaded = copyTextTranscoder(table).loadDataLine(line);
    expect(readLoadDataLine(loaded)).toEqual(cases.map((c) => c.loaded));
    expect(loaded.split('\t')[0]).toBe('-9223372036854775808');
    expect(loaded.split('\t')[4]).toBe('tab\\there\\nnew\\rcr');
  });

  it('decodes lines into rows of values for the INSERT path', () => {
    const table = tableOf(cases.map((c) => c.type));
    const line = cases.map((c) => c.copy).join('\t');
    const row = copyTextTranscoder(table).row(line);
    expect(row).toEqual(
      decodeCopyLine(
        line,
        cases.map((c) => c.type),
      ),
    );
    expect(row[6]).toBe('form\ffeed vertical\vtab back\bspace');
  });

  it('puts every field of a checked column through its check, and writes what the check settles', () => {
    const table = tableOf([{ kind: 'decimal' }, { kind: 'timestamp', precision: 6 }, { kind: 'int32' }]);
    const seen: Value[] = [];
    const toNull: ValueCheck = (value) => (value === 'NaN' ? null : value);
    const clamp: ValueCheck = (value) => {
      seen.push(value);
      return value === 'infinity' ? '9999-12-31 23:59:59.999999' : value;
    };
    const transcoder = copyTextTranscoder(table, [toNull, clamp, undefined]);
    expect(readLoadDataLine(transcoder.loadDataLine('NaN\tinfinity\t1'))).toEqual([
      null,
      '9999-12-31 23:59:59.999999',
      '1',
    ]);
    expect(transcoder.row('1.5\t\\N\t2')).toEqual(['1.5', null, 2]);
    expect(seen).toEqual(['infinity', null]);
  });

  it('checks a column whose text would otherwise be copied', () => {
    const table = tableOf([{ kind: 'text' }]);
    const refuse: ValueCheck = () => {
      throw new MigrationError('OUT_OF_RANGE', 'shop.odd.c0: too long', { table: 'shop.odd', column: 'c0' });
    };
    expect(() => copyTextTranscoder(table, [refuse]).loadDataLine('x')).toThrow(/shop\.odd\.c0: too long/);
  });

  it('refuses values MySQL cannot hold when no check settles them, naming the column', () => {
    const table = tableOf([{ kind: 'float64' }]);
    expect(() => copyTextTranscoder(table).loadDataLine('NaN')).toThrow(
      /MySQL cannot store NaN \(column c0\)/,
    );
  });

  it('names the table and column of a field it cannot read, and of a line with the wrong field count', () => {
    const table = tableOf([{ kind: 'int64' }, { kind: 'int64' }]);
    const transcoder = copyTextTranscoder(table, [undefined, (value) => value]);
    expect(() => transcoder.loadDataLine('1\tx')).toThrow(
      /shop\.odd\.c1 \(int64\): cannot read the COPY field "x"/,
    );
    expect(() => transcoder.loadDataLine('1\t2\t3')).toThrow(
      /shop\.odd: a COPY line has 3 fields, expected 2/,
    );
    expect(() => transcoder.row('1')).toThrow(/a COPY line has 1 fields, expected 2/);
  });
});

describe('COPY lines from a byte stream', () => {
  const lines = ['1\tü 😀 \\\\ \\t', '', '2\t\\N', '3\t' + 'ẞ'.repeat(50)];
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));

  it('gives the same lines wherever the stream is cut, inside characters too', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (let second = cut; second <= bytes.length; second += 7) {
        const splitter = new CopyLines();
        const got = [
          ...splitter.take(bytes.subarray(0, cut)),
          ...splitter.take(bytes.subarray(cut, second)),
          ...splitter.take(bytes.subarray(second)),
        ];
        expect(splitter.rest()).toBeNull();
        expect(got).toEqual(lines);
      }
    }
  });

  it('keeps a last line without its newline for the end', () => {
    const splitter = new CopyLines();
    expect(splitter.take(Buffer.from('1\tx\n2\t'))).toEqual(['1\tx']);
    expect(splitter.take(Buffer.alloc(0))).toEqual([]);
    expect(splitter.rest()).toBe('2\t');
    expect(splitter.rest()).toBeNull();
  });
});

describe('wide COPY lines kept as bytes', () => {
  const table = tableOf([{ kind: 'int64' }, { kind: 'text' }]);
  /** The line's bytes cut into pieces of `size`, as a socket hands them over. */
  const piecesOf = (text: string, size: number): Buffer[] => {
    const bytes = Buffer.from(text);
    return Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
      bytes.subarray(i * size, (i + 1) * size),
    );
  };
  const wideLines = (text: string, size: number, wideLineBytes: number): (string | Buffer[])[] => {
    const splitter = new CopyLines<string | Buffer[]>(wideLineBytes);
    const got = piecesOf(text, size).flatMap((piece) => splitter.take(piece));
    const rest = splitter.rest();
    return rest === null ? got : [...got, rest];
  };

  it('hands a line spread over pieces of at least wideLineBytes over as those pieces, others as text', () => {
    const wide = `1\t${'ab\\\\cd\\t😀'.repeat(40)}`;
    const got = wideLines(`${wide}\n2\tshort\n3\t${'x'.repeat(300)}`, 64, 256);
    expect(got.map((line) => (typeof line === 'string' ? 'text' : 'bytes'))).toEqual([
      'bytes',
      'text',
      'bytes',
    ]);
    expect(Buffer.concat(got[0] as Buffer[]).toString()).toBe(wide);
    expect(got[1]).toBe('2\tshort');
    expect(Buffer.concat(got[2] as Buffer[]).toString()).toBe(`3\t${'x'.repeat(300)}`);
  });

  it('passes a wide line on as its bytes when they are its LOAD DATA line', () => {
    const pieces = piecesOf(`1\t${'tab\\there \\\\ back 😀 '.repeat(30)}`, 50);
    expect(copyTextTranscoder(table).wideLoadDataLine(pieces)).toBe(pieces);
  });

  it('writes a wide line out as text when a form feed or vertical tab escape or a check needs it', () => {
    // Pieces of 10 bytes cut between the backslash and its letter; pieces of 1,000 keep them together.
    for (const letter of ['f', 'v'])
      for (const size of [10, 1000]) {
        const copy = `1\t${'a'.repeat(7)}\\${letter}${'b'.repeat(20)}`;
        const loaded = copyTextTranscoder(table).wideLoadDataLine(piecesOf(copy, size));
        expect(loaded).toBe(copyTextTranscoder(table).loadDataLine(copy));
        expect(readLoadDataLine(loaded as string)).toEqual([
          '1',
          `${'a'.repeat(7)}${letter === 'f' ? '\f' : '\v'}${'b'.repeat(20)}`,
        ]);
      }
    // An escaped backslash before an `f` is no form feed; the text way reads it right.
    const backslashF = copyTextTranscoder(table).wideLoadDataLine(piecesOf('1\t\\\\f', 3));
    expect(readLoadDataLine(backslashF as string)).toEqual(['1', '\\f']);
    const checked = copyTextTranscoder(table, [undefined, (value) => String(value).toUpperCase()]);
    expect(checked.wideLoadDataLine(piecesOf('1\tabc', 2))).toBe('1\tABC');
  });

  it('refuses a wide line with the wrong field count as a text line is refused', () => {
    expect(() => copyTextTranscoder(table).wideLoadDataLine(piecesOf('1\tx\ty', 2))).toThrow(
      /shop\.odd: a COPY line has 3 fields, expected 2/,
    );
    expect(() => copyTextTranscoder(table).wideLoadDataLine(piecesOf('1', 2))).toThrow(
      /a COPY line has 1 fields, expected 2/,
    );
  });
});
