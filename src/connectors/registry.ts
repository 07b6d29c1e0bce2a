import type { Source, Target } from '../core/connector';
import type { ValueLimits } from '../core/value-conversion';
import type { ConnectionConfig, Engine } from '../spec/connections';
import { mysqlConnector } from './mysql';
import { postgresConnector } from './postgres';
import { localConnector, s3Connector } from './s3';

/** A named connection with its secret resolved; exists only inside the worker. */
export interface ResolvedConnection<E extends Engine = Engine> {
  /** The name job specs refer to. */
  name: string;
  /** The validated settings. */
  config: Extract<ConnectionConfig, { engine: E }>;
  /** The password or secret key, when the engine needs one. */
  password?: string;
}

/** What one engine offers: a source, a target, or both. */
export interface EngineConnector<E extends Engine = Engine> {
  /** Opens a source over a connection. */
  openSource?: (connection: ResolvedConnection<E>) => Source;
  /** Opens a target over a connection. */
  openTarget?: (connection: ResolvedConnection<E>) => Target;
  /** What the engine's columns cannot hold, checked before values reach it as a target. */
  valueLimits?: ValueLimits;
  /** An object store's: what the parts of each format cannot hold (a format not listed holds every value). */
  formatLimits?: Partial<Record<string, ValueLimits>>;
}

/** One entry per engine: adding an engine is one folder and one line here. */
const connectors: { [E in Engine]: EngineConnector<E> } = {
  postgres: postgresConnector,
  mysql: mysqlConnector,
  local: localConnector,
  s3: s3Connector,
};

function connectorFor<E extends Engine>(engine: E): EngineConnector<E> {
  return connectors[engine];
}

/** What an engine's columns (or an object store's parts of a format) cannot hold; undefined when it holds every value. */
export function valueLimitsOf(engine: string, format?: string): ValueLimits | undefined {
  if (!(engine in connectors)) return undefined;
  const connector: EngineConnector = connectorFor(engine as Engine);
  return format === undefined ? connector.valueLimits : connector.formatLimits?.[format];
}

/** Opens a source for a resolved connection, or says the engine cannot be read. */
export function openSource(connection: ResolvedConnection): Source {
  const open = connectorFor(connection.config.engine).openSource;
  if (!open) throw new Error(`engine "${connection.config.engine}" cannot be a source`);
  return open(connection);
}

/** Opens a target for a resolved connection, or says the engine cannot be written. */
export function openTarget(connection: ResolvedConnection): Target {
  const open = connectorFor(connection.config.engine).openTarget;
  if (!open) throw new Error(`engine "${connection.config.engine}" cannot be a target`);
  return open(connection);
}
