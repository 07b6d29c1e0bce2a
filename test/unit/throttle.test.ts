import { describe, expect, it } from 'vitest';
import { taskThrottle, throttleDelayMs } from '../../src/core/throttle';

describe("a job's limit", () => {
  it('is shared equally by the tasks that may run at once', () => {
    expect(taskThrottle(undefined, { rowsPerSecond: 20_000 }, 4)).toEqual({ rowsPerSecond: 5_000 });
    expect(taskThrottle(undefined, { bytesPerSecond: 1_000_000 }, 1)).toEqual({ bytesPerSecond: 1_000_000 });
  });

  it("keeps a task's own limit where it is tighter, and each limit apart", () => {
    expect(taskThrottle({ rowsPerSecond: 1_000 }, { rowsPerSecond: 20_000 }, 4)).toEqual({
      rowsPerSecond: 1_000,
    });
    expect(taskThrottle({ rowsPerSecond: 9_000 }, { rowsPerSecond: 20_000 }, 4)).toEqual({
      rowsPerSecond: 5_000,
    });
    expect(taskThrottle({ rowsPerSecond: 9_000 }, { bytesPerSecond: 800 }, 2)).toEqual({
      rowsPerSecond: 9_000,
      bytesPerSecond: 400,
    });
  });

  it("leaves a task's limits alone when the job has none", () => {
    expect(taskThrottle(undefined, undefined, 8)).toBeUndefined();
    expect(taskThrottle({ rowsPerSecond: 7 }, undefined, 8)).toEqual({ rowsPerSecond: 7 });
  });
});

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
