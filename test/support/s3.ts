import type { ResolvedConnection } from '../../src/connectors/registry';
import { ConnectionConfig } from '../../src/spec/connections';

/** The S3 server's settings, as `scripts/services.sh env` exported them in the global setup. */
export const s3Settings = {
  endpoint: process.env.MMS_S3_ENDPOINT ?? 'http://127.0.0.1:58333',
  region: process.env.MMS_S3_REGION ?? 'us-east-1',
  bucket: process.env.MMS_S3_BUCKET ?? 'mms-test',
  accessKeyId: process.env.MMS_S3_ACCESS_KEY ?? 'mmsaccess',
  secretAccessKey: process.env.MMS_S3_SECRET_KEY ?? 'mms-s3-secret-4d2a',
};

/** A resolved S3 connection to the test server, as the worker would build it. */
export function s3Connection(
  options: { prefix?: string; format?: 'parquet' | 'csv' | 'jsonl'; bucket?: string; secret?: string } = {},
): ResolvedConnection<'s3'> {
  const config = ConnectionConfig.parse({
    engine: 's3',
    endpoint: s3Settings.endpoint,
    region: s3Settings.region,
    bucket: options.bucket ?? s3Settings.bucket,
    prefix: options.prefix ?? '',
    accessKeyId: s3Settings.accessKeyId,
    format: options.format ?? 'parquet',
  }) as Extract<ConnectionConfig, { engine: 's3' }>;
  return { name: 's3_test', config, password: options.secret ?? s3Settings.secretAccessKey };
}

/** An S3 entry of a worker's connections file, under `prefix`; its secret comes from {@link s3WorkerEnv}. */
export function s3ConnectionEntry(prefix: string) {
  return {
    engine: 's3',
    endpoint: s3Settings.endpoint,
    region: s3Settings.region,
    bucket: s3Settings.bucket,
    prefix,
    accessKeyId: s3Settings.accessKeyId,
    secretAccessKeyEnv: 'MMS_S3_SECRET_KEY',
  };
}

/** The environment a worker needs for {@link s3ConnectionEntry}: the secret key. */
export const s3WorkerEnv = { MMS_S3_SECRET_KEY: s3Settings.secretAccessKey };
