import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { redact } from '../../src/core/secrets';
import { ConnectionConfig } from '../../src/spec/connections';
import { loadConnections } from '../../src/worker/connections';

function connectionsFile(connections: Record<string, unknown>): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mms-s3-conn-')), 'connections.json');
  writeFileSync(file, JSON.stringify({ connections }));
  return file;
}

describe('an S3 connection', () => {
  it('defaults to Parquet, us-east-1, path-style URLs and no prefix', () => {
    expect(ConnectionConfig.parse({ engine: 's3', bucket: 'b' })).toEqual({
      engine: 's3',
      bucket: 'b',
      region: 'us-east-1',
      prefix: '',
      forcePathStyle: true,
      format: 'parquet',
    });
  });

  it('refuses an unknown format or field', () => {
    expect(ConnectionConfig.safeParse({ engine: 's3', bucket: 'b', format: 'orc' }).success).toBe(false);
    expect(ConnectionConfig.safeParse({ engine: 's3', bucket: 'b', password: 'x' }).success).toBe(false);
  });

  it('takes its secret key from an environment variable and registers it for redaction', () => {
    const file = connectionsFile({
      lake: { engine: 's3', bucket: 'b', accessKeyId: 'AK', secretAccessKeyEnv: 'MMS_TEST_S3_SECRET' },
    });
    const resolved = loadConnections({ file, env: { MMS_TEST_S3_SECRET: 'lake-secret-9q8w' } }).resolve(
      'lake',
    );
    expect(resolved.password).toBe('lake-secret-9q8w');
    expect(redact('signing with lake-secret-9q8w failed')).toBe('signing with *** failed');
  });

  it('takes its secret key from a file relative to the connections file', () => {
    const file = connectionsFile({ lake: { engine: 's3', bucket: 'b', secretAccessKeyFile: 'secret.txt' } });
    writeFileSync(path.join(path.dirname(file), 'secret.txt'), 'file-secret-7e6r\n');
    expect(loadConnections({ file, env: {} }).resolve('lake').password).toBe('file-secret-7e6r');
  });

  it('fails as BAD_CONNECTION when its secret variable is not set', () => {
    const file = connectionsFile({
      lake: { engine: 's3', bucket: 'b', secretAccessKeyEnv: 'MMS_TEST_UNSET' },
    });
    let code: unknown;
    try {
      loadConnections({ file, env: {} }).resolve('lake');
    } catch (e) {
      code = (e as { code?: unknown }).code;
    }
    expect(code).toBe('BAD_CONNECTION');
  });

  it('lets a local directory write Parquet too', () => {
    expect(ConnectionConfig.parse({ engine: 'local', path: '/tmp/x', format: 'parquet' })).toMatchObject({
      format: 'parquet',
    });
    expect(ConnectionConfig.parse({ engine: 'local', path: '/tmp/x' })).toMatchObject({ format: 'jsonl' });
  });
});
