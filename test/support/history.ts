import type { temporal } from '@temporalio/proto';
import { expect } from 'vitest';
import type { MigrationClient } from '../../src/client';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The copyTable activity of a task, from its workflow's history: its last attempt and how it ended. */
export async function copyActivity(client: MigrationClient, taskWorkflowId: string) {
  const events: HistoryEvent[] =
    (await client.temporal.workflow.getHandle(taskWorkflowId).fetchHistory()).events ?? [];
  const scheduled = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'copyTable',
  );
  expect(scheduled, 'copyTable was scheduled').toBeDefined();
  const ofCopy = (id: unknown) => String(id) === String(scheduled!.eventId);
  const started = events.filter((e) => ofCopy(e.activityTaskStartedEventAttributes?.scheduledEventId));
  const failed = events.filter((e) => ofCopy(e.activityTaskFailedEventAttributes?.scheduledEventId));
  // Temporal records only the last attempt's start; earlier attempts show up as its lastFailure.
  expect(started).toHaveLength(1);
  const start = started[0]!.activityTaskStartedEventAttributes!;
  return {
    attempt: start.attempt ?? 1,
    lastFailure: start.lastFailure ?? undefined,
    failure: failed[0]?.activityTaskFailedEventAttributes?.failure ?? undefined,
  };
}

/** The chunk encoding the copyTable activity of a task reported (its result, in the workflow's history). */
export async function copyEncoding(
  client: MigrationClient,
  taskWorkflowId: string,
): Promise<string | undefined> {
  const events: HistoryEvent[] =
    (await client.temporal.workflow.getHandle(taskWorkflowId).fetchHistory()).events ?? [];
  const results = events.flatMap((e) =>
    (e.activityTaskCompletedEventAttributes?.result?.payloads ?? []).map((p) =>
      Buffer.from(p.data ?? []).toString('utf8'),
    ),
  );
  for (const result of results) {
    const encoding = /"encoding":"([a-z-]+)"/.exec(result)?.[1];
    if (encoding) return encoding;
  }
  return undefined;
}
