import { setCurrentDetails } from '@temporalio/workflow';
import type { JobProgress } from './definitions';

const count = (n: number): string => n.toLocaleString('en-US');

/** `75` → `1m15s`; workflow code cannot import the CLI's formatter. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The job's progress as the short Markdown the Web UI shows under "Current Details". */
export function progressDetails(p: JobProgress): string {
  const t = p.tasks;
  const done = t.succeeded + t.failed + t.skipped;
  const total = `${t.total}${p.discoveryDone ? '' : '+'}`;
  const estimate = p.estimatedRows > 0 ? ` of ~${count(p.estimatedRows)}` : '';
  const eta = p.etaSeconds === null ? '' : `, ETA ${duration(p.etaSeconds)}`;
  // Task ids start with the job id; the table part is what a reader looks for.
  const running = p.running.map((id) => id.slice(p.jobId.length + 1));
  const shown =
    running.slice(0, 5).join(', ') + (running.length > 5 ? ` and ${running.length - 5} more` : '');
  return [
    `- **${p.status}${p.paused ? ' (paused)' : ''}**: ${done}/${total} tasks done, ${t.running} running, ${t.failed} failed` +
      `${t.skipped ? `, ${t.skipped} already done` : ''}`,
    `- **rows written** by finished tasks: ${count(p.rowsWritten)}${estimate} (${count(p.rowsPerSecond)} rows/s${eta})`,
    ...(running.length ? [`- **copying**: ${shown}`] : []),
    `- **parallelism**: ${p.parallelism}`,
  ].join('\n');
}

/** Publishes the job's progress as the workflow's current details (read by the Web UI and `temporal workflow metadata`). */
export function showProgress(p: JobProgress): void {
  setCurrentDetails(progressDetails(p));
}
