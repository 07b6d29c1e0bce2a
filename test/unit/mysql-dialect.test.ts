import { describe, expect, it } from 'vitest';
import {
  chunkBoundSql,
  createCheckpointTableSql,
  createTableSql,
  loadDataParts,
  insertSql,
  keyComparison,
  loadDataSql,
  quoteIdent,
  selectChunkSql,
  type KeyColumn,
} from '../../src/connectors/mysql/mysql-dialect';
import type { ColumnMeta } from '../../src/core/table';

const ref = { schema: 'sales', name: 'Order `Lines`' };
const t = '`sales`.`Order ``Lines```';
const key: KeyColumn[] = [
  { name: 'order_id', nativeType: 'bigint(20)', type: { kind: 'int64' } },
  { name: 'line', nativeType: 'int(10) unsigned', type: { kind: 'int64' } },
];

describe('the MySQL dialect', () => {
  it('quotes identifiers with backticks so that no input can end them', () => {
    expect(quoteIdent('a`b; DROP TABLE x; --')).toBe('`a``b; DROP TABLE x; --`');
    expect(quoteIdent('k0')).toBe('`k0`');
    expect(() => quoteIdent('nul\0byte')).toThrow();
  });

  it('expands a keyset comparison into an index-friendly OR of prefixes with bound values', () => {
    expect(keyComparison(key, '>', ['10', '2'])).toEqual({
      sql: '((`order_id` > CAST(? AS SIGNED)) OR (`order_id` = CAST(? AS SIGNED) AND `line` > CAST(? AS UNSIGNED)))',
      params: ['10', '10', '2'],
    });
    expect(keyComparison(key, '<=', ['10', '2']).sql).toBe(
      '((`order_id` < CAST(? AS SIGNED)) OR (`order_id` = CAST(? AS SIGNED) AND `line` <= CAST(? AS UNSIGNED)))',
    );
    expect(keyComparison(key.slice(0, 1), '>', ["1' OR 1=1"])).toEqual({
      sql: '(`order_id` > CAST(? AS SIGNED))',
      params: ["1' OR 1=1"],
    });
  });

  it('expands a three-column key into three prefixes', () => {
    const three: KeyColumn[] = [
      { name: 'a', nativeType: 'varchar(10)', type: { kind: 'string', length: 10 } },
      { name: 'b', nativeType: 'date', type: { kind: 'date' } },
      { name: 'c', nativeType: 'varbinary(16)', type: { kind: 'bytes' } },
    ];
    expect(keyComparison(three, '>', ['x', '2024-01-01', 'ff00'])).toEqual({
      sql:
        '((`a` > ?) OR (`a` = ? AND `b` > CAST(? AS DATE)) OR ' +
        '(`a` = ? AND `b` = CAST(? AS DATE) AND `c` > UNHEX(?)))',
      params: ['x', 'x', '2024-01-01', 'x', '2024-01-01', 'ff00'],
    });
  });

  it('finds a chunk bound with aliased outputs, ordering by the table columns', () => {
    expect(chunkBoundSql(ref, key, ['10', '2'], 4999)).toEqual({
      sql:
        `SELECT \`order_id\` AS k0, \`line\` AS k1 FROM ${t} ` +
        'WHERE ((`order_id` > CAST(? AS SIGNED)) OR (`order_id` = CAST(? AS SIGNED) AND `line` > CAST(? AS UNSIGNED))) ' +
        `ORDER BY ${t}.\`order_id\`, ${t}.\`line\` LIMIT 1 OFFSET 4999`,
      params: ['10', '10', '2'],
    });
    expect(chunkBoundSql(ref, key, null, 0, true)).toEqual({
      sql: `SELECT \`order_id\` AS k0, \`line\` AS k1 FROM ${t} ORDER BY ${t}.\`order_id\` DESC, ${t}.\`line\` DESC LIMIT 1 OFFSET 0`,
      params: [],
    });
  });

  it('selects byte and enum keys in a text form that compares like the column', () => {
    const keys: KeyColumn[] = [
      { name: 'h', nativeType: 'binary(16)', type: { kind: 'bytes' } },
      { name: 'e', nativeType: "enum('b','a')", type: { kind: 'enum', values: ['b', 'a'] } },
    ];
    expect(chunkBoundSql(ref, keys, null, 9).sql).toMatch(
      /^SELECT HEX\(`h`\) AS k0, \(`e` \+ 0\) AS k1 FROM/,
    );
    expect(keyComparison(keys, '>', ['00ff', '2']).sql).toContain('`e` > CAST(? AS UNSIGNED)');
  });

  it('reads exactly the rows of (after, upTo] in key order, casting floats, bits and geometries', () => {
    const columns: ColumnMeta[] = [
      { name: 'order_id', nativeType: 'bigint(20)', type: { kind: 'int64' }, nullable: false },
      { name: 'line', nativeType: 'int(10) unsigned', type: { kind: 'int64' }, nullable: false },
      { name: 'f', nativeType: 'float', type: { kind: 'float32' }, nullable: true },
      { name: 'b', nativeType: 'bit(5)', type: { kind: 'text' }, nullable: true, unmapped: true },
      { name: 'g', nativeType: 'point', type: { kind: 'text' }, nullable: true, unmapped: true },
    ];
    const statement = selectChunkSql(ref, columns, key, ['1', '1'], ['9', '3']);
    expect(statement.sql).toBe(
      'SELECT `order_id`, `line`, CAST(CAST(`f` AS DOUBLE) AS CHAR), CAST(`b` AS UNSIGNED), HEX(`g`) ' +
        `FROM ${t} WHERE ((\`order_id\` > CAST(? AS SIGNED)) OR (\`order_id\` = CAST(? AS SIGNED) AND \`line\` > CAST(? AS UNSIGNED))) ` +
        'AND ((`order_id` < CAST(? AS SIGNED)) OR (`order_id` = CAST(? AS SIGNED) AND `line` <= CAST(? AS UNSIGNED))) ' +
        `ORDER BY ${t}.\`order_id\`, ${t}.\`line\``,
    );
    expect(statement.params).toEqual(['1', '1', '1', '9', '9', '3']);
    expect(selectChunkSql(ref, columns.slice(0, 1), key, null, ['9', '3']).params).toEqual(['9', '9', '3']);
  });

  it('creates tables from logical types, with indexable key types and explicit nullability', () => {
    const columns: ColumnMeta[] = [
      { name: 'code', nativeType: 'text', type: { kind: 'text' }, nullable: false },
      {
        name: 'price',
        nativeType: 'numeric(12,2)',
        type: { kind: 'decimal', precision: 12, scale: 2 },
        nullable: true,
      },
      {
        name: 'at',
        nativeType: 'timestamp with time zone',
        type: { kind: 'timestamptz', precision: 6 },
        nullable: true,
      },
    ];
    expect(createTableSql(ref, columns, ['code'], false)).toBe(
      `CREATE TABLE ${t} (\n` +
        '  `code` varchar(768) NOT NULL,\n' +
        '  `price` decimal(12,2) NULL,\n' +
        '  `at` datetime(6) NULL,\n' +
        '  PRIMARY KEY (`code`)\n' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
    );
  });

  it('keeps native types and collations for a MySQL source', () => {
    const columns: ColumnMeta[] = [
      { name: 'id', nativeType: 'int(10) unsigned', type: { kind: 'int64' }, nullable: false },
      {
        name: 's',
        nativeType: "set('x','y') COLLATE utf8mb4_unicode_ci",
        type: { kind: 'text' },
        nullable: true,
        unmapped: true,
      },
    ];
    expect(createTableSql(ref, columns, ['id'], true)).toContain(
      "`id` int(10) unsigned NOT NULL,\n  `s` set('x','y') COLLATE utf8mb4_unicode_ci NULL,",
    );
  });

  it('creates the checkpoint table with a backticked cursor column', () => {
    const sql = createCheckpointTableSql('mms_target');
    expect(sql).toMatch(/^CREATE TABLE IF NOT EXISTS `mms_target`.`_mms_checkpoint` \(/);
    expect(sql).toContain('task_id varchar(512) NOT NULL PRIMARY KEY');
    expect(sql).toContain('`cursor` longtext NULL');
    expect(sql).toContain('ENGINE=InnoDB');
  });

  it('loads tab-separated lines, routing hex bytes and bits through user variables', () => {
    const columns: ColumnMeta[] = [
      { name: 'id', nativeType: 'bigint', type: { kind: 'int64' }, nullable: false },
      { name: 'raw', nativeType: 'bytea', type: { kind: 'bytes' }, nullable: true },
      { name: 'note', nativeType: 'text', type: { kind: 'text' }, nullable: true },
    ];
    expect(loadDataSql(ref, columns, false)).toBe(
      `LOAD DATA LOCAL INFILE 'mms-chunk' INTO TABLE ${t} CHARACTER SET utf8mb4 ` +
        "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' " +
        '(`id`, @f1, `note`) SET `raw` = UNHEX(@f1)',
    );
    const bits: ColumnMeta = {
      name: 'b',
      nativeType: 'bit(3)',
      type: { kind: 'text' },
      nullable: true,
      unmapped: true,
    };
    expect(loadDataSql(ref, [bits], true)).toContain('(@f0) SET `b` = CAST(@f0 AS UNSIGNED)');
    expect(insertSql(ref, columns, false, 2)).toBe(
      `INSERT INTO ${t} (\`id\`, \`raw\`, \`note\`) VALUES (?, UNHEX(?), ?), (?, UNHEX(?), ?)`,
    );
  });

  it('escapes tabs, newlines, carriage returns, backslashes and NUL, and writes NULL as \\N', () => {
    expect(loadDataParts(['a\tb', 'c\nd\re', 'back\\slash', 'nul\0', null, '\\N', '']).join('') + '\n').toBe(
      'a\\tb\tc\\nd\\re\tback\\\\slash\tnul\\0\t\\N\t\\\\N\t\n',
    );
  });
});
