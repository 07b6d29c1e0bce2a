import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Packages whose code lands in the bundle: a new version of any of them makes a new bundle. */
const bundledPackages = ['@temporalio/workflow', '@temporalio/common', '@temporalio/worker', 'zod'];

/** Bundles older than this, of other source versions, are removed from the cache. */
const staleAfterMs = 7 * 24 * 3600 * 1000;

/**
 * The file of the bundled workflow code for `Worker.create({ workflowBundle: { codePath } })`.
 *
 * Bundling runs webpack, which costs the process that runs it about 150 MB of peak RSS for good.
 * So the worker never bundles itself: it takes `MMS_WORKFLOW_BUNDLE` when set, else a cached bundle
 * named by a hash of the workflow sources (every file beside them under src/, or dist/src when
 * compiled) and of the bundled packages' versions, and builds a missing one in a short-lived child
 * process.
 */
export async function workflowBundlePath(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.MMS_WORKFLOW_BUNDLE) return env.MMS_WORKFLOW_BUNDLE;
  const workflowsPath = workflowsEntry();
  const hash = sourcesHash(path.dirname(path.dirname(workflowsPath)));
  const name = `workflow-bundle-${hash}.js`;
  for (const dir of cacheDirs(env)) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  let lastError: unknown;
  for (const dir of cacheDirs(env)) {
    try {
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, name);
      // Written under a temporary name and renamed, so workers starting together never read half a file.
      const partial = `${file}.${process.pid}.tmp`;
      await bundleInChild(workflowsPath, partial);
      renameSync(partial, file);
      removeStale(dir, name);
      return file;
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(`could not bundle the workflow code: ${String(lastError)}`);
}

/** The workflows' index module: index.ts in the sources, index.js when compiled. */
function workflowsEntry(): string {
  const dir = path.join(__dirname, '..', 'workflows');
  const found = ['index.js', 'index.ts'].map((name) => path.join(dir, name)).find((file) => existsSync(file));
  if (!found) throw new Error(`no workflows module in ${dir}`);
  return found;
}

/** Where bundles are cached: MMS_CACHE_DIR, else .mms/cache in the package, else the temp directory. */
function cacheDirs(env: NodeJS.ProcessEnv): string[] {
  if (env.MMS_CACHE_DIR) return [env.MMS_CACHE_DIR];
  return [path.join(packageRoot(), '.mms', 'cache'), path.join(os.tmpdir(), 'mms-cache')];
}

/** The directory of our package.json: two levels up from src/worker, three from dist/src/worker. */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** A hash of the source files under `dir` and of the bundled packages' versions. */
function sourcesHash(dir: string): string {
  const hash = createHash('sha256');
  const files: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.[cm]?[jt]s$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(full);
    }
  };
  walk(dir);
  for (const file of files.sort())
    hash.update(path.relative(dir, file)).update('\0').update(readFileSync(file));
  for (const name of bundledPackages) hash.update(`${name}@${packageVersion(name)}\0`);
  hash.update(bundlerScript);
  return hash.digest('hex').slice(0, 16);
}

function packageVersion(name: string): string {
  try {
    const manifest = path.join(path.dirname(require.resolve(`${name}/package.json`)), 'package.json');
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

/**
 * The bundler's script; it runs in plain node, so it takes the workflows' path and the output file as
 * arguments. The source map stays inline (the worker requires one) but without the sources' text, which
 * was half the bundle and cost every worker about 25 MB; stack traces still name files and lines.
 */
const bundlerScript = `
const { writeFileSync } = require('node:fs');
const { bundleWorkflowCode } = require(process.argv[1]);
const noop = () => undefined;
bundleWorkflowCode({
  workflowsPath: process.argv[2],
  logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m) => console.error(m) },
  webpackConfigHook: (config) => ({ ...config, devtool: 'inline-nosources-source-map' }),
}).then(
  ({ code }) => writeFileSync(process.argv[3], code),
  (e) => { console.error(e && e.stack ? e.stack : String(e)); process.exit(1); },
);`;

/** Runs webpack in a child process that exits afterwards, taking its memory with it. */
function bundleInChild(workflowsPath: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', bundlerScript, require.resolve('@temporalio/worker'), workflowsPath, out],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        rmSync(out, { force: true });
        reject(
          new Error(`${error.message.split('\n')[0]}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`),
        );
      },
    );
  });
}

/** Removes old bundles of other source versions, so the cache does not grow with every edit. */
function removeStale(dir: string, keep: string): void {
  for (const entry of readdirSync(dir)) {
    if (entry === keep || !entry.startsWith('workflow-bundle-')) continue;
    const file = path.join(dir, entry);
    try {
      if (Date.now() - statSync(file).mtimeMs > staleAfterMs) rmSync(file, { force: true });
    } catch {
      // Another worker removed it first.
    }
  }
}

// `node dist/src/worker/workflow-bundle.js`, run by `npm run build`, fills the cache ahead of the first worker.
if (require.main === module) {
  workflowBundlePath({ ...process.env, MMS_WORKFLOW_BUNDLE: undefined }).then(
    (file) => console.log(`workflow bundle: ${file}`),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
