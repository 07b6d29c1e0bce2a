import { z } from 'zod';
import { castTargetPattern, parseLogicalType } from '../core/logical-types';

/**
 * A connection is named, never described: credentials live only with the worker.
 * The pattern refuses URLs so that a password pasted into a spec never reaches Temporal.
 */
export const ConnectionRef = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/, {
  message:
    'must be a connection name such as "orders_pg" (letters, digits, _ . -); credentials belong in the worker\'s connections file, not in the job spec',
});

const globList = z.array(z.string().min(1));

/** Copy rate limits; either may be left out. */
const Throttle = z
  .object({
    rowsPerSecond: z.number().positive().optional(),
    bytesPerSecond: z.number().positive().optional(),
  })
  .strict();

/**
 * A cast rule (pgloader-style): the columns it matches, by `table.column` glob and/or the source's
 * native type, get the logical type `to` (and the native `targetType`, when given); `invalid` says
 * what a value the target cannot hold becomes. The first rule that matches a column applies to it.
 * See `CastRule` in core/casts.ts.
 */
const CastRule = z
  .object({
    column: z
      .string()
      .regex(/^[^.]+\..+$/, { message: 'must be "table.column" (globs * and ? allowed), e.g. "orders.flag"' })
      .optional(),
    type: z.string().min(1).optional(),
    to: z
      .string()
      .regex(castTargetPattern, {
        message:
          'must be a logical type: boolean, int16, int32, int64, float32, float64, decimal(p,s), string(n), text, bytes, date, time(p), timestamp(p), timestamptz(p), json, uuid, an array of one of those (e.g. int32[]), or enum (with values)',
      })
      .optional(),
    values: z
      .array(
        z.string().refine((label) => !label.includes('\0'), { message: 'a label cannot hold a NUL byte' }),
      )
      .min(1)
      .optional(),
    targetType: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_ ,()]{0,99}$/, {
        message:
          'must be a column type such as "jsonb" or "varchar(20)" (letters, digits, _ , ( ) and spaces)',
      })
      .optional(),
    lossy: z.boolean().default(false),
    invalid: z.enum(['error', 'null', 'clamp']).default('error'),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.column === undefined && rule.type === undefined)
      ctx.addIssue({ code: 'custom', message: 'a cast rule needs "column" or "type" to match columns' });
    if (rule.to === undefined && rule.targetType === undefined && rule.invalid === 'error')
      ctx.addIssue({ code: 'custom', message: 'a cast rule needs "to", "targetType" or "invalid"' });
    if (rule.values !== undefined && rule.to?.trim() !== 'enum')
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'labels ("values") belong to to: enum' });
    const duplicate = rule.values?.find((label, i) => rule.values!.indexOf(label) !== i);
    if (duplicate !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `the label ${JSON.stringify(duplicate)} is given twice`,
      });
    if (
      rule.to !== undefined &&
      rule.to.trim() !== 'enum' &&
      castTargetPattern.test(rule.to) &&
      !parseLogicalType(rule.to)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: 'a decimal needs 1 ≤ precision and scale ≤ precision',
      });
  });

/** Column names of Hive folders, outermost first. */
const folderColumns = z.array(z.string().min(1)).min(1);

/** A value of a partition key; large integers and dates are best written as strings. */
const keyValue = z.union([z.string().min(1), z.number()]);
/** A value of a one-column partition key, or a tuple of values of a key of several columns (or a prefix of it). */
const boundValue = z.union([keyValue, z.array(keyValue).min(1)]);

/** The job spec: what to move, from where, to where and how. It holds no credentials. */
export const JobSpec = z
  .object({
    /** The job id; also the workflow id. Generated when absent. */
    jobId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,120}$/, {
        message: 'must be letters, digits, _ . : - (at most 121)',
      })
      .optional(),
    kind: z.enum(['database', 'tables', 'partitions', 'shards']).default('database'),
    source: z
      .object({
        connection: ConnectionRef,
        /** PostgreSQL schema or MySQL database to read from. */
        schema: z.string().min(1).default('public'),
      })
      .strict(),
    target: z
      .object({
        connection: ConnectionRef,
        /** The target schema or database; defaults to the source's. */
        schema: z.string().min(1).optional(),
        /**
         * Object-store targets (S3, local): write each table's rows into Hive-style `column=value/`
         * folders by these columns, outermost first. A list applies to every table; an object maps
         * table names or globs (a partition: its parent's name; a shard set: its target's) to their
         * columns (the first match applies; other tables get no folders).
         */
        partitionBy: z.union([folderColumns, z.record(z.string().min(1), folderColumns)]).optional(),
      })
      .strict(),
    /** With kind "tables": the tables to move. */
    tables: z.array(z.string().min(1)).min(1).optional(),
    /** With kind "database": glob patterns of tables to include (default all) and exclude. */
    include: globList.default(['*']),
    exclude: globList.default([]),
    /**
     * With kind "partitions": the partitioned tables and which of their partitions: globs over partition
     * names and, for RANGE partitions, the values `[from, to)` their bounds must intersect (a tuple such
     * as `[2024, 4]` for a key of several columns).
     */
    partitions: z
      .array(
        z
          .object({
            table: z.string().min(1),
            include: globList.default(['*']),
            exclude: globList.default([]),
            /** Partitions holding values ≥ from (a value of the partition key, e.g. '2024-04-01', or a tuple, e.g. [2024, 4]). */
            from: boundValue.optional(),
            /** Partitions holding values < to (a tuple is compared left to right, as rows are). */
            to: boundValue.optional(),
          })
          .strict(),
      )
      .min(1)
      .optional(),
    /**
     * With kind "shards": sets of same-shaped source tables (names or globs), each merged into one target
     * table. `db.orders_*` takes members from another schema (database) of the same connection, and
     * `shop_*.orders` from every schema whose name matches.
     */
    shards: z
      .array(
        z
          .object({
            target: z.string().min(1),
            tables: z
              .array(
                z.string().regex(/^(?:[^.]+\.)?[^.]+$/, {
                  message:
                    'must be a table name or glob, or "schema.table" with globs in either part, e.g. "shard_*.orders"',
                }),
              )
              .min(1),
            /** A column added to the target that records each row's source table. */
            shardColumn: z.string().min(1).optional(),
          })
          .strict(),
      )
      .min(1)
      .optional(),
    /** How target tables are named: an explicit rename wins, else prefix + source name + suffix. */
    naming: z
      .object({
        prefix: z.string().default(''),
        suffix: z.string().default(''),
        rename: z.record(z.string(), z.string().min(1)).default({}),
      })
      .strict()
      .default({ prefix: '', suffix: '', rename: {} }),
    /** overwrite: empty the target first; append: add rows; upsert: insert or update by primary key. */
    writeMode: z.enum(['overwrite', 'append', 'upsert']).default('overwrite'),
    createMode: z.enum(['ifMissing', 'recreate', 'never']).default('ifMissing'),
    /** Rows per chunk: the unit of commit, checkpoint and checksum. */
    chunkRows: z.number().int().min(1).max(5_000_000).default(50_000),
    /** Bytes per chunk, estimated from the table's statistics: wide rows get fewer rows per chunk, bounding memory. */
    chunkBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(64 * 1024 * 1024),
    /** Tasks (tables) copied at the same time. */
    maxParallelTasks: z.number().int().min(1).max(500).default(4),
    /**
     * What proves the copy: counts, or counts and per-range checksums of the logical values. `repair`
     * re-copies the key ranges whose checksums differ; `only` compares an existing source and target
     * without copying; at most `maxReportedKeys` differing keys are listed per task.
     */
    verify: z
      .object({
        mode: z.enum(['none', 'count', 'checksum']).default('count'),
        repair: z.boolean().default(false),
        maxReportedKeys: z.number().int().min(0).max(1000).default(20),
        only: z.boolean().default(false),
      })
      .strict()
      .superRefine((verify, ctx) => {
        if (verify.repair && verify.mode !== 'checksum')
          ctx.addIssue({ code: 'custom', path: ['repair'], message: 'repair needs mode "checksum"' });
        if (verify.only && verify.mode === 'none')
          ctx.addIssue({
            code: 'custom',
            path: ['only'],
            message: 'a verify-only job needs mode "count" or "checksum"',
          });
      })
      .default({ mode: 'count', repair: false, maxReportedKeys: 20, only: false }),
    /** Limits each task's copy rate, to spare a production source. */
    throttle: Throttle.optional(),
    /** Limits the whole job's copy rate: shared equally by the tasks that may run at once. */
    jobThrottle: Throttle.optional(),
    /** How long a copy may go silent before Temporal moves it to another worker. */
    heartbeatTimeoutSeconds: z.number().int().min(2).max(600).optional(),
    /** Type overrides and the policy for values a target cannot hold, first match per column. */
    casts: z.array(CastRule).default([]),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.kind === 'tables' && !spec.tables) {
      ctx.addIssue({
        code: 'custom',
        path: ['tables'],
        message: 'a job of kind "tables" needs a list of tables',
      });
    }
    for (const [kind, field] of [
      ['partitions', 'partitions'],
      ['shards', 'shards'],
    ] as const) {
      if (spec.kind === kind && !spec[field]) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `a job of kind "${kind}" needs a "${field}" list`,
        });
      }
      if (spec.kind !== kind && spec[field]) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `"${field}" only applies to jobs of kind "${kind}"`,
        });
      }
    }
    if (spec.kind === 'database' && spec.tables) {
      ctx.addIssue({
        code: 'custom',
        path: ['tables'],
        message: 'a job of kind "database" selects tables with include/exclude; use kind "tables" for a list',
      });
    }
  });

/** A job spec as written by a user (defaults not yet applied). */
export type JobSpecInput = z.input<typeof JobSpec>;
/** A validated job spec with every default applied. */
export type JobSpec = z.output<typeof JobSpec>;

/** One problem found in a spec, in zod's shape: where and what. */
export interface SpecIssue {
  path: string;
  message: string;
}

/** Renders a zod path as `source.tables[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/** Validates a spec, returning either the parsed spec or its issues with paths. */
export function parseJobSpec(
  input: unknown,
): { ok: true; spec: JobSpec } | { ok: false; issues: SpecIssue[] } {
  const result = JobSpec.safeParse(input);
  if (result.success) return { ok: true, spec: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
  };
}

/** Prints issues the way zod's prettifyError does: `✖ message → at path`. */
export function formatSpecIssues(issues: SpecIssue[]): string {
  return issues.map((i) => `✖ ${i.message}\n  → at ${i.path}`).join('\n');
}
