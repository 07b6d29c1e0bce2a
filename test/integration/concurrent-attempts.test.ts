import { afterAll, describe, expect, it } from 'vitest';
import type { ChunkStream, Row, Target } from '../../src/core/connector';
import type { TableMeta } from '../../src/core/table';
import { openMysqlPool } from '../../src/connectors/mysql/mysql-pool';
import { MysqlTarget } from '../../src/connectors/mysql/mysql-target';
import { PostgresTarget } from '../../src/connectors/postgres/postgres-target';
import { mysqlAdminPool, mysqlConnection, mysqlSettings } from '../support/mysql';
import { adminPool, services, uniqueName } from '../support/services';

/*
 * Two attempts of the same task writing the same chunk at once: a worker Temporal presumed dead (its
 * heartbeat timed out, say while the Temporal server restarted) still runs while its retry starts.
 * Targets load rows before they claim the checkpoint, so whichever claims first commits; the other
 * must fail with the transient CHECKPOINT_CONFLICT, never with the duplicate key it met (a terminal
 * error), and the rows must be there once.
 */
const schema = uniqueName('it_race');
const pgPool = adminPool(services.pg.targetDb);
const myAdmin = mysqlAdminPool();
const targets: [string, Target][] = [
  ['PostgreSQL', new PostgresTarget(pgPool)],
  ['MySQL', new MysqlTarget(openMysqlPool(mysqlConnection({ database: mysqlSettings.sourceDb })))],
];

const table: TableMeta = {
  engine: 'postgres',
  ref: { schema: 'src', name: 'race' },
  columns: [
    { name: 'id', nativeType: 'bigint', type: { kind: 'int64' }, nullable: false },
    { name: 'v', nativeType: 'text', type: { kind: 'text' }, nullable: true },
  ],
  primaryKey: ['id'],
  estimatedRows: 0,
  estimatedBytes: 0,
};
const rows: Row[] = Array.from({ length: 100 }, (_, i) => [BigInt(i + 1), `row ${i + 1}`]);

/** A chunk whose last row waits for `gate`, so its attempt holds its transaction open meanwhile. */
function heldChunk(gate: Promise<void>): ChunkStream {
  let read = 0;
  async function* produce(): AsyncGenerator<Row> {
    for (const row of rows) {
      if (read === rows.length - 1) await gate;
      read++;
      yield row;
    }
  }
  return { data: { encoding: 'rows', rows: produce() }, rowsRead: () => read, release: () => undefined };
}

afterAll(async () => {
  await pgPool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await myAdmin.query(`DROP DATABASE IF EXISTS \`${schema}\``);
  await Promise.all(targets.map(([, t]) => t.close()));
  await pgPool.end().catch(() => undefined);
  await myAdmin.end();
});

describe.each(targets)('%s target: two attempts at the same chunk', (_engine, target) => {
  it('commit it once; the other fails with CHECKPOINT_CONFLICT, not a duplicate key', async () => {
    const targetRef = { schema, name: `race_${_engine.toLowerCase()}` };
    const taskId = `it/${targetRef.name}`;
    const { checkpoint } = await target.prepare({
      taskId,
      table,
      targetRef,
      writeMode: 'overwrite',
      createMode: 'recreate',
    });
    const range = { after: null, upTo: ['100'] };
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const write = (chunk: ChunkStream) =>
      target.writeChunk({ taskId, table, targetRef, range, previous: checkpoint, chunk });
    const first = write(heldChunk(gate));
    // The first attempt is inside its transaction, its last row held back; the second starts now.
    await new Promise((r) => setTimeout(r, 300));
    const second = write(heldChunk(Promise.resolve()));
    second.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    open();
    const outcomes = await Promise.allSettled([first, second]);
    const committed = outcomes.filter((o) => o.status === 'fulfilled');
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(committed).toHaveLength(1);
    expect(committed[0]).toMatchObject({ value: { chunks: 1, rowsWritten: 100 } });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ reason: { code: 'CHECKPOINT_CONFLICT', retryable: true } });
    expect(await target.count(targetRef)).toBe(100);
    expect(await target.readCheckpoint(taskId, targetRef)).toMatchObject({ chunks: 1, rowsWritten: 100 });
  });
});
