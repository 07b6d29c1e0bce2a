import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMixedTable } from '../fixtures/pg-mixed';
import { services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';

const root = path.resolve(__dirname, '../..');
const role = uniqueName('mms_secret_role');
// Distinctive values: if either shows up anywhere, it leaked.
const password = `Pw-${uniqueName('distinct')}-x9`;
const wrongPassword = `WrongPw-${uniqueName('distinct')}-q7`;
const pgBase = {
  engine: 'postgres',
  host: services.pg.host,
  port: services.pg.port,
  database: services.pg.sourceDb,
};
const stack = useStack('secret', {
  connections: {
    secret_source: { ...pgBase, user: role, passwordEnv: 'MMS_TEST_SECRET_PW' },
    wrong_source: { ...pgBase, user: role, password: wrongPassword },
  },
  workerEnv: { MMS_TEST_SECRET_PW: password, MMS_LOG_LEVEL: 'debug' },
});
const { source, schema, taskQueue } = stack;

/** The full history of a workflow as JSON, from the real `temporal` CLI. */
function historyJson(workflowId: string): string {
  return execFileSync(
    'temporal',
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--output',
      'json',
      '--address',
      services.temporalAddress,
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
}

beforeAll(async () => {
  await createMixedTable(source, schema, 'accounts', 2_000);
  await source.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await source.query(
    `GRANT USAGE ON SCHEMA ${schema} TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`,
  );
});

afterAll(async () => {
  await stack.worker.stop();
  await source.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => undefined);
});

describe('connection passwords', () => {
  it('appear nowhere in workflow histories, worker logs or CLI output after a successful job', async () => {
    const specFile = path.join(os.tmpdir(), `${uniqueName('spec')}.yaml`);
    const jobId = uniqueName('secret-job');
    writeFileSync(
      specFile,
      `jobId: ${jobId}\nkind: database\nsource: { connection: secret_source, schema: ${schema} }\ntarget: { connection: pg_target }\n`,
    );
    // Asynchronously, so the worker's output keeps being read while the CLI waits.
    const cli = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/client/cli/main.ts', 'start', specFile, '--wait'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, MMS_TASK_QUEUE: taskQueue, MMS_TEMPORAL_ADDRESS: services.temporalAddress },
      },
    );
    expect(cli.stdout).toContain('succeeded');

    const histories = [historyJson(jobId), historyJson(`${jobId}/${schema}.accounts`)];
    expect(stack.worker.output()).toContain('secret_source');
    expect(histories[1]).toContain('copyTable');
    for (const text of [...histories, stack.worker.output(), cli.stdout, cli.stderr]) {
      expect(text).not.toContain(password);
    }
  });

  it('stay out of the failure a wrong password causes, which fails once as AUTH_FAILED', async () => {
    const job = await stack.client.start({
      kind: 'database',
      source: { connection: 'wrong_source', schema },
      target: { connection: 'pg_target' },
    });
    await expect(stack.client.result(job.jobId)).rejects.toMatchObject({
      cause: { cause: { type: 'AUTH_FAILED' } },
    });
    const history = historyJson(job.jobId);
    expect(history).toContain('AUTH_FAILED');
    // Terminal: the discovery activity ran once, not again and again.
    expect(history.match(/"attempt":\s*2/g)).toBeNull();
    for (const text of [history, stack.worker.output()]) {
      expect(text).not.toContain(wrongPassword);
      expect(text).not.toContain(password);
    }
  });
});
