import { describe, expect, it } from 'vitest';
import type { FieldDecoder, Row, Value, ValueCheck } from '../../src/core/connector';
import { MigrationError } from '../../src/core/errors';
import type { LogicalType } from '../../src/core/logical-types';
import { rowsFromBatches } from '../../src/core/row-batches';
import { fieldDecoder } from '../../src/connectors/mysql/mysql-types';
import { asyncRows, collect } from '../fixtures/edge-values';
import { joinedLine } from '../fixtures/joined-lines';
import { copyTextFromFields, copyTextFromLines } from '../../src/connectors/postgres/copy-text-fields';
import { fieldsOfJoinedLine } from '../../src/core/joined-lines';
import { decodeCopyLine, encodeCopyLine } from '../../src/connectors/postgres/postgres-copy-text';
import { postgresValueLimits } from '../../src/connectors/postgres/postgres-types';

const types: LogicalType[] = [
  { kind: 'int64' },
  { kind: 'decimal', precision: 12, scale: 2 },
  { kind: 'string', length: 40 },
  { kind: 'text' },
  { kind: 'json' },
  { kind: 'timestamp', precision: 6 },
  { kind: 'float64' },
  { kind: 'bytes' },
  { kind: 'date' },
  { kind: 'enum', values: ['a\tb', 'c'] },
];
const decoders: FieldDecoder[] = types.map(fieldDecoder);

/** A row as MySQL's text protocol sends it: each field its UTF-8 text (binary as is), or null. */
const fields = (...texts: (string | Buffer | null)[]): Row =>
  texts.map((t) => (t === null ? null : Buffer.isBuffer(t) ? t : Buffer.from(t, 'utf8')));

const rows: Row[] = [
  fields(
    '1',
    '0.37',
    'name-1',
    'plain body',
    '{"k": 1}',
    '2020-01-01 00:00:01.000001',
    '1.5',
    Buffer.from([0, 1, 255]),
    '2020-01-01',
    'c',
  ),
  fields(
    '-9223372036854775808',
    '-12.50',
    'tab\there',
    'line\nbreak\rreturn\\slash',
    '{"s": "a\\tb"}',
    '2020-01-01 00:00:00.000000',
    '-0',
    Buffer.alloc(0),
    '0001-01-01',
    'a\tb',
  ),
  fields(null, null, null, null, null, null, null, null, null, null),
  fields(
    '3',
    '0.00',
    '',
    '',
    '[]',
    '9999-12-31 23:59:59.999999',
    '1e300',
    Buffer.from('\\\t\n'),
    '9999-12-31',
    'c',
  ),
  fields(
    '4',
    '1.00',
    'emoji 🎉 é',
    '\\\\N',
    '"\\u00e9"',
    '2020-02-29 12:00:00.500000',
    '3.141592653589793',
    Buffer.from('x'),
    '2020-02-29',
    'c',
  ),
];

/** What the rows path writes: every field decoded, checked and encoded. */
function throughRows(input: Row[], checks?: (ValueCheck | undefined)[]): string {
  return input
    .map((row) =>
      encodeCopyLine(
        row.map((field, i) => {
          const value = field === null ? null : decoders[i]!(field as Buffer);
          const check = checks?.[i];
          return check ? check(value) : value;
        }),
      ),
    )
    .join('');
}

async function transcoded(
  input: Row[],
  checks?: (ValueCheck | undefined)[],
  columnTypes = types,
  columnDecoders = decoders,
): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  const batches = (async function* () {
    for (let i = 0; i < input.length; i += 2) yield await Promise.resolve(input.slice(i, i + 2));
  })();
  for await (const piece of copyTextFromFields(rowsFromBatches(batches), columnTypes, columnDecoders, checks))
    pieces.push(piece);
  return pieces;
}

const text = (pieces: Buffer[]): string => Buffer.concat(pieces).toString('utf8');

describe('text fields to COPY text', () => {
  it('writes every kind as the rows path does: digits as they are, texts escaped, the rest decoded', async () => {
    const out = text(await transcoded(rows));
    expect(out).toBe(throughRows(rows));
    // And PostgreSQL reads back the values the fields meant.
    const lines = out.split('\n').slice(0, -1);
    expect(lines).toHaveLength(rows.length);
    expect(decodeCopyLine(lines[1]!, types).slice(2, 5)).toEqual([
      'tab\there',
      'line\nbreak\rreturn\\slash',
      '{"s": "a\\tb"}',
    ]);
    expect(decodeCopyLine(lines[0]!, types)[7]).toEqual(Buffer.from([0, 1, 255]));
  });

  it('applies PostgreSQL checks: a text with a NUL byte is decoded and checked, one without passes as it is', async () => {
    const seen: Value[] = [];
    const stripNul: ValueCheck = (value) => {
      seen.push(value);
      return typeof value === 'string' ? value.replaceAll('\0', '') : value;
    };
    const checks = types.map((t) => (postgresValueLimits.check(t) ? stripNul : undefined));
    const withNul = [
      fields('5', '1.00', 'a\0b', 'no nul', '{}', '2020-01-01 00:00:00', '1', null, '2020-01-01', 'c'),
    ];
    const out = text(await transcoded(withNul, checks));
    expect(out).toBe('5\t1.00\tab\tno nul\t{}\t2020-01-01 00:00:00\t1\t\\N\t2020-01-01\tc\n');
    // Only the NUL-holding text, the timestamp and the date reached the check; clean texts did not.
    expect(seen).toEqual(['a\0b', '2020-01-01 00:00:00', '2020-01-01']);
  });

  it('fails with the check’s error, naming what it names', async () => {
    const refuse: ValueCheck = () => {
      throw new MigrationError('OUT_OF_RANGE', 'column c8 cannot hold a zero date');
    };
    const checks = types.map((t) => (t.kind === 'date' ? refuse : undefined));
    await expect(transcoded([rows[0]!], checks)).rejects.toThrow(/c8 cannot hold a zero date/);
  });

  it('sends pieces of about 64 KB, and a field of 1 MB or more on its own, whole lines intact', async () => {
    const many = Array.from({ length: 2_000 }, (_, i) => rows[i % 2]!);
    const pieces = await transcoded(many);
    expect(pieces.length).toBeGreaterThan(2);
    for (const piece of pieces) expect(piece.length).toBeLessThan(64 * 1024 + 512);
    expect(text(pieces)).toBe(throughRows(many));

    const wideClean = Buffer.from('w'.repeat(1024 * 1024 + 3));
    const wideEscaped = Buffer.from(`${'é\t'.repeat(400_000)}🎉\\`);
    const wideBytes = Buffer.alloc(1024 * 1024, 7);
    const wide = [
      fields(
        '6',
        '1.00',
        'x',
        wideClean,
        wideEscaped,
        '2020-01-01 00:00:00',
        '1',
        wideBytes,
        '2020-01-01',
        'c',
      ),
      rows[1]!,
    ];
    const widePieces = await transcoded(wide);
    expect(text(widePieces)).toBe(throughRows(wide));
    // The clean wide text goes out as the very bytes that came in, not a copy of them.
    expect(widePieces).toContain(wideClean);
    for (const piece of widePieces) expect(piece.length).toBeLessThanOrEqual(2 * 1024 * 1024 + 2);
  });

  it('decodes a wide text that holds a NUL byte so that its check sees it', async () => {
    const check: ValueCheck = (value) => (typeof value === 'string' ? value.replaceAll('\0', '') : value);
    const checks = types.map((t) => (t.kind === 'text' ? check : undefined));
    const wideNul = Buffer.from(`${'a'.repeat(1024 * 1024)}\0b`);
    const row = fields('7', '1.00', 'x', wideNul, '{}', '2020-01-01 00:00:00', '1', null, '2020-01-01', 'c');
    const out = text(await transcoded([row], checks));
    expect(out.split('\t')[3]).toBe(`${'a'.repeat(1024 * 1024)}b`);
  });

  it('refuses a row whose field count is not the column count', async () => {
    await expect(transcoded([fields('1', '2')])).rejects.toThrow(/2 fields for 10 columns/);
  });
});

describe('lines a server joined', () => {
  const lineTypes: LogicalType[] = [{ kind: 'int64' }, { kind: 'text' }, { kind: 'date' }];
  const line = joinedLine;
  const texts = (row: Row): (string | null)[] =>
    row.map((f) => (f === null ? null : (f as Buffer).toString('utf8')));

  it('takes a joined line apart into its fields, the 0xFE field as null', () => {
    const joined = line('L', '1', 'a\tb', null, 'þ', '')[0] as Buffer;
    expect(texts(fieldsOfJoinedLine(joined, 2))).toEqual(['1', 'a\tb', null, 'þ', '']);
  });

  it('fails a row the server returned no line for, saying why', async () => {
    const lines = copyTextFromLines(
      {
        encoding: 'copy-text-lines',
        rows: asyncRows([line('L', '1', 'a', '2020-01-01'), [null]]),
        decoders: lineTypes.map(fieldDecoder),
        fetchRow: () => Promise.resolve(null),
      },
      lineTypes,
    );
    await expect(collect(lines)).rejects.toMatchObject({
      code: 'OUT_OF_RANGE',
      message: expect.stringContaining('max_allowed_packet') as unknown,
    });
  });

  it('escapes lines into COPY text, checks only the ones that may need it, and encodes a fetched row', async () => {
    const seen: Value[] = [];
    const record: ValueCheck = (value) => {
      seen.push(value);
      if (typeof value === 'string' && value.includes('\0')) return value.replaceAll('\0', '');
      return value === '0000-00-00' ? null : value;
    };
    const input: Row[] = [];
    for (let i = 0; i < 3000; i++) input.push(line('L', `${i}`, `body ${i} ${'x'.repeat(40)}`, '2020-01-02'));
    input[1] = line('L', '1', 'tab\tline\nreturn\rback\\slash þ', null);
    input[1000] = line('L', '1000', 'nul\0byte', '2020-01-02');
    input[2000] = line('L', '2000', 'zero', '0000-00-00');
    input[2500] = line('C', '2500', 'tagged', '2020-01-03');
    input[2999] = line('K', '2999');
    const fetched: string[][] = [];
    const out = text(
      await collect(
        copyTextFromLines(
          {
            encoding: 'copy-text-lines',
            rows: asyncRows(input),
            decoders: lineTypes.map(fieldDecoder),
            checks: [undefined, record, record],
            fetchRow: (key) => {
              fetched.push(key);
              return Promise.resolve([2999n, 'fetched\0', '2020-01-04']);
            },
          },
          lineTypes,
        ),
      ),
    );
    const lines = out.split('\n').slice(0, -1);
    expect(lines).toHaveLength(3000);
    expect(lines[0]).toBe(`0\tbody 0 ${'x'.repeat(40)}\t2020-01-02`);
    expect(lines[1]).toBe('1\ttab\\tline\\nreturn\\rback\\\\slash þ\t\\N');
    expect(lines[1000]).toBe('1000\tnulbyte\t2020-01-02');
    expect(lines[2000]).toBe('2000\tzero\t\\N');
    expect(lines[2500]).toBe('2500\ttagged\t2020-01-03');
    expect(lines[2999]).toBe('2999\tfetched\t2020-01-04');
    expect(fetched).toEqual([['2999']]);
    // Only the lines found holding a NUL or a zero date, the tagged one and the fetched row reached the
    // checks (a text without a NUL passes its check untouched, as in text fields).
    expect(seen).toEqual(['nul\0byte', '2020-01-02', '0000-00-00', '2020-01-03', 'fetched\0', '2020-01-04']);
  });
});
