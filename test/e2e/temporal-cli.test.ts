import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress, JobReport } from '../../src/client';
import { createMixedTable } from '../fixtures/pg-mixed';
import { services, uniqueName, waitFor } from '../support/services';
import { useStack } from '../support/stack';

const stack = useStack('tcli');
const { source, schema, taskQueue } = stack;

/**
 * Runs the real `temporal` CLI against the test server and parses its JSON output; fails on a non-zero
 * exit, or after 50 s with the command named, so a hang shows which step it was.
 */
async function temporal<T>(...args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(
    'temporal',
    [...args, '--address', services.temporalAddress, '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 50_000 },
  ).catch((e: Error & { killed?: boolean }) => {
    throw new Error(`temporal ${args.join(' ')}: ${e.killed ? 'no answer in 50 s' : e.message}`);
  });
  // Some commands (signal) print nothing on success.
  return (stdout.trim() ? JSON.parse(stdout) : undefined) as T;
}

const progress = async (workflowId: string): Promise<JobProgress> =>
  (
    await temporal<{ queryResult: JobProgress[] }>(
      'workflow',
      'query',
      '--workflow-id',
      workflowId,
      '--type',
      'progress',
    )
  ).queryResult[0]!;

beforeAll(async () => {
  for (const table of ['a', 'b', 'c']) await createMixedTable(source, schema, table, 3_000);
});

describe('the temporal CLI, with no mms tooling', () => {
  it('starts a job from a JSON file, queries its progress, pauses, resumes and gets its report', async () => {
    const workflowId = uniqueName('tcli-job');
    const jobFile = path.join(os.tmpdir(), `${workflowId}.json`);
    writeFileSync(
      jobFile,
      JSON.stringify({
        kind: 'tables',
        tables: ['a', 'b', 'c'],
        source: { connection: 'pg_source', schema },
        target: { connection: 'pg_target', schema: uniqueName('e2e_tcli_t') },
        maxParallelTasks: 1,
        chunkRows: 500,
        throttle: { rowsPerSecond: 6_000 },
      }),
    );
    const started = await temporal<{ workflowId: string; runId: string }>(
      'workflow',
      'start',
      '--type',
      'migrationJob',
      '--task-queue',
      taskQueue,
      '--workflow-id',
      workflowId,
      '--input-file',
      jobFile,
    );
    expect(started).toMatchObject({ workflowId, runId: expect.any(String) as unknown });

    await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', 'pause');
    const paused = await waitFor(
      async () => {
        const p = await progress(workflowId);
        return p.paused && p.tasks.running === 0 && p.discoveryDone ? p : null;
      },
      30_000,
      'the job to be paused with nothing running',
    );
    expect(paused).toMatchObject({ jobId: workflowId, status: 'running', tasks: { total: 3 } });
    expect(paused.tasks.succeeded).toBeLessThan(3);

    // The Web UI's "Current Details" come from the same workflow metadata query.
    const metadata = await temporal<{ queryResult: { currentDetails: string }[] }>(
      'workflow',
      'metadata',
      '--workflow-id',
      workflowId,
    );
    expect(metadata.queryResult[0]?.currentDetails).toMatch(/\*\*running \(paused\)\*\*: \d\/3 tasks done/);

    const update = await temporal<{ result: number }>(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      workflowId,
      '--name',
      'setParallelism',
      '--input',
      '3',
    );
    expect(update.result).toBe(1);
    await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', 'resume');

    const result = await temporal<{
      status: string;
      closeEvent: { workflowExecutionCompletedEventAttributes: { result: JobReport[] } };
    }>('workflow', 'result', '--workflow-id', workflowId);
    expect(result.status).toBe('COMPLETED');
    const report = result.closeEvent.workflowExecutionCompletedEventAttributes.result[0]!;
    expect(report).toMatchObject({
      jobId: workflowId,
      status: 'succeeded',
      tasks: { total: 3, succeeded: 3, failed: 0 },
      rowsWritten: 3 * 3_002,
    });

    // The workflow set the search attributes itself, so the job is found like any other.
    const listed = await temporal<{ execution: { workflowId: string } }[]>(
      'workflow',
      'list',
      '--query',
      `MmsJobId = "${workflowId}" AND WorkflowType = "migrationJob" AND MmsStatus = "succeeded"`,
    );
    expect(listed.map((w) => w.execution.workflowId)).toEqual([workflowId]);
  });

  it('refuses an invalid spec inside the workflow, naming the path, without retrying', async () => {
    const workflowId = uniqueName('tcli-bad');
    const result = await temporal<{ workflowId: string }>(
      'workflow',
      'start',
      '--type',
      'migrationJob',
      '--task-queue',
      taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify({ source: { connection: 'pg_source' }, target: { connection: 'a url://x' } }),
    );
    expect(result.workflowId).toBe(workflowId);
    const outcome = await promisify(execFile)(
      'temporal',
      [
        'workflow',
        'result',
        '--workflow-id',
        workflowId,
        '--address',
        services.temporalAddress,
        '-o',
        'json',
      ],
      { encoding: 'utf8' },
    ).catch((e: { stdout: string }) => e);
    expect(outcome.stdout).toContain('BAD_SPEC');
    expect(outcome.stdout).toContain('at target.connection');
  });
});
