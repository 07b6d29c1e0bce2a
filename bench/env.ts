import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const root = path.resolve(__dirname, '..');

/** Settings of the local services, from `scripts/services.sh env` (the same ones the tests use). */
export interface Services {
  pg: { host: string; port: number; user: string; password: string; sourceDb: string; targetDb: string };
  pgReader: { user: string; password: string };
  my: { host: string; port: number; user: string; password: string; sourceDb: string; targetDb: string };
  s3: { endpoint: string; region: string; bucket: string; accessKey: string; secretKey: string };
  temporalAddress: string;
  namespace: string;
}

/** Starts the services if they are down (a no-op when they run) and exports their settings into process.env. */
export function loadServices(): Services {
  const script = path.join(root, 'scripts/services.sh');
  execFileSync('bash', [script, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exports = execFileSync('bash', [script, 'env'], { encoding: 'utf8' });
  for (const line of exports.split('\n')) {
    const match = line.match(/^export ([A-Z0-9_]+)=(.*)$/);
    if (match?.[1]) process.env[match[1]] ??= match[2]!.replace(/^'(.*)'$/, '$1');
  }
  const env = (name: string): string => {
    const value = process.env[name];
    if (value === undefined) throw new Error(`scripts/services.sh env did not set ${name}`);
    return value;
  };
  return {
    pg: {
      host: env('MMS_PG_HOST'),
      port: Number(env('MMS_PG_PORT')),
      user: env('MMS_PG_USER'),
      password: env('MMS_PG_PASSWORD'),
      sourceDb: env('MMS_PG_SOURCE_DB'),
      targetDb: env('MMS_PG_TARGET_DB'),
    },
    pgReader: { user: env('MMS_PG_READER_USER'), password: env('MMS_PG_READER_PASSWORD') },
    my: {
      host: env('MMS_MYSQL_HOST'),
      port: Number(env('MMS_MYSQL_PORT')),
      user: env('MMS_MYSQL_USER'),
      password: env('MMS_MYSQL_PASSWORD'),
      sourceDb: env('MMS_MYSQL_SOURCE_DB'),
      targetDb: env('MMS_MYSQL_TARGET_DB'),
    },
    s3: {
      endpoint: env('MMS_S3_ENDPOINT'),
      region: env('MMS_S3_REGION'),
      bucket: env('MMS_S3_BUCKET'),
      accessKey: env('MMS_S3_ACCESS_KEY'),
      secretKey: env('MMS_S3_SECRET_KEY'),
    },
    temporalAddress: env('MMS_TEMPORAL_ADDRESS'),
    namespace: env('MMS_TEMPORAL_NAMESPACE'),
  };
}

/** Replaces every known password in a text, so tool errors can be printed and saved. */
export function redact(text: string, services: Services): string {
  let out = text;
  for (const secret of [
    services.pg.password,
    services.pgReader.password,
    services.my.password,
    services.s3.secretKey,
  ])
    if (secret) out = out.split(secret).join('***').split(encodeURIComponent(secret)).join('***');
  return out;
}

/** Environment for psql and mysql: passwords travel in variables, never on a command line. */
export function clientEnv(services: Services): NodeJS.ProcessEnv {
  return { ...process.env, PGPASSWORD: services.pg.password, MYSQL_PWD: services.my.password };
}

/**
 * Runs a bash command line (pipes allowed, `pipefail` on) and returns its wall time in seconds.
 * It runs in its own process group, so a timeout kills every process of a pipe.
 */
export function shell(
  command: string,
  options: { env: NodeJS.ProcessEnv; timeoutSeconds: number },
): Promise<{ seconds: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-20_000)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, options.timeoutSeconds * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) return resolve({ seconds, stdout });
      const why = signal ? `killed by ${signal} after ${seconds.toFixed(0)} s` : `exit ${code}`;
      const tail = (stderr || stdout).trim().split('\n').slice(-6).join(' | ');
      reject(new Error(`${command.split(' ')[0]} failed (${why}): ${tail}`));
    });
  });
}

/** True when a program is on PATH. */
export function onPath(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What the numbers were measured on. */
export function machineInfo(): Record<string, string | number> {
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const kb = (key: string): number => Number(meminfo.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
  return {
    nproc: os.availableParallelism(),
    cpu: cpuModel,
    memTotalMb: Math.round(kb('MemTotal') / 1024),
    memAvailableMb: Math.round(kb('MemAvailable') / 1024),
    loadAverage: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    node: process.version,
    kernel: os.release(),
  };
}

/** CPU time of the whole machine so far, in clock ticks, from the first line of /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0);
  // Fields 4 and 5 are idle and iowait; steal and guest (8, 9) are left out of the total or counted in user.
  return { busy: total - ticks[3]! - ticks[4]!, total };
}

/** The share of all cores that were busy between two readings of {@link machineCpu}. */
export function busyShare(
  before: { busy: number; total: number },
  after: { busy: number; total: number },
): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}
