import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import {
  chunkEncoding,
  type Checkpoint,
  type ChunkStream,
  type DiscoverPage,
  type KeyTuple,
  type PrepareRequest,
  type PrepareResult,
  type Source,
  type Target,
} from '../core/connector';
import { applyCasts, describeCast } from '../core/casts';
import { convertingSource } from '../core/converting-source';
import { ErrorCode, MigrationError } from '../core/errors';
import { formatLogicalType } from '../core/logical-types';
import { discoverSelection } from '../core/selection';
import { tableLabel, type TableMeta } from '../core/table';
import { ChunkRanges, ChunkSizer, countingBytes } from '../core/chunking';
import { throttleDelayMs } from '../core/throttle';
import { taskWarnings } from '../core/warnings';
import type { CopyProgress, CopyResult, DiscoverRequest, MigrationTask, TaskPlan } from '../core/task';
import { openSource, openTarget, valueLimitsOf } from '../connectors/registry';
import type { ConnectionResolver } from '../worker/connections';
import { collectingAfterWideRows, wideRowBytes } from '../worker/heap';
import { recordChunk } from '../worker/metrics';
import { ChunkWatch } from './chunk-watch';
import { classified } from './errors';
import { createVerifyActivities } from './verify';

/** Opens each connection once per worker process and shares its pool between activities. */
export class ConnectorCache {
  private readonly sources = new Map<string, Source>();
  private readonly targets = new Map<string, Target>();

  constructor(private readonly connections: ConnectionResolver) {}

  /** The source for a connection name. */
  source(name: string): Source {
    let source = this.sources.get(name);
    if (!source) {
      // Values of tables discovered for a job reach every reader as their target holds them.
      source = convertingSource(openSource(this.connections.resolve(name)), valueLimitsOf);
      this.sources.set(name, source);
    }
    return source;
  }

  /** The target for a connection name. */
  target(name: string): Target {
    let target = this.targets.get(name);
    if (!target) {
      target = openTarget(this.connections.resolve(name));
      this.targets.set(name, target);
    }
    return target;
  }

  /** The engine behind a connection name. */
  engine(name: string): string {
    return this.connections.resolve(name).config.engine;
  }

  /** The part format of an object-store connection; undefined for databases. */
  format(name: string): string | undefined {
    const config = this.connections.resolve(name).config;
    return 'format' in config ? config.format : undefined;
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.sources.values(), ...this.targets.values()].map((c) => c.close()));
    this.sources.clear();
    this.targets.clear();
  }
}

/** A chunk being written: its write, its data and when its copy started. */
interface InFlight {
  write: Promise<Checkpoint>;
  chunk: ChunkStream;
  chunkStarted: number;
}

/**
 * How many chunks a copy writes at once: two where the target loads rows before it claims the
 * checkpoint (two `LOAD DATA` streams into one MariaDB table took 0.61–0.68 of one's time, two COPY
 * streams into PostgreSQL 0.86–0.96), one for wide rows (each chunk in flight holds some in memory),
 * throttled copies (whose pace is set chunk by chunk) and object stores.
 */
function chunksAtOnce(target: Target, task: MigrationTask, table: TableMeta, rowBytes: number): number {
  const width = rowBytes || (table.estimatedRows > 0 ? table.estimatedBytes / table.estimatedRows : 0);
  return target.loadsBeforeClaim && !task.throttle && width < wideRowBytes ? 2 : 1;
}

/** The activities, bound to the worker's connections. Each is a thin adapter over connectors. */
export function createActivities(cache: ConnectorCache) {
  return {
    /** Lists one page of the selected source tables with columns, keys and estimates. */
    discoverSource: classified(async (request: DiscoverRequest): Promise<DiscoverPage> => {
      const source = cache.source(request.connection);
      const page = await discoverSelection(source, request.selection, request.after, request.pageSize);
      const missing = request.selection.tables?.filter((t) => !page.tables.some((m) => m.ref.name === t));
      if (missing?.length && page.nextAfter === null && request.after === null) {
        throw new MigrationError(
          ErrorCode.TableNotFound,
          `table(s) not found in ${request.selection.schema}: ${missing.join(', ')}`,
          { connection: request.connection, table: missing[0] },
        );
      }
      if (request.target === undefined && !request.casts?.length) return page;
      // Cast rules apply here, so the plan, the target DDL and every copy see the same column types.
      const targetEngine = request.target === undefined ? undefined : cache.engine(request.target);
      const targetFormat = request.target === undefined ? undefined : cache.format(request.target);
      return {
        ...page,
        tables: page.tables.map((t) => applyCasts(t, request.casts ?? [], targetEngine, targetFormat)),
      };
    }),

    /** Creates or resets the target table and its checkpoint; idempotent, resumes keep their rows. */
    prepareTarget: classified(async (task: MigrationTask): Promise<PrepareResult> => {
      return cache.target(task.target.connection).prepare(prepareRequest(task));
    }),

    /** Copies the table chunk after chunk from the checkpoint the target holds; one long, heartbeating activity. */
    copyTable: classified(async (task: MigrationTask): Promise<CopyResult> => {
      const started = Date.now();
      const ctx = Context.current();
      const source = cache.source(task.source.connection);
      const target = cache.target(task.target.connection);
      const encoding = await chunkEncoding(source, target, task.table, task.targetRef, task.members);
      let checkpoint = await target.readCheckpoint(task.taskId, task.targetRef);
      if (!checkpoint)
        throw new MigrationError(
          ErrorCode.Internal,
          `no checkpoint for ${task.taskId}: prepareTarget must run first`,
        );
      const resumedAtChunk = checkpoint.chunks;
      const thisAttempt = { rows: 0, bytes: 0, startedAt: Date.now() };
      const progress = (): CopyProgress => ({
        cursor: checkpoint?.cursor ?? null,
        rows: checkpoint?.rowsWritten ?? 0,
        bytes: thisAttempt.bytes,
        chunks: checkpoint?.chunks ?? 0,
      });
      ctx.heartbeat(progress());
      // A chunk can take longer than the heartbeat timeout; keep saying we are alive while it moves.
      const watch = new ChunkWatch(ctx, () => ctx.heartbeat(progress()));
      try {
        // A shard set copies its members in order; its cursor is [member index, ...member key].
        const members = task.members ?? [task.table];
        const start = task.members
          ? positionInShards(checkpoint.cursor)
          : { member: 0, after: checkpoint.cursor };
        for (let member = start.member; member < members.length; member++) {
          const table = members[member]!;
          const sizer = new ChunkSizer(task, table);
          const ranges = new ChunkRanges(source, table, sizer, encoding);
          let after = member === start.member ? start.after : null;
          // Written chunks not yet settled, oldest first: two at once where the target loads a chunk's
          // rows before it claims the checkpoint, so the next chunk loads while this one commits.
          const inFlight: InFlight[] = [];
          /** Takes in the oldest write once it committed: checkpoint, sizing, progress, throttle. */
          const settle = async (): Promise<void> => {
            const { write, chunk, chunkStarted } = inFlight[0]!;
            const previous: Checkpoint = checkpoint!;
            checkpoint = await write;
            inFlight.shift();
            sizer.observe(checkpoint.rowsRead - previous.rowsRead, chunk.bytesRead?.() ?? 0);
            thisAttempt.rows += checkpoint.rowsWritten - previous.rowsWritten;
            thisAttempt.bytes += chunk.bytesRead?.() ?? 0;
            ctx.heartbeat(progress());
            recordChunk(
              task,
              checkpoint.rowsWritten - previous.rowsWritten,
              chunk.bytesRead?.() ?? 0,
              chunkStarted,
            );
            if (task.throttle) {
              // Context.sleep ends early with a CancelledFailure when the copy is cancelled.
              await ctx.sleep(
                throttleDelayMs(thisAttempt, Date.now() - thisAttempt.startedAt, task.throttle),
              );
            }
          };
          try {
            for (;;) {
              // Cancellation takes effect between chunks, so a cancelled copy never leaves half a chunk.
              if (ctx.cancellationSignal.aborted)
                throw new CancelledFailure('copy cancelled at a chunk boundary');
              const chunkStarted = performance.now();
              const range = await ranges.next(after);
              if (!range) break;
              const chunk = collectingAfterWideRows(
                countingBytes(await source.read(table, range, encoding)),
                sizer.rowBytes,
              );
              const before = inFlight[inFlight.length - 1];
              // The checkpoint as it stands once the chunk before this one committed.
              const previous: Checkpoint = { ...checkpoint, chunks: checkpoint.chunks + inFlight.length };
              const write = watch.during(chunk, () =>
                target.writeChunk({
                  taskId: task.taskId,
                  table: task.table,
                  targetRef: task.targetRef,
                  range,
                  previous,
                  chunk,
                  writeMode: task.writeMode,
                  ...(task.members ? { cursor: [String(member), ...range.upTo] } : {}),
                  ...(before ? { turn: before.write } : {}),
                }),
              );
              // Settled in order below; a write after a failed one fails too, and is awaited in `finally`.
              write.catch(() => undefined);
              inFlight.push({ write, chunk, chunkStarted });
              after = range.upTo;
              if (inFlight.length >= chunksAtOnce(target, task, table, sizer.rowBytes)) await settle();
            }
            while (inFlight.length > 0) await settle();
          } catch (e) {
            // A write after a failed one cannot commit: it rolls back now instead of loading its rows first.
            for (const { chunk } of inFlight) chunk.release(e instanceof Error ? e : new Error(String(e)));
            throw e;
          } finally {
            // Never leave a write running past the attempt: it commits or rolls back first.
            await Promise.allSettled(inFlight.map((w) => w.write));
          }
        }
      } finally {
        watch.stop();
      }
      await target.finish?.(task.taskId, task.table, task.targetRef);
      // Otherwise the verification analyzes, beside its counts.
      if (task.verify.mode === 'none') await target.analyze?.(task.targetRef);
      return {
        rowsRead: checkpoint.rowsRead,
        rowsWritten: checkpoint.rowsWritten,
        chunks: checkpoint.chunks,
        resumedAtChunk,
        baselineRows: checkpoint.baselineRows,
        encoding,
        durationMs: Date.now() - started,
      };
    }),

    /** Shows what a task would do, writing nothing: the DDL, the type mapping and warnings. */
    previewTask: classified(async (task: MigrationTask): Promise<TaskPlan> => {
      const target = cache.target(task.target.connection);
      const prepared: Pick<PrepareResult, 'statements' | 'notes'> = target.previewsDdl
        ? await target.prepare(prepareRequest(task), { dryRun: true })
        : { statements: ['(this target cannot preview its DDL yet)'] };
      return {
        taskId: task.taskId,
        table: tableLabel(task.table.ref),
        target: tableLabel(task.targetRef),
        estimatedRows: task.table.estimatedRows,
        columns: task.table.columns.map((c) => ({
          name: c.name,
          nativeType: c.nativeType,
          logicalType: formatLogicalType(c.type),
          ...(describeCast(c) ? { cast: describeCast(c) } : {}),
        })),
        statements: prepared.statements,
        warnings: [...taskWarnings(task, cache.engine(task.target.connection)), ...(prepared.notes ?? [])],
      };
    }),

    /** Marks a verified task complete in the target, so a re-run of the job skips it. */
    completeTask: classified(async (task: MigrationTask): Promise<void> => {
      await cache.target(task.target.connection).markComplete(task.taskId, task.targetRef);
    }),

    ...createVerifyActivities(cache),
  };
}

/** What a task asks of its target's prepare. */
function prepareRequest(task: MigrationTask): PrepareRequest {
  return {
    taskId: task.taskId,
    table: task.table,
    targetRef: task.targetRef,
    writeMode: task.writeMode,
    createMode: task.createMode,
    targetParent: task.targetParent,
    partitionBy: task.partitionBy,
  };
}

/** Where a shard set's copy resumes: the member index and the key within it. */
export function positionInShards(cursor: KeyTuple | null): { member: number; after: KeyTuple | null } {
  if (!cursor) return { member: 0, after: null };
  return { member: Number(cursor[0]), after: cursor.slice(1) };
}

/** The activity functions, as workflows see their types. */
export type Activities = ReturnType<typeof createActivities>;
