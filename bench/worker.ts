import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { workflowBundlePath } from '../src/worker/workflow-bundle';
import { root } from './env';

/**
 * A worker as its own OS process (the approach of test/support/services.ts), so its peak RSS
 * and CPU time are the worker's alone. One fresh worker per route makes the peak per route.
 */
export interface BenchWorker {
  pid: number;
  /** RSS once it polls, before any job: what the process costs doing nothing. */
  idleRssMb: number;
  /** Settles with a description when the process ends; a route races its job against it. */
  exited: Promise<string>;
  /** Peak RSS so far (VmHWM): read it before stopping the process. */
  peakRssMb(): number;
  /** User + system CPU seconds since it started polling (or since {@link restartCpuClock}): the job's CPU. */
  cpuSeconds(): number;
  /** Counts CPU from now on, so a warm-up job is not counted. */
  restartCpuClock(): void;
  /** Everything it printed, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/** The workflow bundle a worker would build for itself, built once per invocation so each worker starts in about a second. */
export function bundleWorkflows(): Promise<string> {
  return workflowBundlePath({ ...process.env, MMS_WORKFLOW_BUNDLE: undefined });
}

/** How a route's worker runs: compiled (`node dist/…/main.js`, as the Docker image runs it) or from the sources under tsx. */
export type WorkerMode = 'compiled' | 'tsx';

/**
 * The node arguments that run `mms`. Compiled, the sources are built once per invocation into
 * .mms/bench-dist (inside the repository, so node_modules resolves), as `npm run build` builds dist/.
 */
export function mmsCommand(mode: WorkerMode): string[] {
  if (mode === 'tsx') return ['--import', 'tsx', path.join(root, 'src/client/cli/main.ts')];
  const outDir = path.join(root, '.mms/bench-dist');
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', outDir],
    { cwd: root, stdio: 'inherit' },
  );
  return [path.join(outDir, 'src/client/cli/main.js')];
}

function procStatus(pid: number, key: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN) / 1024;
}

function procCpuSeconds(pid: number): number {
  // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 per second on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Starts `mms worker` on a task queue and waits until it polls for both workflow and activity tasks. */
export async function startWorker(options: {
  client: Client;
  namespace: string;
  taskQueue: string;
  connectionsFile: string;
  bundle: string;
  /** Node arguments that run `mms` (see {@link mmsCommand}). */
  command: string[];
  /** Extra node flags, such as V8 heap settings. */
  nodeFlags?: string[];
  /** Extra environment, such as glibc malloc settings. */
  env?: NodeJS.ProcessEnv;
  cpuProfDir?: string;
}): Promise<BenchWorker> {
  const profile = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
  const child = spawn(
    process.execPath,
    [...profile, ...(options.nodeFlags ?? []), ...options.command, 'worker'],
    {
      cwd: root,
      env: {
        ...process.env,
        MMS_TASK_QUEUE: options.taskQueue,
        MMS_CONNECTIONS_FILE: options.connectionsFile,
        MMS_WORKFLOW_BUNDLE: options.bundle,
        MMS_LOG_LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  // BENCH_WORKER_LOG=file keeps the worker's whole output (say, with --node-flags=--trace-gc).
  const logFile = process.env.BENCH_WORKER_LOG;
  const keep = (d: Buffer): void => {
    if (logFile) appendFileSync(logFile, d);
    output = (output + d.toString()).slice(-10_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) =>
      resolve(`worker exited (${signal ?? `code ${code}`}): ${whyItDied(output)}`),
    ),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the worker');
  let alive = true;
  let readyCpuSeconds = 0;
  // Sampled too, so a worker that dies (say, out of memory) still leaves its last known peak and CPU time.
  const last = { peakRssMb: NaN, cpuSeconds: NaN };
  const sample = (): void => {
    try {
      // A zombie (exited, not yet reaped) has no VmHWM line: keep the last real sample then.
      const peak = procStatus(pid, 'VmHWM');
      if (Number.isFinite(peak)) last.peakRssMb = peak;
      last.cpuSeconds = procCpuSeconds(pid);
    } catch {
      // The process is gone; keep the last sample.
    }
  };
  const sampler = setInterval(sample, 500);
  void exited.then(() => {
    alive = false;
    clearInterval(sampler);
  });
  const worker: BenchWorker = {
    pid,
    idleRssMb: 0,
    exited,
    peakRssMb() {
      if (alive) sample();
      return last.peakRssMb;
    },
    cpuSeconds() {
      if (alive) sample();
      return last.cpuSeconds - readyCpuSeconds;
    },
    restartCpuClock() {
      readyCpuSeconds = procCpuSeconds(pid);
    },
    output: () => output,
    async stop() {
      if (alive) child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + 60_000;
  while (!(await polling(options.client, options.namespace, options.taskQueue))) {
    if (!alive) throw new Error(await exited);
    if (Date.now() > deadline) {
      await worker.stop();
      throw new Error(`worker did not poll ${options.taskQueue} within 60 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  worker.idleRssMb = procStatus(pid, 'VmRSS');
  readyCpuSeconds = procCpuSeconds(pid);
  return worker;
}

/** True when the task queue has a workflow poller and an activity poller. */
async function polling(client: Client, namespace: string, name: string): Promise<boolean> {
  // TaskQueueType 1 = workflow, 2 = activity.
  for (const taskQueueType of [1, 2]) {
    const described = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name },
      taskQueueType,
    });
    if ((described.pollers ?? []).length === 0) return false;
  }
  return true;
}

/** The line of a dead worker's output that says why: its first error line, else its last line. */
function whyItDied(output: string): string {
  const lines = output.trim().split('\n');
  return (
    lines.find((l) => /heap out of memory|^\s*(\w*Error\b|FATAL)/.test(l)) ??
    lines.at(-1) ??
    ''
  ).trim();
}
