import type { EngineConnector } from '../registry';
import { openPostgresPool } from './postgres-pool';
import { PostgresSource } from './postgres-source';
import { PostgresTarget } from './postgres-target';
import { postgresValueLimits } from './postgres-types';

/** PostgreSQL as a source and a target. */
export const postgresConnector: EngineConnector<'postgres'> = {
  openSource: (connection) => new PostgresSource(openPostgresPool(connection, 'mms-source')),
  openTarget: (connection) => new PostgresTarget(openPostgresPool(connection, 'mms-target')),
  valueLimits: postgresValueLimits,
};
