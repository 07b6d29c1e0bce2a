import type { JobReport } from '../../core/task';
import type { JobProgress } from '../../workflows/definitions';

/** Renders rows as an aligned text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

/** One line of progress, for logs and terminals alike. */
export function progressLine(p: JobProgress): string {
  const t = p.tasks;
  return `${p.status}${p.paused ? ' (paused)' : ''}: ${t.succeeded + t.failed}/${t.total} tasks done (${t.running} running, ${t.failed} failed), ${p.rowsWritten.toLocaleString('en-US')} rows written`;
}

/** The report as a table plus a summary line. */
export function reportText(report: JobReport): string {
  const rows = report.results.map((r) => [
    r.table,
    r.target,
    r.status,
    r.rowsRead ?? '-',
    r.rowsWritten ?? '-',
    r.sourceCount ?? '-',
    r.targetCount ?? '-',
    r.error ? `${r.error.code}: ${r.error.message}` : '',
  ]);
  const summary = `job ${report.jobId} ${report.status}: ${report.tasks.succeeded}/${report.tasks.total} tasks succeeded, ${report.rowsWritten.toLocaleString('en-US')} rows written`;
  return `${table(['source', 'target', 'status', 'read', 'written', 'source count', 'target count', 'error'], rows)}\n\n${summary}`;
}
