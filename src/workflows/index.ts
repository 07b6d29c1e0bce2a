/** The workflows the worker registers. Workflow code does no I/O, reads no clock and draws no random numbers. */
export { migrationJob } from './migration-job';
export { tableMigration } from './table-migration';
export { catalogBrowse } from './catalog';
export { migrationPlan } from './plan';
