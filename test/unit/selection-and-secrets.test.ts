import { describe, expect, it } from 'vitest';
import { globToRegExp, matchesSelection } from '../../src/core/selection';
import { redact, registerSecret } from '../../src/core/secrets';

describe('table selection', () => {
  it('matches globs with * and ? and treats other characters literally', () => {
    expect(globToRegExp('order_*').test('order_lines')).toBe(true);
    expect(globToRegExp('t?').test('t1')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });

  it('applies include, then exclude, unless tables are listed', () => {
    const selection = { schema: 's', include: ['sales_*'], exclude: ['*_tmp'] };
    expect(matchesSelection('sales_2024', selection)).toBe(true);
    expect(matchesSelection('sales_tmp', selection)).toBe(false);
    expect(matchesSelection('other', selection)).toBe(false);
    expect(matchesSelection('other', { ...selection, tables: ['other'] })).toBe(true);
  });
});

describe('redaction', () => {
  it('masks URL passwords, password assignments and registered secrets', () => {
    registerSecret('hunter2-very-secret');
    const text = redact(
      'connect postgres://bob:pa55@db:5432/x failed; password=abc; echo hunter2-very-secret',
    );
    expect(text).toBe('connect postgres://bob:***@db:5432/x failed; password=***; echo ***');
  });
});
