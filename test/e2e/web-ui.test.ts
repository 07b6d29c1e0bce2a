import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationClient } from '../../src/client';
import { createMixedTable } from '../fixtures/pg-mixed';
import {
  adminPool,
  services,
  spawnWorker,
  uniqueName,
  waitFor,
  writeConnectionsFile,
  type WorkerProcess,
} from '../support/services';

const root = path.resolve(__dirname, '../..');
const screenshot = path.join(root, 'docs/screenshots/web-ui-job.png');
const uiUrl = process.env.MMS_TEMPORAL_UI ?? `http://127.0.0.1:${process.env.MMS_TEMPORAL_UI_PORT ?? 8233}`;
const chromiumPath = [process.env.MMS_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => Boolean(p && existsSync(p)),
);
if (!chromiumPath) {
  console.warn(
    'web-ui.test.ts skipped: no Chromium at /usr/bin/chromium (apt-get install -y chromium) or $MMS_CHROMIUM',
  );
}

const source = adminPool(services.pg.sourceDb);
const schema = uniqueName('shop');
const taskQueue = uniqueName('q_webui');
let worker: WorkerProcess;
let client: MigrationClient;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!chromiumPath) return;
  await createMixedTable(source, schema, 'orders', 20_000);
  await createMixedTable(source, schema, 'customers', 500);
  await createMixedTable(source, schema, 'products', 500);
  await source.query(`ANALYZE ${schema}.orders`);
  worker = spawnWorker({ taskQueue, connectionsFile: writeConnectionsFile() });
  client = await MigrationClient.connect({ address: services.temporalAddress, taskQueue });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await client?.close();
  await source.end();
});

describe('the Temporal Web UI', () => {
  it.skipIf(!chromiumPath)(
    'finds a running job by its MmsJobId search attribute and shows its summary, live progress and attributes',
    async () => {
      const targetSchema = uniqueName('warehouse');
      const job = await client.start({
        jobId: uniqueName('shop-job'),
        kind: 'database',
        source: { connection: 'pg_source', schema },
        target: { connection: 'pg_target', schema: targetSchema },
        chunkRows: 1_000,
        // Slow enough that the job is still running while the browser looks at it.
        throttle: { rowsPerSecond: 1_000 },
      });
      await waitFor(
        async () => {
          const p = await client.progress(job.jobId);
          return p.tasks.succeeded === 2 && p.running.length === 1 ? p : null;
        },
        60_000,
        'the small tables to finish while orders is still copying',
      );

      const page = await browser!.newPage({ viewport: { width: 1280, height: 820 } });
      const query = encodeURIComponent(`MmsJobId="${job.jobId}"`);
      await page.goto(`${uiUrl}/namespaces/default/workflows?query=${query}`);
      // The job and its three tasks all carry MmsJobId; the job's own row links to its page.
      const link = page.getByRole('link', { name: job.jobId, exact: true });
      await link.waitFor({ timeout: 30_000 });
      expect(await page.getByRole('link', { name: new RegExp(`^${job.jobId}/`) }).count()).toBe(3);
      await link.click();
      await page.waitForURL(new RegExp(`/workflows/${job.jobId}/`));
      await page.getByRole('heading', { name: job.jobId }).waitFor();
      await expect(page.getByText('migrationJob').first().isVisible()).resolves.toBe(true);

      await page
        .getByRole('link', { name: 'User Metadata' })
        .or(page.getByText('User Metadata'))
        .first()
        .click();
      // The UI renders summaries and details as Markdown, each in its own frame.
      const frameText = (index: number) =>
        page.frameLocator('iframe[title="output"]').nth(index).locator('body');
      await frameText(1).getByText(`${schema}.orders`).waitFor({ timeout: 15_000 });
      expect(await frameText(0).innerText()).toContain(
        `database: pg_source:${schema} → pg_target:${targetSchema}`,
      );
      // The renderer typesets 2/3 with a fraction slash.
      expect(await frameText(1).innerText()).toMatch(/running: 2[/⁄]3 tasks done, 1 running, 0 failed/);
      expect(await page.locator('main').innerText()).toContain('RUNNING');
      mkdirSync(path.dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot });
      expect(statSync(screenshot).size).toBeLessThan(500 * 1024);

      await page.getByText('Search Attributes', { exact: true }).first().click();
      // The panel opens asynchronously; on a busy machine reading it at once finds it still closed.
      await page.locator('main').getByText('"MmsJobId"').first().waitFor({ timeout: 15_000 });
      const attributes = await page.locator('main').innerText();
      for (const [name, value] of [
        ['MmsJobId', job.jobId],
        ['MmsSource', 'pg_source'],
        ['MmsTarget', 'pg_target'],
        ['MmsKind', 'database'],
        ['MmsStatus', 'running'],
      ])
        expect(attributes).toContain(`"${name}": "${value}"`);

      await client.cancel(job.jobId);
      await client.result(job.jobId).catch(() => undefined);
    },
  );
});
