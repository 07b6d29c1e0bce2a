import { describe, expect, it } from 'vitest';
import {
  bytesToBigInt,
  civilFromDays,
  dateToDays,
  daysFromCivil,
  daysToDate,
  decimalByteLength,
  decimalToUnscaled,
  microsToTimestamp,
  timestampToMicros,
  unscaledToDecimal,
} from '../../src/connectors/s3/s3-value-text';

/** The code of the error a call throws, or undefined when it returns. */
function errorCode(call: () => unknown): unknown {
  try {
    call();
  } catch (e) {
    return (e as { code?: unknown }).code;
  }
  return undefined;
}

describe('dates as days since 1970-01-01', () => {
  it.each([
    ['1970-01-01', 0],
    ['1969-12-31', -1],
    ['2000-03-01', 11017],
    ['0001-01-01', -719162],
    ['9999-12-31', 2932896],
    ['0001-12-31 BC', -719163],
  ])('%s is day %i', (date, days) => {
    expect(dateToDays(date)).toBe(days);
    expect(daysToDate(days)).toBe(date);
  });

  it('agree with the proleptic Gregorian calendar on every day of 400 years', () => {
    const wrong: number[] = [];
    for (let days = -146097; days < 146097 * 2; days += 1) {
      const [y, m, d] = civilFromDays(days);
      if (daysFromCivil(y, m, d) !== days) wrong.push(days);
    }
    expect(wrong).toEqual([]);
    // The Gregorian rules themselves: 1900 is no leap year, 2000 is.
    expect(daysToDate(dateToDays('1900-02-28') + 1)).toBe('1900-03-01');
    expect(daysToDate(dateToDays('2000-02-28') + 1)).toBe('2000-02-29');
  });
});

describe('timestamps as microseconds', () => {
  it('keep microseconds before 1970 without a float in the way', () => {
    expect(timestampToMicros('1969-12-31 23:59:59.999999', false)).toBe(-1n);
    expect(microsToTimestamp(-1n, false)).toBe('1969-12-31 23:59:59.999999');
  });

  it('reach year 9999 and year 1 exactly', () => {
    expect(timestampToMicros('9999-12-31 23:59:59.999999', false)).toBe(253402300799999999n);
    expect(microsToTimestamp(253402300799999999n, true)).toBe('9999-12-31 23:59:59.999999+00');
    expect(microsToTimestamp(timestampToMicros('0001-01-01 00:00:00+00', true), true)).toBe(
      '0001-01-01 00:00:00+00',
    );
  });

  it('apply an offset to reach UTC', () => {
    expect(timestampToMicros('1970-01-01 01:00:00+01', true)).toBe(0n);
    expect(timestampToMicros('1969-12-31 19:00:00-05:00', true)).toBe(0n);
  });
});

describe('decimals as unscaled integers', () => {
  it.each([
    ['-99999999999999999999.999999999999999999', 38, 18, -(10n ** 38n - 1n)],
    ['0.000000000000000001', 38, 18, 1n],
    ['-12.5', 12, 2, -1250n],
    ['.5', 3, 1, 5n],
    ['7', 3, 0, 7n],
  ])('%s as decimal(%i,%i) is %s', (text, precision, scale, unscaled) => {
    expect(decimalToUnscaled(text, precision, scale)).toBe(unscaled);
  });

  it('print with exactly their scale, as databases do', () => {
    expect(unscaledToDecimal(-1250n, 2)).toBe('-12.50');
    expect(unscaledToDecimal(5n, 3)).toBe('0.005');
    expect(unscaledToDecimal(-5n, 3)).toBe('-0.005');
    expect(unscaledToDecimal(42n, 0)).toBe('42');
  });

  it('fit the fewest bytes of two’s complement for their precision', () => {
    expect([1, 2, 4, 9, 18, 38].map(decimalByteLength)).toEqual([1, 1, 2, 4, 8, 16]);
    expect(bytesToBigInt(Uint8Array.from([0xff, 0xfb, 0x1e]))).toBe(-1250n);
    expect(bytesToBigInt(Uint8Array.from([0x7f, 0xff]))).toBe(32767n);
  });

  it.each(['1e5', 'Infinity', '', '-', '1.2.3', '12.345'])('refuse %j at decimal(10,2)', (text) => {
    expect(errorCode(() => decimalToUnscaled(text, 10, 2))).toBe('OUT_OF_RANGE');
  });
});
