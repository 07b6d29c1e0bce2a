import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationClient } from '../../src/client';
import type { TaskResult } from '../../src/core/task';
import { mysqlAdminPool, mysqlSettings } from '../support/mysql';
import { s3Settings } from '../support/s3';
import {
  adminPool,
  services,
  spawnWorker,
  uniqueName,
  writeConnectionsFile,
  type WorkerProcess,
} from '../support/services';

/**
 * Every source × target pair through the real workflow, each verified by checksums that must agree
 * across engines. The table holds values every engine can store (MySQL has no NaN, years before
 * 1000 or zoned timestamps), so any mismatch is a bug, not a documented conversion.
 */
const engines = ['pg', 'mysql', 's3'] as const;
type Engine = (typeof engines)[number];
const rows = 5_000;
const pg = adminPool(services.pg.sourceDb);
const my = mysqlAdminPool();
const name = uniqueName('pairs');
const s3Prefix = `${uniqueName('pairs')}/`;
const taskQueue = uniqueName('q_pairs');
const place: Record<Engine, { connection: string; schema: string }> = {
  pg: { connection: 'pg_source', schema: name },
  mysql: { connection: 'my', schema: name },
  s3: { connection: 'lake', schema: name },
};
const targetConnection: Record<Engine, string> = { pg: 'pg_target', mysql: 'my', s3: 'lake' };
const matrix: string[] = [];
let worker: WorkerProcess;
let client: MigrationClient;

async function migrate(from: Engine, to: Engine, targetSchema: string): Promise<TaskResult> {
  if (to === 'mysql') await my.query(`CREATE DATABASE IF NOT EXISTS ${targetSchema}`);
  const job = await client.start({
    kind: 'tables',
    tables: ['portable'],
    source: place[from],
    target: { connection: targetConnection[to], schema: targetSchema },
    chunkRows: 2_000,
    verify: { mode: 'checksum' },
  });
  const report = await client.result(job.jobId);
  return report.results[0]!;
}

beforeAll(async () => {
  await pg.query(`CREATE SCHEMA ${name}`);
  await pg.query(`CREATE TABLE ${name}.portable (
    id bigint PRIMARY KEY, qty integer NOT NULL, price numeric(12,2), ratio double precision, name varchar(40) NOT NULL,
    body text, doc json, at timestamp(6) NOT NULL, day date, raw bytea, big bigint)`);
  await pg.query(
    `INSERT INTO ${name}.portable SELECT g, g * 7 % 1000, g * 1.25, g / 7.0, 'name ' || g,
       CASE WHEN g % 3 = 0 THEN E'tab\\there "q" \\\\ ''s'' 😀' WHEN g % 5 = 0 THEN NULL ELSE 'plain ' || g END,
       ('{"k": ' || g || ', "a": [1, 2.5]}')::json, timestamp '2001-02-03 04:05:06.789012' + g * interval '1 hour 1.000001 second',
       date '1999-12-31' + g, decode(lpad(to_hex(g % 256), 2, '0') || '00ff5c', 'hex'), 9007199254740993 + g
     FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await pg.query(
    `GRANT USAGE ON SCHEMA ${name} TO ${services.pg.readerUser}; GRANT SELECT ON ALL TABLES IN SCHEMA ${name} TO ${services.pg.readerUser}`,
  );
  await my.query(`CREATE DATABASE ${name}`);
  worker = spawnWorker({
    taskQueue,
    connectionsFile: writeConnectionsFile({
      my: {
        engine: 'mysql',
        host: mysqlSettings.host,
        port: mysqlSettings.port,
        database: name,
        user: mysqlSettings.user,
        passwordEnv: 'MMS_MYSQL_PASSWORD',
      },
      lake: {
        engine: 's3',
        endpoint: s3Settings.endpoint,
        region: s3Settings.region,
        bucket: s3Settings.bucket,
        prefix: s3Prefix,
        accessKeyId: s3Settings.accessKeyId,
        secretAccessKeyEnv: 'MMS_S3_SECRET_KEY',
      },
    }),
    env: { MMS_S3_SECRET_KEY: s3Settings.secretAccessKey },
  });
  client = await MigrationClient.connect({ address: services.temporalAddress, taskQueue });
  // The MySQL and S3 sources are filled by mms itself, verified on the way.
  for (const to of ['mysql', 's3'] as const) {
    const seeded = await migrate('pg', to, name);
    expect(seeded.status, JSON.stringify(seeded.error)).toBe('succeeded');
  }
}, 240_000);

afterAll(async () => {
  console.log(`pair matrix (checksum-verified, ${rows} rows):\n${matrix.join('\n')}`);
  await worker?.stop();
  await client?.close();
  await my.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
  await Promise.all([pg.end(), my.end()]);
});

describe('every source × target pair', () => {
  for (const from of engines) {
    for (const to of engines) {
      it(`${from} → ${to} copies ${rows} rows whose checksums agree`, async () => {
        // Not "pg_…": PostgreSQL reserves schema names that start with pg_.
        const result = await migrate(from, to, uniqueName(`out_${from}_${to}`));
        matrix.push(
          `  ${from.padEnd(5)} → ${to.padEnd(5)}  ${result.status}  ${result.targetCount ?? '-'} rows`,
        );
        expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
        expect(result).toMatchObject({
          rowsRead: rows,
          rowsWritten: rows,
          sourceCount: rows,
          targetCount: rows,
        });
      });
    }
  }
});
