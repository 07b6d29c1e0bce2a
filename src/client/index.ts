/** The typed client library: start, watch and control migration jobs from another service. */
export { MigrationClient, type StartedJob, type JobStatusInfo, type TaskProgress } from './migration-client';
export { temporalSettings, type TemporalSettings } from './config';
export { JobSpec, parseJobSpec, type JobSpecInput } from '../spec/job-spec';
export { jobSpecJsonSchema } from '../spec/json-schema';
export type { Catalog, CatalogTable } from '../workflows/catalog';
export type { JobReport, TaskResult } from '../core/task';
export type { JobProgress } from '../workflows/definitions';
export { ErrorCode, MigrationError } from '../core/errors';
