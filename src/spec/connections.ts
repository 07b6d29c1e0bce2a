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
    /** Pool size per worker process. */
    maxConnections: z.number().int().min(1).max(100).default(10),
  })
  .strict();

/** A directory on the worker's disk that behaves as an object store (for demos and tests). */
export const LocalConnection = z
  .object({
    engine: z.literal('local'),
    path: z.string(),
    format: z.enum(['jsonl', 'csv']).default('jsonl'),
  })
  .strict();

/** Any connection the worker knows. */
export const ConnectionConfig = z.discriminatedUnion('engine', [PostgresConnection, LocalConnection]);
/** A validated connection config. */
export type ConnectionConfig = z.output<typeof ConnectionConfig>;
/** The engine names. */
export type Engine = ConnectionConfig['engine'];

/** The connections file: `connections: { name: {engine, …} }`. */
export const ConnectionsFile = z.object({ connections: z.record(z.string(), ConnectionConfig) }).strict();
