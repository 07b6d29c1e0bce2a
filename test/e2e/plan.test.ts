import { beforeAll, describe, expect, it } from 'vitest';
import { createMixedTable } from '../fixtures/pg-mixed';
import { services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';

const stack = useStack('plan');
const { source, target, schema } = stack;

beforeAll(async () => {
  await createMixedTable(source, schema, 'orders', 100);
  await source.query(`CREATE TABLE ${schema}.no_key (v text)`);
  await source.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${services.pg.readerUser}`);
});

describe('mms plan', () => {
  it('shows each task with its DDL, type mapping and warnings, and writes nothing', async () => {
    const out = uniqueName('e2e_plan_out');
    const plan = await stack.client.plan({
      source: { connection: 'pg_source', schema },
      target: { connection: 'pg_target', schema: out },
    });
    expect(plan.tasks.map((t) => t.table)).toEqual([`${schema}.no_key`, `${schema}.orders`]);
    const orders = plan.tasks[1]!;
    expect(orders.columns).toContainEqual({
      name: 'price',
      nativeType: 'numeric(12,2)',
      logicalType: 'decimal(12,2)',
    });
    expect(orders.statements.some((s) => s.startsWith(`CREATE TABLE "${out}"."orders"`))).toBe(true);
    expect(orders.warnings).toEqual([]);
    expect(plan.tasks[0]!.warnings.join()).toContain('copied as one chunk');
    const created = await target.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [out]);
    expect(created.rows).toHaveLength(0);
  });
});
