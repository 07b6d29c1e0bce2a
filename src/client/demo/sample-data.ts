/** The demo's sample shop: a few related tables with the types that usually lose precision elsewhere. */
export function sampleSchemaSql(orders: number): string[] {
  const customers = Math.max(10, Math.floor(orders / 20));
  return [
    `CREATE TABLE customers (
       id bigint PRIMARY KEY,
       name varchar(80) NOT NULL,
       email text,
       created_at timestamp(6) NOT NULL,
       vip boolean NOT NULL DEFAULT false
     )`,
    `INSERT INTO customers
       SELECT g, 'Customer ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'c' || g || '@example.com' END,
              timestamp '2024-01-01 00:00:00' + g * interval '1 minute 0.000123 second', g % 11 = 0
       FROM generate_series(1, ${customers}) g`,
    `CREATE TABLE products (
       sku text PRIMARY KEY,
       title text NOT NULL,
       price numeric(12,2) NOT NULL,
       attributes jsonb
     )`,
    `INSERT INTO products
       SELECT 'SKU-' || lpad(g::text, 5, '0'), 'Product "' || g || E'"\\twith tab', (g * 1.37)::numeric(12,2),
              jsonb_build_object('color', (ARRAY['red','green','blue'])[1 + g % 3], 'weight', g / 10.0)
       FROM generate_series(1, 250) g`,
    `CREATE TABLE orders (
       id bigint PRIMARY KEY,
       customer_id bigint NOT NULL,
       sku text NOT NULL,
       quantity integer NOT NULL,
       amount numeric(14,4) NOT NULL,
       placed_at timestamptz NOT NULL,
       note text
     )`,
    `INSERT INTO orders
       SELECT g, 1 + g % ${customers}, 'SKU-' || lpad((1 + g % 250)::text, 5, '0'), 1 + g % 5,
              (g % 1000) * 3.1416, timestamptz '2024-03-01 00:00:00+00' + g * interval '17 second',
              CASE WHEN g % 13 = 0 THEN E'gift\\nwrap' END
       FROM generate_series(1, ${orders}) g`,
  ];
}
