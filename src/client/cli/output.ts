import type { JobReport, TaskVerification } from '../../core/task';
import { formatDifferingKeys } from '../../core/verification';
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
  const done = t.succeeded + t.failed + t.skipped;
  const total = `${t.total}${p.discoveryDone ? '' : '+'}`;
  const eta = p.etaSeconds === null ? '' : `, ETA ${formatDuration(p.etaSeconds)}`;
  return (
    `${p.status}${p.paused ? ' (paused)' : ''}: ${done}/${total} tasks done (${t.running} running, ${t.failed} failed` +
    `${t.skipped ? `, ${t.skipped} already done` : ''}), ${p.rowsWritten.toLocaleString('en-US')} rows, ` +
    `${p.rowsPerSecond.toLocaleString('en-US')} rows/s${eta}`
  );
}

/** `1536` → `1.5 KiB`: sizes for people. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `75` → `1m15s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The report as a table plus a summary line. */
export function reportText(report: JobReport): string {
  const rows = report.results.map((r) => [
    r.table,
    r.target,
    r.skipped ? 'skipped' : r.status,
    r.rowsRead ?? '-',
    r.rowsWritten ?? '-',
    r.sourceCount ?? '-',
    r.targetCount ?? '-',
    verificationCell(r.verification),
    r.error ? `${r.error.code}: ${r.error.message}` : '',
  ]);
  const t = report.tasks;
  const summary =
    `job ${report.jobId} ${report.status}: ${t.succeeded + t.skipped}/${t.total} tasks succeeded` +
    `${t.skipped ? ` (${t.skipped} already done earlier)` : ''}, ${t.failed} failed, ` +
    `${report.rowsWritten.toLocaleString('en-US')} rows written in ${formatDuration(report.durationMs / 1000)}` +
    (report.resultsOmitted ? `\n(${report.resultsOmitted} more successful tasks are not listed)` : '');
  const differing = report.results
    .filter((r) => r.verification?.keys?.length)
    .map((r) => `  ${r.table}: ${formatDifferingKeys(r.verification!.keys!)}`);
  const keys = differing.length ? `\n\ndiffering keys:\n${differing.join('\n')}` : '';
  const headers = [
    'source',
    'target',
    'status',
    'read',
    'written',
    'source count',
    'target count',
    'verified',
  ];
  return `${table([...headers, 'error'], rows)}${keys}\n\n${summary}`;
}

/** One cell for a task's verification: `checksum ok`, `repaired (12 rows)`, `3 rows differ`, … */
export function verificationCell(v: TaskVerification | undefined): string {
  if (!v) return '-';
  const differing = (v.missing ?? 0) + (v.extra ?? 0) + (v.changed ?? 0);
  if (!v.matched)
    return v.mode === 'count' || !differing
      ? `${v.mode} differs`
      : `${differing}${v.narrowed ? '' : '+'} rows differ`;
  return v.rowsRecopied ? `repaired (${v.rowsRecopied} rows)` : `${v.mode} ok`;
}

/** The report as a Markdown table, for pasting into tickets and PRs. */
export function reportMarkdown(report: JobReport): string {
  const head =
    '| source | target | status | read | written | source count | target count | verified | error |\n|---|---|---|---:|---:|---:|---:|---|---|';
  const rows = report.results.map(
    (r) =>
      `| ${r.table} | ${r.target} | ${r.skipped ? 'skipped' : r.status} | ${r.rowsRead ?? ''} | ${r.rowsWritten ?? ''} | ` +
      `${r.sourceCount ?? ''} | ${r.targetCount ?? ''} | ${verificationCell(r.verification)} | ${r.error ? `${r.error.code}: ${r.error.message.replace(/\|/g, '\\|')}` : ''} |`,
  );
  return `**${report.jobId}**: ${report.status}, ${report.tasks.succeeded + report.tasks.skipped}/${report.tasks.total} tasks, ${report.rowsWritten} rows\n\n${head}\n${rows.join('\n')}`;
}
