import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobReport, JobSpecInput, JobStatusInfo } from '../../src/client';
import { jobSpecJsonSchema } from '../../src/spec/json-schema';
import { createMixedTable } from '../fixtures/pg-mixed';
import { mmsCommand, runMms } from '../support/cli';
import { services, spawnWorker, uniqueName, waitFor, type WorkerProcess } from '../support/services';
import { useStack } from '../support/stack';

// The worker is spawned below, on a metrics port found at run time.
const stack = useStack('cli', { worker: false });
const { source, target, schema, taskQueue, connectionsFile } = stack;
let metricsPort: number;
let worker: WorkerProcess;

const mms = (...args: string[]) => runMms(args, { taskQueue });

/** A job spec over the test schema, into a fresh target schema; `extra` overrides the defaults. */
const spec = (extra: Record<string, unknown> = {}): JobSpecInput => ({
  kind: 'tables',
  tables: ['t1'],
  source: { connection: 'pg_source', schema },
  target: { connection: 'pg_target', schema: uniqueName('e2e_cli_t') },
  ...extra,
});

/** Writes {@link spec} to a file for the CLI. */
function specFile(extra: Record<string, unknown> = {}): string {
  const file = path.join(os.tmpdir(), `${uniqueName('spec')}.json`);
  writeFileSync(file, JSON.stringify(spec(extra)));
  return file;
}

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  await createMixedTable(source, schema, 't1', 300);
  await createMixedTable(source, schema, 't2', 300);
  await createMixedTable(source, schema, 'slow', 20_000);
  metricsPort = await freePort();
  worker = spawnWorker({ taskQueue, connectionsFile, env: { MMS_METRICS_PORT: String(metricsPort) } });
  await waitFor(
    () => fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => null),
    30_000,
    'the worker and its metrics endpoint',
  );
});

afterAll(async () => {
  await worker?.stop();
});

describe('mms validate and mms schema', () => {
  it('validate accepts a good spec with exit 0, and --json prints it with its defaults', async () => {
    const file = specFile();
    const text = await mms('validate', file);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('is a valid job spec');
    const json = await mms('validate', file, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'tables',
      chunkRows: 50_000,
      writeMode: 'overwrite',
    });
  });

  it('validate prints every problem as "✖ message → at path" and exits 2', async () => {
    const file = specFile({ source: { connection: 'postgres://u:pw@h/db', schema }, tables: [''] });
    const run = await mms('validate', file);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/✖ must be a connection name[^\n]*\n\s+→ at source\.connection/);
    expect(run.stderr).toMatch(/→ at tables\[0\]/);
    const json = await mms('validate', file, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false });
  });

  it('schema prints the JSON Schema of job specs', async () => {
    const run = await mms('schema');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(jobSpecJsonSchema());
  });
});

describe('starting, following and reporting jobs', () => {
  it('start --json prints the job, and watch --json follows it to a succeeded report', async () => {
    const started = await mms('start', specFile({ tables: ['t1', 't2'] }), '--json');
    expect(started.code).toBe(0);
    const { jobId, url } = JSON.parse(started.stdout) as { jobId: string; url: string };
    expect(url).toContain(encodeURIComponent(jobId));
    const watched = await mms('watch', jobId, '--json');
    expect(watched.code).toBe(0);
    expect(JSON.parse(watched.stdout)).toMatchObject({ jobId, status: 'succeeded', rowsWritten: 604 });

    const status = await mms('status', jobId, '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      execution: 'COMPLETED',
      report: { status: 'succeeded' },
    });
    const table = await mms('report', jobId);
    expect(table.stdout).toMatch(new RegExp(`${schema}\\.t1 .* succeeded +302 +302 +302 +302`));
    const markdown = await mms('report', jobId, '--format', 'markdown');
    expect(markdown.stdout).toContain('| source | target | status |');
    const json = await mms('report', jobId, '--json');
    expect((JSON.parse(json.stdout) as JobReport).tasks).toMatchObject({ total: 2, succeeded: 2 });
    const listed = await mms('list', '--status', 'succeeded', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { jobId: string }[]).map((j) => j.jobId)).toContain(jobId);
  });

  it('start --wait prints progress lines and the report, and exits 0', async () => {
    const run = await mms('start', specFile(), '--wait');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/started job \S+\n\s+watch it: http/);
    expect(run.stdout).toMatch(/job \S+ succeeded: 1\/1 tasks succeeded/);
    // Not a terminal: plain lines, no bars.
    expect(run.stderr).toMatch(/tasks done/);
    expect(run.stderr).not.toContain('█');
  });

  it('start refuses a bad spec with exit 2 and starts nothing', async () => {
    const run = await mms('start', specFile({ chunkRows: 0 }));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/→ at chunkRows/);
    expect(run.stderr).toContain('[BAD_SPEC]');
  });

  it('start --wait, watch and report exit 1 with the error code when the job fails', async () => {
    const jobId = uniqueName('cli-missing');
    const run = await mms('start', specFile({ tables: ['no_such_table'] }), '--wait', '--job-id', jobId);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[TABLE_NOT_FOUND]');
    const again = await Promise.all(['watch', 'report', 'status'].map((command) => mms(command, jobId)));
    expect(again.map((r) => r.code)).toEqual([1, 1, 1]);
  });

  it('status, report, watch, pause, cancel and retry exit 2 for a job that does not exist', async () => {
    const commands = ['status', 'report', 'watch', 'pause', 'cancel', 'retry'];
    const runs = await Promise.all(commands.map((command) => mms(command, 'mms-no-such-job')));
    runs.forEach((run, i) => {
      expect(run.code, commands[i]).toBe(2);
      expect(run.stderr, commands[i]).toContain('no job or workflow "mms-no-such-job"');
    });
  });

  it('list and report refuse unknown options with exit 2', async () => {
    expect((await mms('list', '--status', 'sleeping')).code).toBe(2);
    expect((await mms('report', 'x', '--format', 'pdf')).code).toBe(2);
  });
});

describe('controlling jobs', () => {
  it('pauses, changes parallelism, resumes and cancels a running job', async () => {
    const file = specFile({
      tables: ['slow', 't1', 't2'],
      maxParallelTasks: 1,
      chunkRows: 500,
      // About 50 s for the slow table: still running when the cancel comes, however loaded the machine.
      throttle: { rowsPerSecond: 400 },
    });
    const { jobId } = JSON.parse((await mms('start', file, '--json')).stdout) as { jobId: string };
    const status = async () => JSON.parse((await mms('status', jobId, '--json')).stdout) as JobStatusInfo;

    expect(await mms('pause', jobId, '--json')).toMatchObject({ code: 0 });
    expect((await status()).progress).toMatchObject({ paused: true });
    const parallelism = await mms('parallelism', jobId, '2', '--json');
    expect(JSON.parse(parallelism.stdout)).toEqual({ jobId, previous: 1, parallelism: 2 });
    expect((await mms('parallelism', jobId, '0')).code).toBe(2);
    const resumed = await mms('resume', jobId);
    expect(resumed).toMatchObject({ code: 0, stdout: `resume: sent to job ${jobId}\n` });
    expect((await status()).progress).toMatchObject({ paused: false, parallelism: 2 });

    expect((await mms('cancel', jobId)).code).toBe(0);
    const watched = await mms('watch', jobId);
    expect(watched.code).toBe(1);
    expect(watched.stderr).toMatch(/cancel/i);
  });

  it('retry re-runs a failed job once its cause is fixed; only the failed task runs', async () => {
    const targetSchema = uniqueName('e2e_cli_retry');
    await target.query(`CREATE SCHEMA ${targetSchema}; CREATE TABLE ${targetSchema}.t2 (unrelated int)`);
    const jobId = uniqueName('cli-retry');
    const file = specFile({
      tables: ['t1', 't2'],
      target: { connection: 'pg_target', schema: targetSchema },
    });
    const first = await mms('start', file, '--wait', '--job-id', jobId);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('TARGET_CONFLICT');

    await target.query(`DROP TABLE ${targetSchema}.t2`);
    const retry = await mms('retry', jobId, '--json');
    expect(JSON.parse(retry.stdout)).toEqual({ jobId, rerun: true });
    const watched = await mms('watch', jobId, '--json');
    expect(watched.code).toBe(0);
    expect((JSON.parse(watched.stdout) as JobReport).tasks).toMatchObject({ succeeded: 1, skipped: 1 });
  });
});

describe('mms catalog', () => {
  it('lists the tables of a source schema with keys and estimates, as a table or JSON', async () => {
    await source.query(`ANALYZE ${schema}.slow`);
    const text = await mms('catalog', 'pg_source', '--schema', schema);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/slow +20,002 +[\d.]+ [KM]iB +16 +id/);
    const json = await mms('catalog', 'pg_source', '--schema', schema, '--include', 't*', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      connection: 'pg_source',
      schema,
      truncated: false,
      tables: [
        { name: 't1', primaryKey: ['id'], columns: 16 },
        { name: 't2', primaryKey: ['id'], columns: 16 },
      ],
    });
  });

  it('exits 2 for a connection the workers do not know', async () => {
    const run = await mms('catalog', 'no_such_connection');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('[UNKNOWN_CONNECTION]');
  });
});

describe('mms worker', () => {
  it('serves Prometheus metrics whose counters moved after a job', async () => {
    const scrape = async (): Promise<(series: string) => number> => {
      const lines = (await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).split('\n');
      return (series) => Number(lines.find((l) => l.startsWith(`${series} `))?.split(' ')[1] ?? 0);
    };
    const before = await scrape();
    await stack.client.result((await stack.client.start(spec())).jobId);
    const failed = await stack.client.start(spec({ tables: ['nope'] }));
    await stack.client.result(failed.jobId).catch(() => undefined);
    const after = await scrape();
    const moved = (series: string): number => after(series) - before(series);

    const pair = '{source="pg_source",target="pg_target"}';
    expect(moved(`mms_rows_copied_total${pair}`)).toBe(302);
    expect(moved(`mms_bytes_copied_total${pair}`)).toBeGreaterThan(0);
    expect(moved(`mms_chunk_duration_seconds_count${pair}`)).toBe(1);
    expect(moved('mms_activity_errors_total{activity="discoverSource",code="TABLE_NOT_FOUND"}')).toBe(1);
    expect(after('mms_activities_active{activity="copyTable"}')).toBe(0);
  });

  it('--metrics-port starts an endpoint; SIGTERM stops the worker with exit 0', async () => {
    const port = await freePort();
    const child = spawn(mmsCommand[0]!, [...mmsCommand.slice(1), 'worker', '--metrics-port', String(port)], {
      env: {
        ...process.env,
        MMS_TASK_QUEUE: uniqueName('q_cli_worker'),
        MMS_CONNECTIONS_FILE: connectionsFile,
        MMS_TEMPORAL_ADDRESS: services.temporalAddress,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(
      () => Promise.resolve(stderr.includes('polling task queue')),
      30_000,
      'the worker to start',
    );
    const response = await waitFor(
      () => fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null),
      10_000,
      'the metrics endpoint',
    );
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('# TYPE mms_rows_copied_total counter');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses a broken connections file with exit 2', async () => {
    const file = path.join(os.tmpdir(), `${uniqueName('conn')}.yaml`);
    writeFileSync(file, 'connections:\n  x: { engine: oracle }\n');
    const run = await mms('worker', '--connections', file);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('[BAD_CONNECTION]');
  });
});

describe('usage', () => {
  it('exits 2 on an unknown command or a missing argument, and 0 for --help', async () => {
    expect((await mms('frobnicate')).code).toBe(2);
    expect((await mms('status')).code).toBe(2);
    const help = await mms('--help');
    expect(help.code).toBe(0);
    for (const command of [
      'validate',
      'schema',
      'start',
      'watch',
      'report',
      'list',
      'catalog',
      'worker',
      'demo',
    ])
      expect(help.stdout).toContain(command);
  });
});

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

describe('progress on a terminal', () => {
  it.skipIf(!hasTmux)('start --wait draws a bar per running task in a real terminal (tmux)', async () => {
    const session = uniqueName('mms_tty');
    const file = specFile({ tables: ['slow', 't1'], chunkRows: 1000, throttle: { rowsPerSecond: 2_000 } });
    const command =
      `env MMS_TASK_QUEUE=${taskQueue} MMS_TEMPORAL_ADDRESS=${services.temporalAddress} ` +
      `${mmsCommand.join(' ')} start ${file} --wait; echo EXIT=$?; sleep 300`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '150', '-y', '40', command]);
    const screen = (): string =>
      execFileSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' });
    try {
      const during = await waitFor(
        () => {
          const s = screen();
          return Promise.resolve(/slow +█*░+ \d+% \| [\d,]+ rows \(copy\)/.test(s) ? s : null);
        },
        60_000,
        'a progress bar for the slow table',
      );
      expect(during).toMatch(/^job +[█░]+ \d+% \| \d\/2 tasks/m);
      const after = await waitFor(
        () => Promise.resolve(/EXIT=\d+/.test(screen()) ? screen() : null),
        60_000,
        'the end',
      );
      expect(after).toContain('EXIT=0');
      expect(after).toMatch(/succeeded: 2\/2 tasks succeeded/);
    } finally {
      execFileSync('tmux', ['kill-session', '-t', session]);
    }
  });
});
