/**
 * Throughput and memory of every route, as ratios against raw baselines measured in the same
 * invocation, through the real Temporal dev server and a real worker process.
 *
 *   npm run bench -- [--rows 2000000] [--repeat 3] [--routes pg-pg,mysql-pg,...] [--worker compiled|tsx] [--json out.json]
 *
 * See README.md, "Benchmarks", for the options and what each route is compared with.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { ensureMyBig, ensureMyMain, ensurePgBig, ensurePgMain, ensurePgMany, type PgGen } from './dataset';
import { loadServices, machineInfo, redact, type Services } from './env';
import { rssLimitMb, type Bench, type BenchOptions, type Result } from './job';
import { routes } from './routes';
import { bundleWorkflows, mmsCommand } from './worker';

const started = performance.now();
const log = (message: string): void => {
  const at = ((performance.now() - started) / 1000).toFixed(0).padStart(5);
  console.error(`[${at} s] ${message}`);
};

function parseOptions(): { options: BenchOptions; routes: string[]; json?: string } {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '2000000' },
      'chunk-rows': { type: 'string', default: '100000' },
      repeat: { type: 'string', default: '3' },
      routes: { type: 'string', default: routes.map((r) => r.name).join(',') },
      json: { type: 'string' },
      'big-rows': { type: 'string', default: '1000' },
      'big-mb': { type: 'string', default: '10' },
      tables: { type: 'string', default: '1000' },
      'tasks-parallel': { type: 'string', default: '20' },
      'route-timeout': { type: 'string', default: '1800' },
      'cpu-prof': { type: 'string' },
      worker: { type: 'string', default: 'compiled' },
      'node-flags': { type: 'string', default: '' },
      'malloc-mmap-threshold': { type: 'string', default: '131072' },
    },
  });
  const whole = (name: keyof typeof values): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
    return n;
  };
  const chosen = String(values.routes).split(',').filter(Boolean);
  const unknown = chosen.filter((name) => !routes.some((r) => r.name === name));
  if (!(Number(values['malloc-mmap-threshold']) >= 0))
    throw new Error('--malloc-mmap-threshold must be a number of bytes (0: glibc default)');
  if (values.worker !== 'compiled' && values.worker !== 'tsx')
    throw new Error('--worker must be compiled or tsx');
  if (unknown.length > 0)
    throw new Error(`unknown route(s) ${unknown.join(', ')}; known: ${routes.map((r) => r.name).join(', ')}`);
  return {
    options: {
      rows: whole('rows'),
      chunkRows: whole('chunk-rows'),
      repeat: whole('repeat'),
      bigRows: whole('big-rows'),
      bigMb: whole('big-mb'),
      tables: whole('tables'),
      tasksParallel: whole('tasks-parallel'),
      routeTimeoutSeconds: whole('route-timeout'),
      worker: values.worker,
      nodeFlags: String(values['node-flags']).split(' ').filter(Boolean),
      mallocMmapThreshold: Number(values['malloc-mmap-threshold']),
      cpuProfDir: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined,
    },
    routes: chosen,
    json: values.json,
  };
}

/** How the worker ran, for the log and the summary line. */
function workerLabel(options: BenchOptions): string {
  const flags = options.nodeFlags.length ? ` ${options.nodeFlags.join(' ')}` : '';
  const malloc = options.mallocMmapThreshold
    ? `, MALLOC_MMAP_THRESHOLD_=${options.mallocMmapThreshold} (as in the Docker image)`
    : ', glibc malloc defaults';
  return `${options.worker}${flags}${malloc}`;
}

/** The worker's connections: names only, secrets from the environment it inherits. */
function writeConnections(s: Services, dir: string): string {
  const pgBase = { engine: 'postgres', host: s.pg.host, port: s.pg.port };
  const myBase = { engine: 'mysql', host: s.my.host, port: s.my.port };
  const connections = {
    pg_source: {
      ...pgBase,
      database: s.pg.sourceDb,
      user: s.pgReader.user,
      passwordEnv: 'MMS_PG_READER_PASSWORD',
    },
    pg_target: { ...pgBase, database: s.pg.targetDb, user: s.pg.user, passwordEnv: 'MMS_PG_PASSWORD' },
    my_source: {
      ...myBase,
      database: s.my.sourceDb,
      user: process.env.MMS_MYSQL_READER_USER,
      passwordEnv: 'MMS_MYSQL_READER_PASSWORD',
    },
    my_target: { ...myBase, database: s.my.targetDb, user: s.my.user, passwordEnv: 'MMS_MYSQL_PASSWORD' },
    s3_target: {
      engine: 's3',
      endpoint: s.s3.endpoint,
      region: s.s3.region,
      bucket: s.s3.bucket,
      prefix: 'bench/',
      accessKeyId: s.s3.accessKey,
      secretAccessKeyEnv: 'MMS_S3_SECRET_KEY',
      forcePathStyle: true,
      format: 'parquet',
    },
  };
  const file = path.join(dir, 'connections.json');
  writeFileSync(file, JSON.stringify({ connections }, null, 2));
  return file;
}

/** Whether the MySQL connector is there to use; another engineer is finishing it. */
async function mysqlUnavailable(): Promise<string | undefined> {
  try {
    const { mysqlConnector } = await import('../src/connectors/mysql/index.js');
    if (mysqlConnector.openSource && mysqlConnector.openTarget) return undefined;
    return 'connector not available (no source or target)';
  } catch (e) {
    return `connector not available (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}

const fixed = (n: number | undefined, digits: number): string =>
  n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits);

function formatTable(results: Result[]): string {
  const header = [
    'route',
    'rows',
    'seconds',
    'rows/s',
    'baseline',
    'baseline s',
    'ratio',
    'target',
    'met',
    'worker peak RSS MB (idle)',
    'worker CPU s',
    'machine busy',
    'note',
  ];
  const lines = results.map((r) =>
    [
      r.route,
      r.rows.toLocaleString('en-US'),
      fixed(r.seconds, 1),
      r.seconds ? Math.round(r.rows / r.seconds).toLocaleString('en-US') : '—',
      r.baseline ?? '—',
      fixed(r.baselineSeconds, 1),
      r.ratio === undefined
        ? '—'
        : r.unit === 'ms/task'
          ? `${r.ratio.toFixed(0)} ms/task`
          : `${r.ratio.toFixed(2)}×`,
      r.target,
      r.met === undefined ? '—' : r.met ? '✔' : '✖',
      r.peakRssMb === undefined || Number.isNaN(r.peakRssMb)
        ? '—'
        : `${r.peakRssMb.toFixed(0)} ${r.peakRssMb <= rssLimitMb ? '✔' : '✖'}` +
          (r.idleRssMb ? ` (${r.idleRssMb.toFixed(0)})` : ''),
      fixed(r.workerCpuSeconds, 1),
      r.machineBusy === undefined ? '—' : `${Math.round(r.machineBusy * 100)}%`,
      (r.note ?? '').replace(/\s+/g, ' '),
    ].map((cell) => cell.replace(/\|/g, '\\|')),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (i === 12 ? 0 : l[i]!.length))));
  const row = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 12 ? c : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [row(header), row(widths.map((w) => '-'.repeat(Math.max(3, w)))), ...lines.map(row)].join('\n');
}

async function main(): Promise<void> {
  const { options, routes: chosen, json } = parseOptions();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const machine = machineInfo();
  log(`machine: ${JSON.stringify(machine)}`);
  log(
    `a noisy ${machine.nproc}-core machine: the databases, Temporal, the worker and the baselines share ` +
      `the same cores, so compare ratios, not absolute times; ratio routes run ${options.repeat} round(s) ` +
      'of job and baselines and report medians, as one run alone can be 20% off',
  );
  const s = loadServices();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mms-bench-'));
  const pgPool = (database: string): pg.Pool =>
    new pg.Pool({
      host: s.pg.host,
      port: s.pg.port,
      user: s.pg.user,
      password: s.pg.password,
      database,
      max: 2,
    });
  const b: Bench = {
    s,
    options,
    pgSource: pgPool(s.pg.sourceDb),
    pgTarget: pgPool(s.pg.targetDb),
    my: mysql.createPool({
      host: s.my.host,
      port: s.my.port,
      user: s.my.user,
      password: s.my.password,
      database: s.my.sourceDb,
      connectionLimit: 2,
      charset: 'utf8mb4',
    }),
    bundle: '',
    mms: [],
    connectionsFile: writeConnections(s, tmp),
    tmp,
    stamp: Date.now().toString(36),
    log,
  };
  const results: Result[] = [];
  try {
    const versions = {
      postgres: (await b.pgSource.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
        .rows[0]?.v,
      mariadb: String(((await b.my.query('SELECT VERSION() AS v'))[0] as { v: string }[])[0]?.v),
    };
    log(`servers: PostgreSQL ${versions.postgres}, MariaDB ${versions.mariadb}`);
    log(`options: ${JSON.stringify(options)}; routes: ${chosen.join(', ')}`);
    b.mysqlUnavailable = await mysqlUnavailable();
    if (b.mysqlUnavailable) log(`MySQL routes skipped: ${b.mysqlUnavailable}`);

    // Datasets are generated once and reused; none of this is timed.
    const wants = (...names: string[]): boolean => names.some((n) => chosen.includes(n));
    const gen: PgGen = { pool: b.pgSource, reader: s.pgReader.user, log };
    if (wants('pg-pg', 'mysql-pg', 'pg-mysql', 'pg-s3', 'checksum')) await ensurePgMain(gen, options.rows);
    if (wants('big-pg-pg', 'big-pg-s3')) await ensurePgBig(gen, options.bigRows, options.bigMb);
    if (wants('tasks')) await ensurePgMany(gen, options.tables);
    // The table of the untimed warm-up job every worker runs first (bench/job.ts).
    await ensurePgMany(gen, 1);
    if (!b.mysqlUnavailable && wants('mysql-pg', 'pg-mysql', 'mysql-mysql')) {
      await ensureMyMain(b.my, s.my.sourceDb, options.rows, log).catch((e: unknown) => {
        b.mysqlUnavailable = `MariaDB dataset failed: ${e instanceof Error ? e.message : String(e)}`;
      });
    }
    if (!b.mysqlUnavailable && wants('big-mysql-pg')) {
      await ensureMyBig(b.my, s.my.sourceDb, options.bigRows, options.bigMb, log).catch((e: unknown) => {
        b.mysqlUnavailable = `MariaDB dataset failed: ${e instanceof Error ? e.message : String(e)}`;
      });
    }
    b.bundle = await bundleWorkflows();
    log(`worker: ${workerLabel(options)}`);
    b.mms = mmsCommand(options.worker);

    for (const route of routes.filter((r) => chosen.includes(r.name))) {
      if (route.mysql && b.mysqlUnavailable) {
        results.push({
          route: route.name,
          rows: options.rows,
          target: '—',
          note: `skipped: ${b.mysqlUnavailable}`,
        });
        continue;
      }
      log(`route ${route.name}`);
      const routeStarted = performance.now();
      try {
        results.push(...(await route.run(b)));
      } catch (e) {
        // Housekeeping around a route failed (not the job itself): say so and go on.
        results.push({
          route: route.name,
          rows: options.rows,
          target: '—',
          met: false,
          note: redact(String(e), s),
        });
      }
      log(`route ${route.name} done in ${((performance.now() - routeStarted) / 1000).toFixed(0)} s`);
    }
  } finally {
    await Promise.allSettled([b.pgSource.end(), b.pgTarget.end(), b.my.end()]);
    rmSync(tmp, { recursive: true, force: true });
  }

  const totalSeconds = (performance.now() - started) / 1000;
  console.log(`\n${command}`);
  console.log(
    `machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memTotalMb} MB RAM; noisy machine; ratio routes: median of ${options.repeat} round(s), the rest single runs\n`,
  );
  console.log(formatTable(results));
  console.log(
    `\nworker ${workerLabel(options)}; ` +
      `chunkRows ${options.chunkRows}; whole run ${(totalSeconds / 60).toFixed(1)} min; ` +
      `load average ${machine.loadAverage} before, ${machineInfo().loadAverage} after`,
  );
  if (json) {
    const file = path.resolve(json);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify(
        { command, date: new Date().toISOString(), machine, options, totalSeconds, results },
        null,
        2,
      ),
    );
    log(`results saved to ${file}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
