import { z } from 'zod';

/**
 * Connection settings as the worker keeps them. A secret comes inline, from an
 * environment variable (`passwordEnv`) or from a file (`passwordFile`): never from a job spec.
 */
const secretFields = {
  password: z.string().optional(),
  passwordEnv: z.string().optional(),
  passwordFile: z.string().optional(),
};

/** A PostgreSQL connection. */
export const PostgresConnection = z
  .object({
    engine: z.literal('postgres'),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().default(5432),
    database: z.string(),
    user: z.string(),
    ...secretFields,
    ssl: z.boolean().default(false),
    /** How long a statement waits for a lock held elsewhere before failing with LOCK_TIMEOUT (then retried). */
    lockTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
    /** Pool size per worker process. */
    maxConnections: z.number().int().min(1).max(100).default(10),
  })
  .strict();

/** A MySQL or MariaDB connection; its `database` is the default, job specs name the database to use. */
export const MysqlConnection = z
  .object({
    engine: z.literal('mysql'),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().default(3306),
    database: z.string(),
    user: z.string(),
    ...secretFields,
    /** Pool size per worker process. */
    maxConnections: z.number().int().min(1).max(100).default(10),
  })
  .strict();

/** A directory on the worker's disk that behaves as an object store (for demos and tests). */
export const LocalConnection = z
  .object({
    engine: z.literal('local'),
    path: z.string(),
    format: z.enum(['jsonl', 'csv', 'parquet']).default('jsonl'),
  })
  .strict();

/** An S3 bucket or S3-compatible server; the secret key comes inline, from an env var or from a file, like a password. */
export const S3Connection = z
  .object({
    engine: z.literal('s3'),
    /** The server, e.g. `http://127.0.0.1:9000`; AWS's regional endpoint when absent. */
    endpoint: z.url().optional(),
    region: z.string().default('us-east-1'),
    bucket: z.string().min(1),
    /** A key prefix all tables live under, e.g. `exports/2024/`. */
    prefix: z.string().default(''),
    /** Without one, the AWS SDK's default credential chain applies (environment, instance role, …). */
    accessKeyId: z.string().optional(),
    secretAccessKey: z.string().optional(),
    secretAccessKeyEnv: z.string().optional(),
    secretAccessKeyFile: z.string().optional(),
    /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need. */
    forcePathStyle: z.boolean().default(true),
    format: z.enum(['parquet', 'csv', 'jsonl']).default('parquet'),
  })
  .strict();

/** Any connection the worker knows. */
export const ConnectionConfig = z.discriminatedUnion('engine', [
  PostgresConnection,
  MysqlConnection,
  LocalConnection,
  S3Connection,
]);
/** A validated connection config. */
export type ConnectionConfig = z.output<typeof ConnectionConfig>;
/** The engine names. */
export type Engine = ConnectionConfig['engine'];

/** The connections file: `connections: { name: {engine, …} }`. */
export const ConnectionsFile = z.object({ connections: z.record(z.string(), ConnectionConfig) }).strict();
