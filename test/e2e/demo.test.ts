import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProcess } from '../support/cli';

/** The environment of a new user: nothing of ours set, not even the test run's workflow bundle. */
const freshEnv = Object.fromEntries(
  Object.keys(process.env).flatMap((k) => (k.startsWith('MMS_') ? [[k, undefined]] : [])),
);

describe('the zero-setup demo', () => {
  it('runs `npm run demo` as the README says, in under 2 minutes, and leaves verified parts with manifests', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'mms-demo-')), 'output');
    const run = await runProcess('npm', ['run', 'demo', '--', '--out', out], freshEnv, 150_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.ms).toBeLessThan(120_000);
    expect(run.stderr).toMatch(/Web UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\//);
    expect(run.stdout).toMatch(/job \S+ succeeded: 3\/3 tasks succeeded, 0 failed, 21,250 rows written/);

    const expected = { customers: 1_000, orders: 20_000, products: 250 };
    for (const [table, rows] of Object.entries(expected)) {
      const manifest = JSON.parse(readFileSync(path.join(out, 'shop', table, '_manifest.json'), 'utf8')) as {
        rows: number;
        parts: { key: string; rows: number }[];
      };
      expect(manifest.rows, table).toBe(rows);
      // Readers trust only the manifest: every part it lists holds exactly the rows it claims.
      let lines = 0;
      for (const part of manifest.parts) {
        const count = readFileSync(path.join(out, part.key), 'utf8').split('\n').filter(Boolean).length;
        expect(count, part.key).toBe(part.rows);
        lines += count;
      }
      expect(lines, table).toBe(rows);
    }
    console.info(`demo took ${(run.ms / 1000).toFixed(1)} s`);
  });
});
