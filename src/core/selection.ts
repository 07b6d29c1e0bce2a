import type { DiscoverPage, Source, TableSelection } from './connector';

/** Turns a glob (`*` any run, `?` one character) into an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Whether a table name is selected: listed explicitly, or matching an include and no exclude glob. */
export function matchesSelection(name: string, selection: TableSelection): boolean {
  if (selection.tables) return selection.tables.includes(name);
  const included = selection.include.some((g) => globToRegExp(g).test(name));
  return included && !selection.exclude.some((g) => globToRegExp(g).test(name));
}

/**
 * Discovers the tables of a selection. With `schemas` (shard sets across schemas or databases of one
 * connection), it lists them schema after schema through the source's one-schema discovery; the page
 * cursor is then `[schema index, cursor within that schema]` as JSON.
 */
export async function discoverSelection(
  source: Pick<Source, 'discover'>,
  selection: TableSelection,
  after: string | null,
  pageSize: number,
): Promise<DiscoverPage> {
  const schemas = selection.schemas;
  if (!schemas) return source.discover(selection, after, pageSize);
  const [index, within] = after === null ? [0, null] : (JSON.parse(after) as [number, string | null]);
  const current = schemas[index];
  if (!current) return { tables: [], nextAfter: null };
  const page = await source.discover(
    { schema: current.schema, include: current.include, exclude: selection.exclude },
    within,
    pageSize,
  );
  const next =
    page.nextAfter !== null ? [index, page.nextAfter] : index + 1 < schemas.length ? [index + 1, null] : null;
  return { tables: page.tables, nextAfter: next && JSON.stringify(next) };
}
