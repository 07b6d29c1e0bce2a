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

/**
 * A task's limits when its job has limits too: each of the job's limits is shared equally by the
 * tasks that may run at once, and a task keeps its own limit where that is tighter. The job's total
 * rate then never exceeds its limit, whatever the task sizes; fewer running tasks leave it unused.
 */
export function taskThrottle(
  task: Throttle | undefined,
  job: Throttle | undefined,
  parallelism: number,
): Throttle | undefined {
  if (!job) return task;
  const share = (own: number | undefined, whole: number | undefined): number | undefined => {
    const part = whole === undefined ? undefined : whole / Math.max(1, parallelism);
    return own === undefined ? part : part === undefined ? own : Math.min(own, part);
  };
  const rowsPerSecond = share(task?.rowsPerSecond, job.rowsPerSecond);
  const bytesPerSecond = share(task?.bytesPerSecond, job.bytesPerSecond);
  return {
    ...(rowsPerSecond === undefined ? {} : { rowsPerSecond }),
    ...(bytesPerSecond === undefined ? {} : { bytesPerSecond }),
  };
}
