import cliProgress from 'cli-progress';
import type { JobReport } from '../../core/task';
import type { JobProgress } from '../../workflows/definitions';
import type { MigrationClient } from '../migration-client';
import { progressLine } from './output';

const pollMs = 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Follows a job until it ends and returns its report. On a terminal it draws a bar for the job and
 * one per running task; otherwise it prints a progress line whenever the numbers change.
 */
export async function followJob(
  client: MigrationClient,
  jobId: string,
  mode: { json?: boolean; tty: boolean },
): Promise<JobReport> {
  const result = client.result(jobId);
  let done = false;
  void result.finally(() => (done = true)).catch(() => undefined);
  if (!mode.json) {
    const view = mode.tty ? new BarsView(client, jobId) : new LinesView();
    try {
      while (!done) {
        await sleep(pollMs);
        // Polled once more after the end, so the view shows the final numbers. A query can fail
        // while the job continues as new; the next poll catches up.
        await client.progress(jobId).then(
          (p) => view.show(p),
          () => undefined,
        );
      }
    } finally {
      view.stop();
    }
  }
  return result;
}

/** Plain progress lines on stderr, for logs and pipes. */
class LinesView {
  private last = '';
  show(p: JobProgress): Promise<void> {
    const line = progressLine(p);
    if (line !== this.last) console.error(line);
    this.last = line;
    return Promise.resolve();
  }
  stop(): void {}
}

/** A bar for the job (tasks done) and one per running task (rows copied of the estimate). */
class BarsView {
  private readonly bars = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
      format: '{label} {bar} {percentage}% | {detail}',
    },
    cliProgress.Presets.shades_classic,
  );
  private readonly job = this.bars.create(1, 0, { label: 'job'.padEnd(32), detail: 'starting' });
  private readonly tasks = new Map<string, { bar: cliProgress.SingleBar; estimate: number }>();

  constructor(
    private readonly client: MigrationClient,
    private readonly jobId: string,
  ) {}

  async show(p: JobProgress): Promise<void> {
    const t = p.tasks;
    const finished = t.succeeded + t.failed + t.skipped;
    this.job.setTotal(Math.max(t.total, 1));
    const detail =
      `${finished}/${t.total}${p.discoveryDone ? '' : '+'} tasks, ${t.failed} failed, ` +
      `${p.rowsWritten.toLocaleString('en-US')} rows${p.paused ? ' (paused)' : ''}`;
    this.job.update(finished, { detail });
    for (const [taskId, { bar }] of this.tasks) {
      if (p.running.includes(taskId)) continue;
      bar.update(bar.getTotal());
      this.bars.remove(bar);
      this.tasks.delete(taskId);
    }
    for (const taskId of p.running) {
      const known = this.tasks.get(taskId);
      const task = await this.client.taskProgress(taskId, known?.estimate).catch(() => null);
      if (!task) continue;
      const total = Math.max(task.estimatedRows, task.rows, 1);
      const rows = `${task.rows.toLocaleString('en-US')} rows (${task.phase})`;
      if (known) {
        known.bar.setTotal(total);
        known.bar.update(task.rows, { detail: rows });
      } else {
        const label = taskId
          .slice(this.jobId.length + 1)
          .slice(0, 32)
          .padEnd(32);
        const bar = this.bars.create(total, task.rows, { label, detail: rows });
        this.tasks.set(taskId, { bar, estimate: task.estimatedRows });
      }
    }
  }

  stop(): void {
    this.bars.stop();
  }
}
