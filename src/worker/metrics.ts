import http from 'node:http';
import { Context } from '@temporalio/activity';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The worker's Prometheus registry. It is our own rather than prom-client's global one, so that
 * a process embedding the worker (the demo, a host service) keeps its metrics apart.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

// Labels are connection names and error codes only: table names would make the series unbounded.
const pair = ['source', 'target'] as const;
const rowsCopied = new Counter({
  name: 'mms_rows_copied_total',
  help: 'Rows committed to targets, counted when their chunk commits.',
  labelNames: pair,
  registers: [metricsRegistry],
});
const bytesCopied = new Counter({
  name: 'mms_bytes_copied_total',
  help: 'Bytes read from sources for committed chunks (where the source can tell).',
  labelNames: pair,
  registers: [metricsRegistry],
});
const chunkSeconds = new Histogram({
  name: 'mms_chunk_duration_seconds',
  help: 'Time to find, read and commit one chunk.',
  labelNames: pair,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [metricsRegistry],
});
const activityErrors = new Counter({
  name: 'mms_activity_errors_total',
  help: 'Activity failures by activity and error code (TABLE_NOT_FOUND, CONNECTION_LOST, CANCELLED, …).',
  labelNames: ['activity', 'code'],
  registers: [metricsRegistry],
});
const activitiesActive = new Gauge({
  name: 'mms_activities_active',
  help: 'Activities running on this worker; activity="copyTable" counts the tasks being copied.',
  labelNames: ['activity'],
  registers: [metricsRegistry],
});

/** The running activity's type, or "unknown" outside an activity (a direct call in a test). */
function activityType(): string {
  try {
    return Context.current().info.activityType;
  } catch {
    return 'unknown';
  }
}

/** Counts one committed chunk of a task: its rows, bytes and how long it took since `startedAt` (ms). */
export function recordChunk(
  task: { source: { connection: string }; target: { connection: string } },
  rows: number,
  bytes: number,
  startedAt: number,
): void {
  const labels = { source: task.source.connection, target: task.target.connection };
  rowsCopied.inc(labels, rows);
  bytesCopied.inc(labels, bytes);
  chunkSeconds.observe(labels, (performance.now() - startedAt) / 1000);
}

/** Marks the current activity as running; call the returned function when it ends. */
export function activityStarted(): () => void {
  const activity = activityType();
  activitiesActive.inc({ activity });
  return () => activitiesActive.dec({ activity });
}

/** Counts one failure of the current activity by its error code. */
export function recordActivityError(code: string): void {
  activityErrors.inc({ activity: activityType(), code });
}

/** Serves the registry at `/metrics` on all interfaces, for Prometheus to scrape; resolves once listening. */
export async function serveMetrics(port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found: try /metrics\n');
      return;
    }
    metricsRegistry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return server;
}
