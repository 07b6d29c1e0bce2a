import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { chunkEncoding } from '../core/connector';
import { ErrorCode, MigrationError } from '../core/errors';
import type { LogicalKind } from '../core/logical-types';
import { tableLabel, type TableMeta } from '../core/table';
import {
  compareTables,
  countDifferingRanges,
  initialCompareState,
  type CompareOptions,
  type CompareSide,
  type CompareState,
} from '../core/table-compare';
import type { CompareRequest, MigrationTask, RepairRequest, RepairResult, VerifyResult } from '../core/task';
import { classified } from './errors';
import type { ConnectorCache } from './index';

/** Ranges of at most this many source rows are compared row by row instead of halved again. */
const leafRows = 64;
/** Differing ranges a repair re-copies one by one at most; beyond that the copy should simply run again. */
const maxRepairRanges = 1_000;
/**
 * Key types every engine sorts the same way and whose key text every engine reads back, so one engine's
 * key ranges select the same rows in another (a timestamptz key's `+00` is not read by MySQL).
 */
const collationFreeKinds: ReadonlySet<LogicalKind> = new Set([
  'boolean',
  'int16',
  'int32',
  'int64',
  'decimal',
  'date',
  'time',
  'timestamp',
]);
/** Waits between reads of a target count that does not show the copied rows yet. */
const countRetryDelaysMs = [250, 500, 1_000, 2_000];
/** How often a long comparison heartbeats while one range is still in flight. */
const heartbeatEveryMs = 5_000;

/**
 * Reads a count until it equals `expected` (once when nothing is expected), waiting between reads, so
 * that a target that shows committed rows late (replicas, object-store listings) gives no false
 * failure; returns the last read.
 */
export async function settledCount(
  read: () => Promise<number>,
  expected: number | undefined,
  sleep: (ms: number) => Promise<void>,
  delaysMs: readonly number[] = countRetryDelaysMs,
): Promise<{ count: number; reads: number }> {
  let count = await read();
  let reads = 1;
  for (const delay of delaysMs) {
    if (expected === undefined || count === expected) break;
    await sleep(delay);
    count = await read();
    reads++;
  }
  return { count, reads };
}

/** Runs work while heartbeating `details()` every few seconds, so a long count or range never looks like a dead worker. */
async function beating<T>(ctx: Context, details: () => unknown, work: () => Promise<T>): Promise<T> {
  ctx.heartbeat(details());
  const ticker = setInterval(() => ctx.heartbeat(details()), heartbeatEveryMs);
  try {
    return await work();
  } finally {
    clearInterval(ticker);
  }
}

/** Both sides of a task as a comparison sees them: the target is opened as a source, its columns in the source's order. */
async function sidesOf(
  cache: ConnectorCache,
  task: MigrationTask,
): Promise<{ source: CompareSide; target: CompareSide; options: Omit<CompareOptions, 'onProgress'> }> {
  const source = cache.source(task.source.connection);
  const targetSource = cache.source(task.target.connection);
  const found = await findTargetTable(cache, task);
  const columns = task.table.columns;
  const aligned = columns.map((c) => {
    const match =
      found.columns.find((t) => t.name === c.name) ??
      found.columns.find((t) => t.name.toLowerCase() === c.name.toLowerCase());
    if (!match) {
      throw new MigrationError(
        ErrorCode.TargetConflict,
        `target table ${tableLabel(task.targetRef)} has no column ${c.name} to compare`,
        { table: tableLabel(task.targetRef), column: c.name },
      );
    }
    return match;
  });
  const key = task.table.primaryKey;
  const keyKinds = key.map((k) => columns.find((c) => c.name === k)?.type.kind);
  // Key ranges mean the same rows on both sides only when both select by the same primary key and
  // order it alike: always within one engine, across engines only for keys no collation sorts.
  const byKey =
    !task.members &&
    !source.chunksByPart &&
    !targetSource.chunksByPart &&
    key.length > 0 &&
    (found.engine === task.table.engine || keyKinds.every((k) => k && collationFreeKinds.has(k))) &&
    JSON.stringify(found.primaryKey) ===
      JSON.stringify(key.map((k) => aligned[columns.findIndex((c) => c.name === k)]?.name));
  return {
    source: { source, tables: task.members ?? [task.table] },
    target: { source: targetSource, tables: [{ ...found, columns: aligned }] },
    options: {
      types: columns.map((c) => c.type),
      columnNames: columns.map((c) => c.name),
      keyIndexes: key.map((k) => columns.findIndex((c) => c.name === k)),
      byKey,
      rangeRows: task.chunkRows,
      leafRows,
      maxKeys: task.verify.maxReportedKeys ?? 20,
      maxRepairRanges,
    },
  };
}

/** The target table's own metadata, read through the target connection opened as a source. */
async function findTargetTable(cache: ConnectorCache, task: MigrationTask): Promise<TableMeta> {
  const targetSource = cache.source(task.target.connection);
  const { schema, name } = task.targetRef;
  const selection = { schema, tables: [name], include: ['*'], exclude: [] };
  let page = await targetSource.discover(selection, null, 10);
  // A PostgreSQL partition is listed under its parent only.
  if (!page.tables.length && task.targetParent) {
    const partitions = [{ table: task.targetParent, include: [name], exclude: [] }];
    page = await targetSource.discover({ ...selection, tables: undefined, partitions }, null, 1_000);
  }
  const table = page.tables.find((t) => t.ref.name === name);
  // A partition that is not a table of its own is read as its parent restricted to the partition.
  const found = table && task.targetRef.partition !== undefined ? { ...table, ref: task.targetRef } : table;
  if (!found) {
    throw new MigrationError(
      ErrorCode.TableNotFound,
      `target table ${tableLabel(task.targetRef)} not found`,
      {
        table: tableLabel(task.targetRef),
      },
    );
  }
  return found;
}

/** The verification activities, bound to the worker's connections. */
export function createVerifyActivities(cache: ConnectorCache) {
  return {
    /**
     * Counts both sides (reading the target count again while it lags behind what the copy wrote) and,
     * in checksum mode, compares checksums range by range, narrowing mismatches down to keys. Resumes
     * from its last heartbeat.
     */
    compareTable: classified(async ({ task, expectedTargetRows }: CompareRequest): Promise<VerifyResult> => {
      const started = Date.now();
      const ctx = Context.current();
      const source = cache.source(task.source.connection);
      const target = cache.target(task.target.connection);
      // A retried attempt resumes after the ranges its predecessor finished.
      const details = ctx.info.heartbeatDetails as (CompareState & { rows?: number }) | undefined;
      let finished: CompareState = initialCompareState();
      if (details) {
        const { rows: _rows, ...resumed } = details;
        finished = resumed;
      }
      // Heartbeats carry the state as of the last finished range, so a resumed attempt never counts a
      // range twice; `rows` lets progress displays that read copy heartbeats show the rows compared.
      const beat = (): unknown => ({ ...finished, rows: finished.source.rows });
      const compare = async (): Promise<VerifyResult> => {
        const countSource = async (): Promise<number> => {
          const counts = await Promise.all((task.members ?? [task.table]).map((t) => source.count(t)));
          return counts.reduce((sum, n) => sum + n, 0);
        };
        const read = (): Promise<number> => target.count(task.targetRef);
        const settle = (expected: number | undefined): Promise<{ count: number; reads: number }> =>
          settledCount(read, expected, (ms) => ctx.sleep(ms));
        // What the target must hold: what the copy wrote, or in a verify-only job what the source holds.
        // Unless the target waits for the source's number, both sides are counted at once (each is a scan).
        const targetWaitsForSource = expectedTargetRows === undefined && task.verify.only;
        // After a copy, the target's statistics are refreshed while both sides count and, in checksum
        // mode, while they hash (ANALYZE took 1.3 s of a 2,000,000-row table, the counts 0.2 s each).
        // A verify-only job writes nothing.
        const analyzed = task.verify.only ? undefined : target.analyze?.(task.targetRef);
        analyzed?.catch(() => undefined); // awaited below; until then a failure must not count as unhandled
        const [sourceCount, { count: targetCount, reads }] = targetWaitsForSource
          ? await countSource().then(async (n) => [n, await settle(n)] as const)
          : await Promise.all([countSource(), settle(expectedTargetRows)]);
        const result = { sourceCount, targetCount, countReads: reads };
        if (task.verify.mode !== 'checksum') {
          await analyzed;
          return { ...result, durationMs: Date.now() - started };
        }
        const sides = await sidesOf(cache, task);
        const onProgress = (s: CompareState): void => {
          if (ctx.cancellationSignal.aborted) throw new CancelledFailure('verification cancelled');
          finished = structuredClone(s);
          ctx.heartbeat(beat());
        };
        const options = { ...sides.options, onProgress };
        const checksum = await compareTables(sides.source, sides.target, options, structuredClone(finished));
        await analyzed;
        return { ...result, checksum, durationMs: Date.now() - started };
      };
      return beating(ctx, beat, compare);
    }),

    /**
     * Re-copies the key ranges a comparison found different (delete and copy again in one target
     * transaction, checkpoint untouched), then compares those ranges again.
     */
    repairTable: classified(async ({ task, ranges }: RepairRequest): Promise<RepairResult> => {
      const started = Date.now();
      const ctx = Context.current();
      const source = cache.source(task.source.connection);
      const target = cache.target(task.target.connection);
      if (!target.replaceRange) {
        const targetCount = await target.count(task.targetRef);
        return {
          supported: false,
          ranges: 0,
          rowsRecopied: 0,
          rangesStillDiffering: ranges.length,
          targetCount,
          durationMs: Date.now() - started,
        };
      }
      const encoding = await chunkEncoding(source, target, task.table, task.targetRef, task.members);
      // Replacing a range is idempotent, so a retried attempt may redo the range it was in.
      const progress = (ctx.info.heartbeatDetails as { done: number; rows: number } | undefined) ?? {
        done: 0,
        rows: 0,
      };
      return beating(
        ctx,
        () => progress,
        async () => {
          for (let i = progress.done; i < ranges.length; i++) {
            if (ctx.cancellationSignal.aborted) throw new CancelledFailure('repair cancelled between ranges');
            const range = ranges[i]!;
            const chunk = await source.read(task.table, range, encoding);
            progress.rows += await target.replaceRange!(task.table, task.targetRef, range, chunk);
            progress.done = i + 1;
            ctx.heartbeat(progress);
          }
          const sides = await sidesOf(cache, task);
          const still = await countDifferingRanges(sides.source, sides.target, sides.options.types, ranges);
          return {
            supported: true,
            ranges: ranges.length,
            rowsRecopied: progress.rows,
            rangesStillDiffering: still,
            targetCount: await target.count(task.targetRef),
            durationMs: Date.now() - started,
          };
        },
      );
    }),
  };
}
