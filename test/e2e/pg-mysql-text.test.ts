import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyEncoding } from '../support/history';
import { mysqlConnectionEntry } from '../support/mysql';
import { services, uniqueName } from '../support/services';
import { useStack } from '../support/stack';

/**
 * PostgreSQL → MySQL passes COPY text through, transcoded field by field into LOAD DATA text. This
 * table holds the values where the two formats differ or are easy to get wrong: every escape COPY
 * writes (`\b \f \n \r \t \v \\`), other control characters, text that spells `\N`, NULL and the
 * empty string, 4-byte characters, texts of 300 KB that the stream cuts anywhere (inside characters
 * too), booleans, bytea, timestamptz, json with backslashes, enum labels. Each lands byte for byte:
 * checksum-verified, and compared value by value.
 */
const name = uniqueName('pgmy_text');
const rows = 3_000;
const stack = useStack('pgmy_text', { connections: { my: mysqlConnectionEntry(name) } });
const { source: pg, mysql: my } = stack;

const awkward = [
  String.raw`tab\tnew\nline\rcr`,
  String.raw`back\\slash \\N \\ \\\\ trailing\\`,
  String.raw`form\ffeed vertical\vtab back\bspace`,
  String.raw`\\f\\v\\b\\n literally`,
  String.raw`ctrl \x01 \x1a \x1f del \x7f`,
  String.raw`\\N`,
  'N',
  'NULL',
  '',
  ' spaces  ',
  'ü é ẞ 😀 👩‍👩‍👧 𝄞',
];

beforeAll(async () => {
  await pg.query(`CREATE SCHEMA ${name}`);
  await pg.query(`CREATE TYPE ${name}.mood AS ENUM ('sad', 'ok', 'tab\tand \\ back')`);
  await pg.query(`CREATE TABLE ${name}.odd (
    id bigint PRIMARY KEY, body text, label varchar(60), flag boolean, raw bytea, doc json,
    at_tz timestamptz(6), at timestamp(3), day date, price numeric(14,4), ratio double precision,
    small smallint, id_text uuid, at_time time(6), mood ${name}.mood, wide text)`);
  await pg.query(
    `INSERT INTO ${name}.odd SELECT g,
       CASE WHEN g % 13 = 0 THEN NULL ELSE (ARRAY[${awkward.map((a) => `E'${a.replace(/'/g, "''")}'`).join(', ')}])[g % ${awkward.length} + 1] || CASE WHEN g % 2 = 0 THEN '' ELSE ' ' || g END END,
       CASE WHEN g % 7 = 0 THEN '' ELSE E'\\\\' || g || E'\\f\\v' END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE g % 2 = 0 END,
       CASE WHEN g % 11 = 0 THEN NULL WHEN g % 11 = 1 THEN ''::bytea
            ELSE decode(lpad(to_hex(g % 256), 2, '0') || '005c0a09ff', 'hex') END,
       CASE WHEN g % 17 = 0 THEN NULL ELSE ('{"k": ' || g || E', "s": "q\\\\"uote \\\\\\\\ back \\\\t tab \\\\u00e9", "a": [1, 2.5]}')::json END,
       timestamptz '2024-03-31 00:30:00.000123+00' + g * interval '1 minute 0.000007 second',
       timestamp '1999-12-31 23:59:59.999' + g * interval '1 hour',
       CASE WHEN g % 19 = 0 THEN NULL ELSE date '0900-01-01' + g * 97 END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE g * -1.0625 END,
       CASE WHEN g % 4 = 0 THEN -0.0::float8 ELSE g / 7.0 END,
       (g % 65536) - 32768,
       md5(g::text)::uuid,
       time '00:00:00' + g * interval '17 seconds 0.5 millisecond',
       (ARRAY['sad', 'ok', E'tab\\tand \\\\ back'])[g % 3 + 1]::${name}.mood,
       CASE WHEN g IN (2, 1500) THEN repeat(E'ü😀\\t\\\\\\f ', 50000) END
     FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await pg.query(
    `GRANT USAGE ON SCHEMA ${name} TO ${services.pg.readerUser}; GRANT SELECT ON ALL TABLES IN SCHEMA ${name} TO ${services.pg.readerUser}`,
  );
  await my.query(`CREATE DATABASE ${name}`);
}, 120_000);

afterAll(async () => {
  await my.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
  await pg.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => undefined);
});

describe('PostgreSQL → MySQL as COPY text transcoded to LOAD DATA text', () => {
  it('lands every awkward value byte for byte, checksum-verified, through the pass-through', async () => {
    const job = await stack.client.start({
      kind: 'tables',
      tables: ['odd'],
      source: { connection: 'pg_source', schema: name },
      target: { connection: 'my', schema: name },
      chunkRows: 500,
      verify: { mode: 'checksum' },
    });
    const report = await stack.client.result(job.jobId);
    const result = report.results[0]!;
    expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
    expect(result).toMatchObject({ rowsRead: rows, rowsWritten: rows, sourceCount: rows, targetCount: rows });
    expect(result.verification).toMatchObject({ mode: 'checksum', matched: true });

    // The copy took the COPY text path, not decoded rows.
    expect(await copyEncoding(stack.client, `${job.jobId}/${name}.odd`)).toBe('pg-copy-text');

    // Text, bytes, json and labels compared as bytes; booleans and times as MySQL prints them.
    const source = await pg.query<Record<string, string | null>>(
      `SELECT id::text, encode(convert_to(body, 'UTF8'), 'hex') AS body, encode(convert_to(label, 'UTF8'), 'hex') AS label,
              flag::int::text AS flag, encode(raw, 'hex') AS raw, encode(convert_to(doc::text, 'UTF8'), 'hex') AS doc,
              to_char(at_tz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at_tz, to_char(at, 'YYYY-MM-DD HH24:MI:SS.MS') AS at,
              to_char(day, 'YYYY-MM-DD') AS day, price::text, small::text, id_text::text,
              to_char(at_time, 'HH24:MI:SS.US') AS at_time, encode(convert_to(mood::text, 'UTF8'), 'hex') AS mood,
              md5(wide) AS wide
       FROM ${name}.odd ORDER BY id`,
    );
    const [target] = await my.query<RowDataPacket[]>(
      `SELECT CAST(id AS CHAR) AS id, LOWER(HEX(body)) AS body, LOWER(HEX(label)) AS label, CAST(flag AS CHAR) AS flag,
              LOWER(HEX(raw)) AS raw, LOWER(HEX(doc)) AS doc, CAST(at_tz AS CHAR) AS at_tz, CAST(at AS CHAR) AS at,
              CAST(day AS CHAR) AS day, CAST(price AS CHAR) AS price, CAST(small AS CHAR) AS small, id_text,
              CAST(at_time AS CHAR) AS at_time, LOWER(HEX(mood)) AS mood, MD5(wide) AS wide
       FROM \`${name}\`.odd ORDER BY id`,
    );
    expect(target.map((r) => ({ ...r }))).toEqual(source.rows);
  });
});
