import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { payloadCodecFromEnv, startCodecServer } from '../../src/client/payload-codec';
import { services } from '../support/services';
import { useStack } from '../support/stack';

const key = randomBytes(32).toString('base64');
// This file runs in its own process, so the key set here reaches only this test's client.
process.env.MMS_PAYLOAD_KEY = key;
const stack = useStack('codec', { workerEnv: { MMS_PAYLOAD_KEY: key } });
const { source, schema } = stack;
const marker = 'plaintext_marker_table';

beforeAll(async () => {
  await source.query(
    `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.${marker} (id int PRIMARY KEY, v text)`,
  );
  await source.query(`INSERT INTO ${schema}.${marker} SELECT g, 'v' || g FROM generate_series(1, 100) g`);
  await source.query(
    `GRANT USAGE ON SCHEMA ${schema} TO ${services.pg.readerUser}; GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`,
  );
});

describe('payload encryption', () => {
  it('keeps table names out of the stored history, while the client and the codec endpoint read it', async () => {
    const job = await stack.client.start({
      kind: 'tables',
      tables: [marker],
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target' },
    });
    const report = await stack.client.result(job.jobId);
    expect(report.status).toBe('succeeded');
    expect(report.results[0]?.table).toBe(`${schema}.${marker}`);

    const taskId = `${job.jobId}/${schema}.${marker}`;
    const raw = execFileSync(
      'temporal',
      ['workflow', 'show', '-w', taskId, '-o', 'json', '--address', services.temporalAddress],
      {
        encoding: 'utf8',
      },
    );
    expect(raw).toContain('YmluYXJ5L2VuY3J5cHRlZA=='); // base64 of binary/encrypted
    // Workflow ids are not payloads: a task's id names its table, by design (see the README's Security section).
    expect(raw.split(taskId).join('')).not.toContain(marker);
    expect(raw).not.toContain(Buffer.from(marker).toString('base64').slice(0, 16));

    // The Web UI's codec endpoint turns the same stored payload back into the task input.
    const history = JSON.parse(raw) as {
      events: { workflowExecutionStartedEventAttributes?: { input: { payloads: unknown[] } } }[];
    };
    const payload = history.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0];
    const server = startCodecServer(payloadCodecFromEnv()!, 0);
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const decoded = (await (
      await fetch(`http://127.0.0.1:${port}/decode`, {
        method: 'POST',
        body: JSON.stringify({ payloads: [payload] }),
      })
    ).json()) as { payloads: { data: string }[] };
    server.close();
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString('utf8')).toContain(marker);
  });
});
