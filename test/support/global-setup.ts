import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { workflowBundlePath } from '../../src/worker/workflow-bundle';

const root = path.resolve(__dirname, '../..');

/** Parses `export KEY=value` lines from `scripts/services.sh env`. */
function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = line.match(/^export ([A-Z0-9_]+)=(.*)$/);
    if (match?.[1]) env[match[1]] = match[2]!.replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/**
 * Starts (or reuses) the real services once per run and bundles the workflow code once,
 * so every worker process a test spawns starts in a second instead of re-bundling.
 */
export default async function setup(project: TestProject): Promise<void> {
  const unitOnly =
    project.config.include.every((p) => p.includes('unit')) || process.env.MMS_TEST_UNIT_ONLY === '1';
  if (unitOnly) return;
  if (process.env.MMS_SKIP_SERVICES !== '1') {
    execFileSync('bash', [path.join(root, 'scripts/services.sh'), 'start'], { stdio: 'inherit' });
  }
  const env = parseExports(
    execFileSync('bash', [path.join(root, 'scripts/services.sh'), 'env'], { encoding: 'utf8' }),
  );
  for (const [key, value] of Object.entries(env)) process.env[key] ??= value;

  // The bundle every worker would build for itself (cached by a hash of the sources), built once here.
  process.env.MMS_WORKFLOW_BUNDLE = await workflowBundlePath({
    ...process.env,
    MMS_WORKFLOW_BUNDLE: undefined,
  });
}
