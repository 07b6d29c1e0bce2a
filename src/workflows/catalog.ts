import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DiscoverPage } from '../core/connector';
import { terminalErrorCodes } from '../core/errors';

const { discoverSource } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: terminalErrorCodes },
});

/** Tables per discovery page, as in `migrationJob`: far below Temporal's 2 MB payload limit. */
const pageSize = 100;
/** Tables listed at most: each entry is ~150 bytes, so the result stays under 1 MB. */
const maxTables = 5_000;

/** What `catalogBrowse` is asked: the tables of one schema (or MySQL database) of a source connection. */
export interface CatalogRequest {
  connection: string;
  schema: string;
  /** Glob patterns of the tables to list; all by default. */
  include?: string[];
}

/** One table as the catalog lists it: the numbers a migration plan needs, without column details. */
export interface CatalogTable {
  name: string;
  columns: number;
  /** Primary-key columns in key order; empty when the table has none (mms refuses to copy it). */
  primaryKey: string[];
  /** The engine's statistics, not counts. */
  estimatedRows: number;
  estimatedBytes: number;
}

/** The answer of `catalogBrowse`. */
export interface Catalog {
  connection: string;
  schema: string;
  tables: CatalogTable[];
  /** True when the schema has more than the listed tables. */
  truncated: boolean;
}

/**
 * Lists a source's tables with their keys and size estimates. It is a workflow, not a client call,
 * because only workers hold the credentials: the metadata comes from the `discoverSource` activity, a page at a time.
 */
export async function catalogBrowse(request: CatalogRequest): Promise<Catalog> {
  const tables: CatalogTable[] = [];
  let after: string | null = null;
  do {
    const page: DiscoverPage = await discoverSource({
      connection: request.connection,
      selection: { schema: request.schema, include: request.include ?? ['*'], exclude: [] },
      after,
      pageSize,
    });
    for (const t of page.tables) {
      tables.push({
        name: t.ref.name,
        columns: t.columns.length,
        primaryKey: t.primaryKey,
        estimatedRows: t.estimatedRows,
        estimatedBytes: t.estimatedBytes,
      });
    }
    after = page.nextAfter;
  } while (after !== null && tables.length < maxTables);
  return { connection: request.connection, schema: request.schema, tables, truncated: after !== null };
}
