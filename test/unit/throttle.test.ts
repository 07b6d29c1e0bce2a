import { describe, expect, it } from 'vitest';
import { throttleDelayMs } from '../../src/core/throttle';

describe('throttling', () => {
  it('waits until the copied rows fit the rows-per-second limit', () => {
    expect(throttleDelayMs({ rows: 10_000, bytes: 0 }, 1_000, { rowsPerSecond: 5_000 })).toBe(1_000);
    expect(throttleDelayMs({ rows: 10_000, bytes: 0 }, 3_000, { rowsPerSecond: 5_000 })).toBe(0);
  });

  it('obeys whichever limit is stricter', () => {
    expect(
      throttleDelayMs({ rows: 100, bytes: 4_000_000 }, 0, {
        rowsPerSecond: 1_000,
        bytesPerSecond: 1_000_000,
      }),
    ).toBe(4_000);
  });

  it('never waits without a limit', () => {
    expect(throttleDelayMs({ rows: 1e9, bytes: 1e12 }, 0, {})).toBe(0);
  });
});
