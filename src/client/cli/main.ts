import { Command } from 'commander';
import { MigrationError } from '../../core/errors';
import { redact } from '../../core/secrets';
import { formatSpecIssues, parseJobSpec, type JobSpecInput } from '../../spec/job-spec';
import { readSpecFile } from '../../spec/load';
import { MigrationClient } from '../migration-client';
import { progressLine, reportText } from './output';

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
  .description('start a migration job')
  .argument('<spec>', 'job spec file (YAML or JSON)')
  .option('--wait', 'wait for the job to finish, printing progress, and exit non-zero if it failed')
  .option('--job-id <id>', 'use this job id (re-running an id resumes what is not done)')
  .option('--json', 'print machine-readable JSON')
  .action(async (file: string, opts: { wait?: boolean; jobId?: string; json?: boolean }) => {
    const spec = readSpecFile(file) as Record<string, unknown>;
    if (opts.jobId) spec.jobId = opts.jobId;
    const client = await MigrationClient.connect();
    try {
      const started = await client.start(spec as JobSpecInput);
      if (opts.json && !opts.wait) console.log(JSON.stringify(started));
      else if (!opts.json) console.log(`started job ${started.jobId}\n  watch it: ${started.url}`);
      if (!opts.wait) return;
      const report = await waitWithProgress(client, started.jobId, !opts.json);
      console.log(opts.json ? JSON.stringify(report, null, 2) : reportText(report));
      if (report.status !== 'succeeded') process.exitCode = Exit.Failed;
    } finally {
      await client.close();
    }
  });

program
  .command('status')
  .description('show where a job stands: progress while it runs, the report when it is done')
  .argument('<jobId>')
  .option('--json', 'print machine-readable JSON')
  .action(async (jobId: string, opts: { json?: boolean }) => {
    const client = await MigrationClient.connect();
    try {
      const status = await client.status(jobId);
      if (opts.json) console.log(JSON.stringify(status, null, 2));
      else {
        console.log(`job ${jobId}: ${status.execution}\n  ${status.url}`);
        if (status.progress) console.log(progressLine(status.progress));
        if (status.report) console.log(reportText(status.report));
      }
      if (status.execution !== 'RUNNING' && status.report?.status !== 'succeeded')
        process.exitCode = Exit.Failed;
    } finally {
      await client.close();
    }
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

/** Polls the progress query and prints a line whenever it changes. */
async function waitWithProgress(client: MigrationClient, jobId: string, print: boolean) {
  const result = client.result(jobId);
  let done = false;
  void result.finally(() => (done = true)).catch(() => undefined);
  let last = '';
  while (!done) {
    await new Promise((r) => setTimeout(r, 1000));
    if (done || !print) continue;
    const line = await client
      .progress(jobId)
      .then(progressLine)
      .catch(() => '');
    if (line && line !== last) console.error(line);
    last = line || last;
  }
  return result;
}

program.parseAsync().catch((e: unknown) => {
  const code = e instanceof MigrationError ? e.code : undefined;
  console.error(`✖ ${redact(e instanceof Error ? e.message : String(e))}${code ? ` [${code}]` : ''}`);
  process.exitCode = code === 'BAD_SPEC' ? Exit.BadInput : Exit.Failed;
});
