/** Running one mms job for a route, and setting its time next to its baselines' times. */
import path from 'node:path';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { MigrationClient } from '../src/client/migration-client';
import type { JobReport } from '../src/core/task';
import type { JobSpecInput } from '../src/spec/job-spec';
import { manySchemaName } from './dataset';
import { busyShare, machineCpu, redact, type Services } from './env';
import { startWorker, type BenchWorker, type WorkerMode } from './worker';

/** One line of the results table. */
export interface Result {
  route: string;
  rows: number;
  seconds?: number;
  baseline?: string;
  baselineSeconds?: number;
  /** Our time / the baseline's time; for the orchestration route, milliseconds per task. */
  ratio?: number;
  unit?: 'x' | 'ms/task';
  target: string;
  met?: boolean;
  peakRssMb?: number;
  idleRssMb?: number;
  workerCpuSeconds?: number;
  /** The share of all cores busy while the job ran (any process): near 1, the machine was the limit. */
  machineBusy?: number;
  /** An error, or why the line was skipped. */
  note?: string;
  /** Every round's seconds, ours and the baseline's, when the route ran more than one. */
  rounds?: { seconds: number[]; baselineSeconds: number[] };
}

export interface BenchOptions {
  rows: number;
  chunkRows: number;
  /** Rounds of each ratio route: its job and its targeted baselines, one after the other. */
  repeat: number;
  bigRows: number;
  bigMb: number;
  tables: number;
  tasksParallel: number;
  routeTimeoutSeconds: number;
  /** How the worker runs: compiled (the default, as deployed) or under tsx. */
  worker: WorkerMode;
  /** Extra node flags for the worker. */
  nodeFlags: string[];
  /** MALLOC_MMAP_THRESHOLD_ for the worker, as the Docker image sets it; 0 leaves glibc's default. */
  mallocMmapThreshold: number;
  cpuProfDir?: string;
}

/** Everything a route needs: services, admin pools, the worker's files. */
export interface Bench {
  s: Services;
  options: BenchOptions;
  pgSource: pg.Pool;
  pgTarget: pg.Pool;
  my: mysql.Pool;
  bundle: string;
  /** Node arguments that run `mms`. */
  mms: string[];
  connectionsFile: string;
  tmp: string;
  stamp: string;
  /** Why MySQL routes cannot run, when they cannot. */
  mysqlUnavailable?: string;
  log(message: string): void;
}

/** The worker's RSS target on every route. */
export const rssLimitMb = 300;

/** A time-ratio target: ours / baseline must stay at or under `max`; without `max`, a reference line with no target. */
export interface Target {
  label: string;
  max?: number;
}
export const atMost = (max: number): Target => ({ label: `≤ ${max.toFixed(2)}×`, max });
export const fasterBy = (factor: number): Target => ({ label: `≥ ${factor}× faster`, max: 1 / factor });
export const reference: Target = { label: 'reference' };

export interface JobRun {
  seconds: number;
  peakRssMb: number;
  idleRssMb: number;
  cpuSeconds: number;
  machineBusy: number;
  report: JobReport;
}

export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function timeout(seconds: number, what: string): { promise: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no report after ${seconds} s`)), seconds * 1000);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/**
 * Runs one job through the real dev server and a fresh worker process on a task queue of its own,
 * timed from `client.start` to the report. A worker that dies or a job that overruns fails the route.
 */
export async function runJob(
  b: Bench,
  route: string,
  spec: JobSpecInput,
  expectedRows: number,
): Promise<JobRun> {
  const taskQueue = `mms-bench-${route}-${b.stamp}`;
  const client = await MigrationClient.connect({
    address: b.s.temporalAddress,
    namespace: b.s.namespace,
    taskQueue,
  });
  let worker: BenchWorker | undefined;
  let running: string | undefined;
  try {
    worker = await startWorker({
      client: client.temporal,
      namespace: b.s.namespace,
      taskQueue,
      connectionsFile: b.connectionsFile,
      bundle: b.bundle,
      command: b.mms,
      nodeFlags: b.options.nodeFlags,
      env: b.options.mallocMmapThreshold
        ? { MALLOC_MMAP_THRESHOLD_: String(b.options.mallocMmapThreshold) }
        : {},
      cpuProfDir: b.options.cpuProfDir && path.join(b.options.cpuProfDir, route),
    });
    const dead = worker.exited.then((why) => Promise.reject(new Error(why)));
    await warmUp(client, taskQueue, dead);
    worker.restartCpuClock();
    const limit = timeout(b.options.routeTimeoutSeconds, route);
    const started = performance.now();
    const cpuBefore = machineCpu();
    running = (await client.start({ ...spec, jobId: taskQueue })).jobId;
    const report = await Promise.race([client.result(running), dead, limit.promise]).finally(limit.clear);
    const seconds = (performance.now() - started) / 1000;
    const machineBusy = busyShare(cpuBefore, machineCpu());
    running = undefined;
    const run = {
      seconds,
      peakRssMb: worker.peakRssMb(),
      idleRssMb: worker.idleRssMb,
      cpuSeconds: worker.cpuSeconds(),
      machineBusy,
      report,
    };
    if (report.status !== 'succeeded') {
      const failed = report.results.find((r) => r.status === 'failed');
      throw new Error(`job failed: ${failed?.error?.code}: ${failed?.error?.message}`);
    }
    if (report.rowsWritten !== expectedRows)
      throw new Error(`job wrote ${report.rowsWritten} rows, expected ${expectedRows}`);
    return run;
  } catch (e) {
    // The peak RSS of a failed route is still worth reporting (a worker killed for memory, say).
    const peak = worker?.peakRssMb();
    throw Object.assign(new Error(redact(message(e), b.s)), { peakRssMb: peak });
  } finally {
    if (running)
      await client.temporal.workflow
        .getHandle(running)
        .terminate('benchmark route failed')
        .catch(() => undefined);
    await worker?.stop();
    await client.close();
  }
}

/**
 * A job over one one-row table, not timed: a worker's first job also loads the workflow code into
 * its sandbox (about 0.3–0.5 s here), which a long-running worker pays once, not per job.
 */
async function warmUp(client: MigrationClient, taskQueue: string, dead: Promise<never>): Promise<void> {
  const { jobId } = await client.start({
    jobId: `${taskQueue}-warm-up`,
    kind: 'tables',
    tables: ['t00001'],
    source: { connection: 'pg_source', schema: manySchemaName(1) },
    target: { connection: 'pg_target', schema: 'bench_warm_up' },
    writeMode: 'overwrite',
  });
  const report = await Promise.race([client.result(jobId), dead]);
  if (report.status !== 'succeeded') throw new Error(`the warm-up job ${report.status}`);
}

/** Runs a baseline, turning a failure into a note instead of losing the route's own numbers. */
export async function tryBaseline(
  b: Bench,
  name: string,
  run: () => Promise<number>,
): Promise<number | Error> {
  b.log(`  baseline: ${name}`);
  try {
    return await run();
  } catch (e) {
    return new Error(redact(message(e), b.s));
  }
}

/** The middle value of a non-empty list (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A baseline as `compare` takes it: one measurement per round, or one for a reference run once. */
export interface BaselineRuns {
  name: string;
  target: Target;
  seconds: (number | Error)[];
  note?: string;
}

/**
 * The results lines of one route: its jobs next to each of its baselines. With several rounds each
 * side counts as its median (peak RSS as its maximum), the ratio is median over median, and the note
 * gives every round's ratio, so one slow moment of a noisy machine neither makes nor breaks a target.
 */
export function compare(
  route: string,
  rows: number,
  jobs: (JobRun | Error)[],
  baselines: BaselineRuns[],
): Result[] {
  const failed = jobs.find((j): j is Error => j instanceof Error);
  const runs = jobs.filter((j): j is JobRun => !(j instanceof Error));
  return baselines.map((base): Result => {
    const line: Result = { route, rows, baseline: base.name, target: base.target.label, unit: 'x' };
    const notes: string[] = [];
    if (failed) {
      notes.push(failed.message);
      line.peakRssMb = (failed as Error & { peakRssMb?: number }).peakRssMb;
      line.met = false;
    } else {
      line.seconds = median(runs.map((r) => r.seconds));
      line.peakRssMb = Math.max(...runs.map((r) => r.peakRssMb));
      line.idleRssMb = median(runs.map((r) => r.idleRssMb));
      line.workerCpuSeconds = median(runs.map((r) => r.cpuSeconds));
      line.machineBusy = median(runs.map((r) => r.machineBusy));
    }
    const measured = base.seconds.filter((t): t is number => typeof t === 'number');
    const errors = base.seconds.filter((t): t is Error => t instanceof Error);
    if (errors.length) notes.push(`baseline: ${errors[0]!.message}`);
    if (measured.length) line.baselineSeconds = median(measured);
    if (base.note) notes.push(base.note);
    if (line.seconds !== undefined && line.baselineSeconds !== undefined) {
      line.ratio = line.seconds / line.baselineSeconds;
      // A baseline that failed in some round leaves the target unjudged rather than judged on fewer rounds.
      if (base.target.max !== undefined && !errors.length) line.met = line.ratio <= base.target.max;
      const paired = runs.length > 1 && measured.length === runs.length;
      if (paired) {
        const ratios = runs.map((r, i) => (r.seconds / measured[i]!).toFixed(2));
        notes.unshift(`median of ${runs.length} rounds; by round ${ratios.join(', ')}×`);
        line.rounds = { seconds: runs.map((r) => r.seconds), baselineSeconds: measured };
      }
    }
    if (notes.length) line.note = notes.join('; ');
    return line;
  });
}
