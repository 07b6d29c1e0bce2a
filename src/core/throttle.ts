/** Rate limits for a copy; either may be absent. */
export interface Throttle {
  rowsPerSecond?: number;
  bytesPerSecond?: number;
}

/**
 * How long to wait so that what was copied so far stays within the limits:
 * the time the work should have taken at the limit, minus the time it did take.
 */
export function throttleDelayMs(
  done: { rows: number; bytes: number },
  elapsedMs: number,
  limit: Throttle,
): number {
  const byRows = limit.rowsPerSecond ? done.rows / limit.rowsPerSecond : 0;
  const byBytes = limit.bytesPerSecond ? done.bytes / limit.bytesPerSecond : 0;
  return Math.max(0, Math.max(byRows, byBytes) * 1000 - elapsedMs);
}
