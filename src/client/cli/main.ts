import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Command, CommanderError } from 'commander';
import { ErrorCode, MigrationError } from '../../core/errors';
import { redact } from '../../core/secrets';
import { jobSpecJsonSchema } from '../../spec/json-schema';
import { formatSpecIssues, parseJobSpec, type JobSpecInput } from '../../spec/job-spec';
import { readSpecFile } from '../../spec/load';
import { JobStatus } from '../../workflows/definitions';
import { MigrationClient } from '../migration-client';
import { payloadCodecFromEnv, startCodecServer } from '../payload-codec';
import { addPlanCommand } from './plan-command';
import { formatBytes, progressLine, reportMarkdown, reportText, table } from './output';
import { followJob } from './progress';

/** Exit codes: 0 success, 1 a job or task failed, 2 bad input or usage. */
const Exit = { Ok: 0, Failed: 1, BadInput: 2 } as const;

/** Error codes that mean "fix what you gave me" rather than "the job failed". */
const inputErrorCodes = new Set<string>([
  ErrorCode.BadSpec,
  ErrorCode.UnknownConnection,
  ErrorCode.BadConnection,
]);

/** Printed to stdout: JSON for scripts, text for people. */
const print = (json: boolean | undefined, value: unknown, text: () => string): void =>
  console.log(json ? JSON.stringify(value, null, 2) : text());

const program = new Command()
  .name('mms')
  .description(
    'Migrate databases, tables and partitions between PostgreSQL, MySQL/MariaDB and S3, on Temporal.',
  )
  .showHelpAfterError()
  // Throw instead of exiting, so usage errors get exit code 2 like every other bad input.
  .exitOverride();

addPlanCommand(program);

program
  .command('codec-server')
  .description(
    'serve the payload codec for the Web UI (--ui-codec-endpoint), decrypting with MMS_PAYLOAD_KEY',
  )
  .option('--port <port>', 'port on 127.0.0.1', '8888')
  .option('--origin <url>', 'the Web UI origin allowed to call it', 'http://127.0.0.1:8233')
  .action((opts: { port: string; origin: string }) => {
    const codec = payloadCodecFromEnv();
    if (!codec)
      throw new MigrationError(
        ErrorCode.BadConnection,
        'set MMS_PAYLOAD_KEY (base64 of 32 bytes) or MMS_PAYLOAD_KEY_FILE',
      );
    startCodecServer(codec, Number(opts.port), opts.origin);
    console.error(
      `mms codec-server: http://127.0.0.1:${opts.port} (start the UI with --ui-codec-endpoint http://127.0.0.1:${opts.port})`,
    );
  });

program
  .command('validate')
  .description('check a job spec without starting anything')
  .argument('<spec>', 'job spec file (YAML or JSON)')
  .option('--json', 'print the parsed spec (with defaults) as JSON; problems as {ok:false, issues}')
  .action((file: string, opts: { json?: boolean }) => {
    const parsed = parseJobSpec(readSpecFile(file));
    if (!parsed.ok) {
      if (opts.json) console.log(JSON.stringify({ ok: false, issues: parsed.issues }, null, 2));
      else console.error(formatSpecIssues(parsed.issues));
      process.exitCode = Exit.BadInput;
      return;
    }
    print(opts.json, parsed.spec, () => `✔ ${file} is a valid job spec`);
  });

program
  .command('schema')
  .description('print the JSON Schema of job specs (for editors and for services that build specs)')
  .option('--out <file>', 'write it to this file instead of stdout')
  .action((opts: { out?: string }) => {
    const text = `${JSON.stringify(jobSpecJsonSchema(), null, 2)}\n`;
    if (!opts.out) return void process.stdout.write(text);
    mkdirSync(path.dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, text);
    console.error(`wrote ${opts.out}`);
  });

program
  .command('start')
  .description('start a migration job, or re-run one (tasks it completed are skipped)')
  .argument('[spec]', 'job spec file (YAML or JSON)')
  .option('--rerun <jobId>', 're-run a finished job with its original spec; completed tasks are skipped')
  .option('--wait', 'wait for the job to finish, showing progress, and exit non-zero if it failed')
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
  .option('--json', 'the same as --format json')
  .action(async (jobId: string, opts: { format: string; json?: boolean }) => {
    const format = opts.json ? 'json' : opts.format;
    if (!['table', 'json', 'markdown'].includes(format))
      throw new MigrationError(
        ErrorCode.BadSpec,
        `--format must be table, json or markdown, not "${format}"`,
      );
    await withClient(async (client) => {
      const report = await client.result(jobId);
      if (format === 'json') console.log(JSON.stringify(report, null, 2));
      else if (format === 'markdown') console.log(reportMarkdown(report));
      else console.log(reportText(report));
      if (report.status !== 'succeeded') process.exitCode = Exit.Failed;
    });
  });

program
  .command('list')
  .description('list recent jobs (from Temporal visibility, by our search attributes)')
  .option('--status <status>', Object.values(JobStatus).join(', '))
  .option('--limit <n>', 'at most this many', '50')
  .option('--json', 'print machine-readable JSON')
  .action(async (opts: { status?: string; limit: string; json?: boolean }) => {
    if (opts.status && !(Object.values(JobStatus) as string[]).includes(opts.status))
      throw new MigrationError(
        ErrorCode.BadSpec,
        `--status must be one of ${Object.values(JobStatus).join(', ')}, not "${opts.status}"`,
      );
    const limit = wholeNumber(opts.limit, '--limit', 1, 10_000);
    await withClient(async (client) => {
      const jobs = await client.list({ status: opts.status, limit });
      print(opts.json, jobs, () =>
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
    .option('--json', 'print machine-readable JSON')
    .action(async (jobId: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        await act(client, jobId);
        print(opts.json, { jobId, sent: name }, () => `${name}: sent to job ${jobId}`);
      });
    });
}

program
  .command('retry')
  .description('run the failed tasks again (a finished job is re-run, skipping what completed)')
  .argument('<jobId>')
  .option('--json', 'print machine-readable JSON')
  .action(async (jobId: string, opts: { json?: boolean }) => {
    await withClient(async (client) => {
      const outcome = await client.retryFailed(jobId);
      print(opts.json, outcome, () =>
        outcome.rerun
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
  .option('--json', 'print machine-readable JSON')
  .action(async (jobId: string, n: string, opts: { json?: boolean }) => {
    const parallelism = wholeNumber(n, 'parallelism', 1, 500);
    await withClient(async (client) => {
      const previous = await client.setParallelism(jobId, parallelism);
      print(
        opts.json,
        { jobId, previous, parallelism },
        () => `job ${jobId}: parallelism ${previous} → ${parallelism}`,
      );
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
      print(opts.json, status, () =>
        [
          `job ${jobId}: ${status.execution}\n  ${status.url}`,
          ...(status.progress ? [progressLine(status.progress)] : []),
          ...(status.report ? [reportText(status.report)] : []),
        ].join('\n'),
      );
      if (status.execution !== 'RUNNING' && status.report?.status !== 'succeeded')
        process.exitCode = Exit.Failed;
    });
  });

program
  .command('catalog')
  .description(
    "list a source's tables with primary keys and size estimates (read by a worker, which has the credentials)",
  )
  .argument('<connection>', 'a connection name the workers know')
  .option('--schema <schema>', 'PostgreSQL schema or MySQL database', 'public')
  .option('--include <glob...>', 'only tables matching these globs')
  .option('--json', 'print machine-readable JSON')
  .action(async (connection: string, opts: { schema: string; include?: string[]; json?: boolean }) => {
    await withClient(async (client) => {
      const catalog = await client.catalog(connection, opts.schema, opts.include);
      print(opts.json, catalog, () => {
        const rows = catalog.tables.map((t) => [
          t.name,
          t.estimatedRows.toLocaleString('en-US'),
          formatBytes(t.estimatedBytes),
          t.columns,
          t.primaryKey.join(', ') || '(none: cannot be copied yet)',
        ]);
        const more = catalog.truncated ? ' (more not listed; narrow with --include)' : '';
        return (
          `${connection}:${catalog.schema}: ${catalog.tables.length} tables${more}\n\n` +
          table(['table', 'est. rows', 'est. size', 'columns', 'primary key'], rows)
        );
      });
    });
  });

program
  .command('worker')
  .description('run a worker that executes migration jobs (credentials are resolved here)')
  .option('--connections <file>', 'connections file (default: $MMS_CONNECTIONS_FILE)')
  .option(
    '--metrics-port <port>',
    'serve Prometheus metrics at /metrics on this port (default: $MMS_METRICS_PORT, else off)',
  )
  .action(async (opts: { connections?: string; metricsPort?: string }) => {
    const port = opts.metricsPort ?? process.env.MMS_METRICS_PORT;
    const metricsPort = port ? wholeNumber(port, '--metrics-port', 0, 65535) : undefined;
    const { runWorker } = await import('../../worker/worker.js');
    const { loadConnections } = await import('../../worker/connections.js');
    const connections = loadConnections({ file: opts.connections });
    console.error(
      `mms worker: connections ${connections.names().join(', ') || '(none)'}; polling task queue ${process.env.MMS_TASK_QUEUE ?? 'mms'}` +
        (metricsPort === undefined ? '' : `; metrics on :${metricsPort}/metrics`),
    );
    await runWorker({ connections, metricsPort });
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
    const orders = wholeNumber(opts.rows, '--rows', 1, 100_000_000);
    const { runDemo } = await import('../demo/demo.js');
    const report = await runDemo({ outDir: opts.out, orders, keep: Boolean(opts.keep) });
    if (report.status !== 'succeeded') process.exitCode = Exit.Failed;
  });

/** Parses a whole-number argument or fails as bad input. */
function wholeNumber(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new MigrationError(
      ErrorCode.BadSpec,
      `${what} must be a whole number from ${min} to ${max}, not "${text}"`,
    );
  return n;
}

/** Connects, runs one command, and always closes the connection. */
async function withClient(run: (client: MigrationClient) => Promise<void>): Promise<void> {
  const client = await MigrationClient.connect();
  try {
    await run(client);
  } finally {
    await client.close();
  }
}

/** Follows a job with progress (bars on a terminal, lines otherwise), then prints its report and sets the exit code. */
async function printOutcome(client: MigrationClient, jobId: string, json?: boolean): Promise<void> {
  const report = await followJob(client, jobId, { json, tty: Boolean(process.stderr.isTTY) });
  print(json, report, () => reportText(report));
  if (report.status !== 'succeeded') process.exitCode = Exit.Failed;
}

/** Prints any error once, as `✖ message [CODE]`, and picks the exit code. */
function fail(e: unknown): void {
  if (e instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    process.exitCode = e.exitCode === 0 ? Exit.Ok : Exit.BadInput;
    return;
  }
  if (e instanceof WorkflowNotFoundError) {
    console.error(`✖ no job or workflow "${e.workflowId}" in this namespace`);
    process.exitCode = Exit.BadInput;
    return;
  }
  // A job that failed arrives as a WorkflowFailedError whose innermost cause has the code.
  let cause: unknown = e;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  const code = e instanceof MigrationError ? e.code : ((cause as { type?: string }).type ?? undefined);
  // A rejected update (e.g. parallelism out of range) is the caller's mistake, like a bad spec.
  const badInput = (code && inputErrorCodes.has(code)) || e instanceof WorkflowUpdateFailedError;
  const message =
    cause !== e && cause instanceof Error
      ? `${(e as Error).message}: ${cause.message}`
      : e instanceof Error
        ? e.message
        : String(e);
  console.error(`✖ ${redact(message)}${code ? ` [${code}]` : ''}`);
  process.exitCode = badInput ? Exit.BadInput : Exit.Failed;
}

program.parseAsync().catch(fail);
