import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import pino from 'pino';
import { redact } from '../core/secrets';

/** Scrubs every string inside a log record, however deep. */
function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error)
    return { name: value.name, message: redact(value.message), stack: redact(value.stack ?? '') };
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, depth + 1)]));
}

/** The worker's structured logger: JSON lines on stderr, secrets redacted. */
export function createLogger(level = process.env.MMS_LOG_LEVEL ?? 'info'): pino.Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      formatters: { log: (record) => redactDeep(record) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? redact(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    pino.destination(2),
  );
}

const levels: Record<LogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Adapts pino to the Temporal SDK's Logger, so SDK and activity logs are redacted too. */
export class TemporalLogger implements Logger {
  constructor(private readonly logger: pino.Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.logger[levels[level]](meta ?? {}, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
