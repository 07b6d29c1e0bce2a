import { describe, expect, it } from 'vitest';
import type { LogicalType } from '../../src/core/logical-types';
import {
  decodeCopyLine,
  encodeCopyLine,
  escapeCopyField,
  unescapeCopyField,
} from '../../src/connectors/postgres/postgres-copy-text';

describe('the COPY text codec', () => {
  it('round-trips values of every form through one line', () => {
    const types: LogicalType[] = [
      { kind: 'int64' },
      { kind: 'int64' },
      { kind: 'decimal', precision: 38, scale: 18 },
      { kind: 'text' },
      { kind: 'bytes' },
      { kind: 'boolean' },
      { kind: 'float64' },
      { kind: 'float64' },
      { kind: 'timestamp', precision: 6 },
      { kind: 'text' },
    ];
    const row = [
      -9223372036854775808n,
      9223372036854775807n,
      '-99999999999999999999.999999999999999999',
      'tab\there\nnew\\line\r"q" 🙂',
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      true,
      Number.NaN,
      -0,
      '1969-12-31 23:59:59.999999',
      null,
    ];
    const line = encodeCopyLine(row);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(decodeCopyLine(line.slice(0, -1), types)).toEqual(row);
  });

  it('tells NULL apart from the text \\N', () => {
    const [value, text] = decodeCopyLine('\\N\t\\\\N', [{ kind: 'text' }, { kind: 'text' }]);
    expect(value).toBeNull();
    expect(text).toBe('\\N');
  });

  it('undoes octal and hex escapes that PostgreSQL may write', () => {
    expect(unescapeCopyField('a\\011b\\x41')).toBe('a\tbA');
    expect(escapeCopyField('plain text')).toBe('plain text');
    expect(escapeCopyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
  });

  it('refuses a line with the wrong number of fields', () => {
    expect(() => decodeCopyLine('1\t2', [{ kind: 'int32' }])).toThrow(/2 fields/);
  });
});
