import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ErrorCode, MigrationError } from '../core/errors';
import { registerSecret } from '../core/secrets';
import type { ResolvedConnection } from '../connectors/registry';
import { ConnectionConfig, ConnectionsFile } from '../spec/connections';
import { formatPath } from '../spec/job-spec';

/** Resolves connection names to settings and secrets; lives only in the worker process. */
export interface ConnectionResolver {
  /** The connection with its secret, or a terminal UNKNOWN_CONNECTION error. */
  resolve(name: string): ResolvedConnection;
  /** The known names, for error messages and `mms catalog`. */
  names(): string[];
}

/**
 * Builds a resolver from a connections file (YAML or JSON) and from environment
 * variables `MMS_CONNECTION_<NAME>` holding a `postgres://user:pass@host:port/db` (or `mysql://…`) URL.
 */
export function loadConnections(
  options: { file?: string; env?: NodeJS.ProcessEnv } = {},
): ConnectionResolver {
  const env = options.env ?? process.env;
  const configs = new Map<string, ConnectionConfig>();
  const inlineSecrets = new Map<string, string>();
  const file = options.file ?? env.MMS_CONNECTIONS_FILE;
  if (file) {
    const parsed = ConnectionsFile.safeParse(YAML.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MigrationError(
        ErrorCode.BadConnection,
        `connections file ${file}: ${issue?.message ?? 'invalid'} at ${formatPath(issue?.path ?? [])}`,
      );
    }
    for (const [name, config] of Object.entries(parsed.data.connections)) {
      const resolved = resolveRelative(config, path.dirname(path.resolve(file)));
      configs.set(name, resolved);
    }
  }
  for (const [key, value] of Object.entries(env)) {
    const match = key.match(/^MMS_CONNECTION_(.+)$/);
    if (!match?.[1] || !value) continue;
    const { config, password } = parseConnectionUrl(value, key);
    const name = match[1].toLowerCase();
    configs.set(name, config);
    if (password) inlineSecrets.set(name, password);
  }
  return {
    names: () => [...configs.keys()].sort(),
    resolve(name) {
      const config = configs.get(name);
      if (!config) {
        throw new MigrationError(
          ErrorCode.UnknownConnection,
          `unknown connection "${name}"; the worker knows: ${[...configs.keys()].sort().join(', ') || '(none)'}`,
          { connection: name },
        );
      }
      const password = inlineSecrets.get(name) ?? readSecret(name, config, env);
      registerSecret(password);
      return { name, config, password };
    },
  };
}

/** Reads a secret from the config: inline, from an environment variable, or from a file. */
function readSecret(name: string, config: ConnectionConfig, env: NodeJS.ProcessEnv): string | undefined {
  const secret = secretSource(config);
  if (!secret) return undefined;
  if (secret.inline !== undefined) return secret.inline;
  if (secret.env) {
    const value = env[secret.env];
    if (value === undefined) {
      throw new MigrationError(
        ErrorCode.BadConnection,
        `connection "${name}" reads its ${secret.what} from $${secret.env}, which is not set in the worker`,
        { connection: name },
      );
    }
    return value;
  }
  if (secret.file) return readFileSync(secret.file, 'utf8').replace(/\r?\n$/, '');
  return undefined;
}

/** Where a connection's secret comes from: a database password, or an S3 secret access key. */
function secretSource(
  config: ConnectionConfig,
): { what: string; inline?: string; env?: string; file?: string } | null {
  if (config.engine === 's3') {
    const { secretAccessKey: inline, secretAccessKeyEnv: env, secretAccessKeyFile: file } = config;
    return { what: 'secret access key', inline, env, file };
  }
  if (!('user' in config)) return null;
  return { what: 'password', inline: config.password, env: config.passwordEnv, file: config.passwordFile };
}

function resolveRelative(config: ConnectionConfig, base: string): ConnectionConfig {
  if (config.engine === 'local') return { ...config, path: path.resolve(base, config.path) };
  if (config.engine === 's3' && config.secretAccessKeyFile)
    return { ...config, secretAccessKeyFile: path.resolve(base, config.secretAccessKeyFile) };
  if ('passwordFile' in config && config.passwordFile)
    return { ...config, passwordFile: path.resolve(base, config.passwordFile) };
  return config;
}

/** Parses `postgres://user:password@host:port/database` without ever echoing the URL back. */
export function parseConnectionUrl(
  text: string,
  source: string,
): { config: ConnectionConfig; password?: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MigrationError(ErrorCode.BadConnection, `${source} is not a valid connection URL`);
  }
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  registerSecret(password);
  if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') {
    const config = ConnectionConfig.parse({
      engine: 'postgres',
      host: url.hostname || '127.0.0.1',
      port: url.port ? Number(url.port) : 5432,
      database: decodeURIComponent(url.pathname.slice(1)),
      user: decodeURIComponent(url.username),
    });
    return { config, password };
  }
  if (url.protocol === 'mysql:' || url.protocol === 'mariadb:') {
    const config = ConnectionConfig.parse({
      engine: 'mysql',
      host: url.hostname || '127.0.0.1',
      port: url.port ? Number(url.port) : 3306,
      database: decodeURIComponent(url.pathname.slice(1)),
      user: decodeURIComponent(url.username),
    });
    return { config, password };
  }
  if (url.protocol === 'file:') {
    return { config: ConnectionConfig.parse({ engine: 'local', path: decodeURIComponent(url.pathname) }) };
  }
  throw new MigrationError(ErrorCode.BadConnection, `${source} uses an unsupported scheme ${url.protocol}`);
}
