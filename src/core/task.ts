import type { ChunkRange, CreateMode, KeyTuple, TableSelection, WriteMode } from './connector';
import type { CastRule } from './casts';
import type { CompareState, DifferingKey } from './table-compare';
import type { TableMeta, TableRef } from './table';

/** One task: a table to move, with everything its activities need except credentials. */
export interface MigrationTask {
  jobId: string;
  /** Deterministic: `<jobId>/<schema>.<table>`; also the child workflow id and the checkpoint key. */
  taskId: string;
  /** Connection names only. */
  source: { connection: string };
  target: { connection: string };
  /** The table to copy; for a shard set, the target's shape (the members' columns plus the shard column). */
  table: TableMeta;
  targetRef: TableRef;
  /** For a partition: the target name of its partitioned parent. */
  targetParent?: string;
  /** Object-store targets: the spec's `target.partitionBy` for this table (Hive folder columns). */
  partitionBy?: string[];
  /** For a shard set: the source tables merged into the target, copied in this order. */
  members?: TableMeta[];
  /** For a shard set: the target column that records each row's source table. */
  shardColumn?: string;
  writeMode: WriteMode;
  createMode: CreateMode;
  chunkRows: number;
  /** Upper bound on a chunk's size in bytes, applied through the table's average row size. */
  chunkBytes?: number;
  verify: VerifySettings;
  /** Upper limits on this task's copy rate. */
  throttle?: { rowsPerSecond?: number; bytesPerSecond?: number };
  /** How long a copy may go without a heartbeat before Temporal retries it elsewhere. */
  heartbeatTimeoutSeconds: number;
}

/** Input of the discoverSource activity: one page of tables. */
export interface DiscoverRequest {
  connection: string;
  selection: TableSelection;
  after: string | null;
  pageSize: number;
  /** For a job: the target connection, whose engine the values are held to, and the spec's cast rules. */
  target?: string;
  casts?: CastRule[];
}

/** Heartbeat details of copyTable: a progress hint only; the target's checkpoint is the truth. */
export interface CopyProgress {
  cursor: KeyTuple | null;
  rows: number;
  bytes: number;
  chunks: number;
}

/** What copyTable did, totalled over every attempt. */
export interface CopyResult {
  rowsRead: number;
  rowsWritten: number;
  chunks: number;
  /** Chunks that were already committed when this (last) attempt started. */
  resumedAtChunk: number;
  /** Rows the target held before the task (append mode). */
  baselineRows: number;
  encoding: string;
  durationMs: number;
}

/** What compareTable found: counts, and checksums when asked for. */
export interface VerifyResult {
  sourceCount: number;
  targetCount: number;
  durationMs: number;
  /** How many times the target count was read before it settled (a target may show rows late). */
  countReads?: number;
  /** The checksum comparison, in checksum mode. */
  checksum?: CompareState;
  /** What a repair did, when one ran. */
  repair?: RepairResult;
}

/** How a task is verified: the spec's `verify`. */
export interface VerifySettings {
  mode: 'none' | 'count' | 'checksum';
  /** Re-copy the key ranges whose checksums differ, then compare them again. */
  repair?: boolean;
  /** Differing keys listed per task at most. */
  maxReportedKeys?: number;
  /** Compare the existing source and target without preparing or copying. */
  only?: boolean;
}

/** Input of compareTable: a task, and the target count the copy promises (else the source count). */
export interface CompareRequest {
  task: MigrationTask;
  expectedTargetRows?: number;
}

/** Input of repairTable: the key ranges a comparison found different. */
export interface RepairRequest {
  task: MigrationTask;
  ranges: ChunkRange[];
}

/** What repairTable did. */
export interface RepairResult {
  /** False when the target cannot replace a key range; nothing was changed then. */
  supported: boolean;
  ranges: number;
  rowsRecopied: number;
  /** Repaired ranges whose checksums still differ afterwards. */
  rangesStillDiffering: number;
  targetCount: number;
  durationMs: number;
}

/** Verification as the report lists it: small, with keys capped by `maxReportedKeys`. */
export interface TaskVerification {
  mode: 'count' | 'checksum';
  /** Counts (and checksums, in checksum mode) agree, after any repair. */
  matched: boolean;
  /** The whole table's checksums (16 hex digits of the sum of row hashes). */
  sourceChecksum?: string;
  targetChecksum?: string;
  ranges?: number;
  rangesDiffering?: number;
  missing?: number;
  extra?: number;
  changed?: number;
  keys?: DifferingKey[];
  /** False when not every difference was narrowed to a key; the counts are then lower bounds. */
  narrowed?: boolean;
  rangesRepaired?: number;
  rowsRecopied?: number;
  durationMs: number;
}

/** The outcome of one task, as the job report lists it. */
export interface TaskResult {
  taskId: string;
  table: string;
  target: string;
  status: 'succeeded' | 'failed';
  /** True when an earlier run of the job had already completed and verified this task. */
  skipped?: boolean;
  rowsRead?: number;
  rowsWritten?: number;
  sourceCount?: number;
  targetCount?: number;
  chunks?: number;
  statements?: string[];
  durationMs?: number;
  /** The last copy attempt's time alone. */
  copyMs?: number;
  /** What verification found; absent with verify mode "none". */
  verification?: TaskVerification;
  error?: { code: string; message: string };
}

/** The final report of a job. */
export interface JobReport {
  jobId: string;
  status: 'succeeded' | 'failed';
  tasks: { total: number; succeeded: number; failed: number; skipped: number };
  rowsWritten: number;
  durationMs: number;
  /** Every failed task, then succeeded ones up to a limit that keeps the report under Temporal's payload size. */
  results: TaskResult[];
  /** How many results were left out of `results` to respect that limit. */
  resultsOmitted: number;
  /** How many times the job continued as new to keep each run's history short. */
  continuedAsNew: number;
}

/** What `mms plan` shows for one task, without writing anything. */
export interface TaskPlan {
  taskId: string;
  table: string;
  target: string;
  estimatedRows: number;
  /** Source column → native type → logical type, and what a cast rule changed. */
  columns: { name: string; nativeType: string; logicalType: string; cast?: string }[];
  /** The statements prepareTarget would run against the target as it is now. */
  statements: string[];
  warnings: string[];
}

/** What a job would do: its tasks with DDL, type mapping and warnings. */
export interface JobPlan {
  kind: string;
  tasks: TaskPlan[];
  /** Tasks found but not previewed, to keep the answer under Temporal's payload limit. */
  tasksOmitted: number;
}
