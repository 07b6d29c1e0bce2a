import { spawn } from 'node:child_process';
import path from 'node:path';
import { services } from './services';

const root = path.resolve(__dirname, '../..');

/** What a finished CLI process left behind. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The command line that runs the `mms` CLI from source, as `npm run mms` does. */
export const mmsCommand = [process.execPath, '--import', 'tsx', path.join(root, 'src/client/cli/main.ts')];

/** Runs `mms <args>` as its own process against the test Temporal server and a task queue. */
export function runMms(
  args: string[],
  options: { taskQueue?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliRun> {
  return runProcess(
    mmsCommand[0]!,
    [...mmsCommand.slice(1), ...args],
    {
      MMS_TEMPORAL_ADDRESS: services.temporalAddress,
      ...(options.taskQueue ? { MMS_TASK_QUEUE: options.taskQueue } : {}),
      ...options.env,
    },
    options.timeoutMs,
  );
}

/**
 * Runs any program from the repository root, collecting its output; never rejects on a non-zero exit.
 * `env` adds to this process's environment; an undefined value removes that variable.
 */
export function runProcess(
  command: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 110_000,
): Promise<CliRun> {
  const fullEnv = Object.fromEntries(
    Object.entries({ ...process.env, ...env }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: fullEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
