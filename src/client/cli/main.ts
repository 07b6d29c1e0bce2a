import { Command } from 'commander';
import { ErrorCode, MigrationError } from '../../core/errors';
import { redact } from '../../core/secrets';
import { formatSpecIssues, parseJobSpec, type JobSpecInput } from '../../spec/job-spec';
import { readSpecFile } from '../../spec/load';
import { MigrationClient } from '../migration-client';
import { progressLine, reportMarkdown, reportText, table } from './output';

/** Exit codes: 0 success, 1 a job or task failed, 2 bad input or usage. */
const Exit = { Ok: 0, Failed: 1, BadInput: 2 } as const;

const program = new Command()
  .name('mms')
  .description(
    'Migrate databases, tables and partitions between PostgreSQL, MySQL/MariaDB and S3, on Temporal.',
  )
  .showHelpAfterError();

program
  .command('validate')
  .description('check a job spec without starting anything')
  .argument('<spec>', 'job spec file (YAML or JSON)')
  .option('--json', 'print the parsed spec (with defaults) as JSON')
  .action((file: string, opts: { json?: boolean }) => {
    const parsed = parseJobSpec(readSpecFile(file));
    if (!parsed.ok) {
      console.error(formatSpecIssues(parsed.issues));
      process.exitCode = Exit.BadInput;
      return;
    }
    console.log(opts.json ? JSON.stringify(parsed.spec, null, 2) : `✔ ${file} is a valid job spec`);
  });

program
  .command('start')
  .description('start a migration job, or re-run one (tasks it completed are skipped)')
  .argument('[spec]', 'job spec file (YAML or JSON)')
  .option('--rerun <jobId>', 're-run a finished job with its original spec; completed tasks are skipped')
  .option('--wait', 'wait for the job to finish, printing progress, and exit non-zero if it failed')
  .option('--job-id <id>', 'use this job id')
  .option('--json', 'print machine-readable JSON')
  .action(
    async (
      file: string | undefined,
      opts: { rerun?: string; wait?: boolean; jobId?: string; json?: boolean },
    ) => {
      if (!file && !opts.rerun)
        throw new MigrationError(ErrorCode.BadSpec, 'give a spec file, or --rerun <jobId>');
      await withClient(async (client) => {
        let started;
        if (opts.rerun) started = await client.rerun(opts.rerun);
        else {
          const spec = readSpecFile(file!) as Record<string, unknown>;
          if (opts.jobId) spec.jobId = opts.jobId;
          started = await client.start(spec as JobSpecInput);
        }
        if (opts.json && !opts.wait) console.log(JSON.stringify(started));
        else if (!opts.json) console.log(`started job ${started.jobId}\n  watch it: ${started.url}`);
        if (opts.wait) await printOutcome(client, started.jobId, opts.json);
      });
    },
  );

program
  .command('watch')
  .description('follow a running job until it ends, then print its report')
  .argument('<jobId>')
  .option('--json', 'print the report as JSON')
  .action(async (jobId: string, opts: { json?: boolean }) => {
    await withClient((client) => printOutcome(client, jobId, opts.json));
  });

program
  .command('report')
  .description("print a finished job's report")
  .argument('<jobId>')
  .option('--format <format>', 'table, json or markdown', 'table')
  .action(async (jobId: string, opts: { format: string }) => {
    await withClient(async (client) => {
      const report = await client.result(jobId);
      if (opts.format === 'json') console.log(JSON.stringify(report, null, 2));
      else if (opts.format === 'markdown') console.log(reportMarkdown(report));
      else console.log(reportText(report));
      if (report.status !== 'succeeded') process.exitCode = Exit.Failed;
    });
  });

program
  .command('list')
  .description('list recent jobs (from Temporal visibility, by our search attributes)')
  .option('--status <status>', 'running, succeeded, failed or cancelled')
  .option('--limit <n>', 'at most this many', '50')
  .option('--json', 'print machine-readable JSON')
  .action(async (opts: { status?: string; limit: string; json?: boolean }) => {
    await withClient(async (client) => {
      const jobs = await client.list({ status: opts.status, limit: Number(opts.limit) });
      if (opts.json) console.log(JSON.stringify(jobs, null, 2));
      else
        console.log(
          table(
            ['job', 'status', 'started'],
            jobs.map((j) => [j.jobId, j.status, j.startTime.toISOString()]),
          ),
        );
    });
  });

for (const [name, description, act] of [
  ['pause', 'start no new tasks; running ones finish', (c: MigrationClient, id: string) => c.pause(id)],
  ['resume', 'start tasks again after a pause', (c: MigrationClient, id: string) => c.resume(id)],
  [
    'cancel',
    'cancel a job; running copies stop at a chunk boundary',
    (c: MigrationClient, id: string) => c.cancel(id),
  ],
] as const) {
  program
    .command(name)
    .description(description)
    .argument('<jobId>')
    .action(async (jobId: string) => {
      await withClient(async (client) => {
        await act(client, jobId);
        console.log(`${name}: sent to job ${jobId}`);
      });
    });
}

program
  .command('retry')
  .description('run the failed tasks again (a finished job is re-run, skipping what completed)')
  .argument('<jobId>')
  .action(async (jobId: string) => {
    await withClient(async (client) => {
      const { rerun } = await client.retryFailed(jobId);
      console.log(
        rerun
          ? `job ${jobId} re-run: only tasks that did not complete will run`
          : `job ${jobId}: failed tasks queued again`,
      );
    });
  });

program
  .command('parallelism')
  .description('change how many tasks a running job runs at once')
  .argument('<jobId>')
  .argument('<n>', 'tasks at once (1-500)')
  .action(async (jobId: string, n: string) => {
    await withClient(async (client) => {
      const previous = await client.setParallelism(jobId, Number(n));
      console.log(`job ${jobId}: parallelism ${previous} → ${n}`);
    });
  });

program
  .command('status')
  .description('show where a job stands: progress while it runs, the report when it is done')
  .argument('<jobId>')
  .option('--json', 'print machine-readable JSON')
  .action(async (jobId: string, opts: { json?: boolean }) => {
    await withClient(async (client) => {
      const status = await client.status(jobId);
      if (opts.json) console.log(JSON.stringify(status, null, 2));
      else {
        console.log(`job ${jobId}: ${status.execution}\n  ${status.url}`);
        if (status.progress) console.log(progressLine(status.progress));
        if (status.report) console.log(reportText(status.report));
      }
      if (status.execution !== 'RUNNING' && status.report?.status !== 'succeeded')
        process.exitCode = Exit.Failed;
    });
  });

program
  .command('worker')
  .description('run a worker that executes migration jobs (credentials are resolved here)')
  .option('--connections <file>', 'connections file (default: $MMS_CONNECTIONS_FILE)')
  .action(async (opts: { connections?: string }) => {
    const { runWorker } = await import('../../worker/worker.js');
    const { loadConnections } = await import('../../worker/connections.js');
    const connections = loadConnections({ file: opts.connections });
    console.error(
      `mms worker: connections ${connections.names().join(', ') || '(none)'}; polling task queue ${process.env.MMS_TASK_QUEUE ?? 'mms'}`,
    );
    await runWorker({ connections });
  });

program
  .command('demo')
  .description(
    'run a sample migration with an embedded Temporal server, an embedded PostgreSQL (PGlite) and a local directory',
  )
  .option('--out <dir>', 'where the migrated tables are written', 'mms-demo-output')
  .option('--rows <n>', 'orders in the sample database', '20000')
  .option('--keep', 'keep the embedded server and Web UI running after the job (Ctrl-C to stop)')
  .action(async (opts: { out: string; rows: string; keep?: boolean }) => {
    const { runDemo } = await import('../demo/demo.js');
    const report = await runDemo({ outDir: opts.out, orders: Number(opts.rows), keep: Boolean(opts.keep) });
    if (report.status !== 'succeeded') process.exitCode = Exit.Failed;
  });

/** Connects, runs one command, and always closes the connection. */
async function withClient(run: (client: MigrationClient) => Promise<void>): Promise<void> {
  const client = await MigrationClient.connect();
  try {
    await run(client);
  } finally {
    await client.close();
  }
}

/** Follows a job with progress lines on stderr, then prints its report and sets the exit code. */
async function printOutcome(client: MigrationClient, jobId: string, json?: boolean): Promise<void> {
  const result = client.result(jobId);
  let done = false;
  void result.finally(() => (done = true)).catch(() => undefined);
  let last = '';
  while (!done) {
    await new Promise((r) => setTimeout(r, 1000));
    if (done || json) continue;
    const line = await client
      .progress(jobId)
      .then(progressLine)
      .catch(() => '');
    if (line && line !== last) console.error(line);
    last = line || last;
  }
  const report = await result;
  console.log(json ? JSON.stringify(report, null, 2) : reportText(report));
  if (report.status !== 'succeeded') process.exitCode = Exit.Failed;
}

program.parseAsync().catch((e: unknown) => {
  // A job that failed arrives as a WorkflowFailedError whose innermost cause has the code.
  let cause: unknown = e;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  const code = e instanceof MigrationError ? e.code : ((cause as { type?: string }).type ?? undefined);
  if (cause !== e && cause instanceof Error) e = new Error(`${(e as Error).message}: ${cause.message}`);
  console.error(`✖ ${redact(e instanceof Error ? e.message : String(e))}${code ? ` [${code}]` : ''}`);
  process.exitCode = code === 'BAD_SPEC' ? Exit.BadInput : Exit.Failed;
});
