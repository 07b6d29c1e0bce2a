import type { DiscoverPage, Source, TableSelection } from './connector';
import { ErrorCode, MigrationError } from './errors';

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

/** Whether a name is a glob (has `*` or `?`) rather than a name. */
export const isGlob = (name: string): boolean => /[*?]/.test(name);

/**
 * The schemas of a selection's `schemas` with globs replaced by the schemas they match (in name order),
 * in the order the entries come; a schema matched twice gets both entries' table globs. A glob that
 * matches no schema is a BAD_SPEC.
 */
export async function expandSchemas(
  source: Pick<Source, 'listSchemas'>,
  schemas: { schema: string; include: string[] }[],
): Promise<{ schema: string; include: string[] }[]> {
  if (!schemas.some((s) => isGlob(s.schema))) return schemas;
  if (!source.listSchemas) {
    throw new MigrationError(
      ErrorCode.BadSpec,
      `this source cannot list its schemas, so a glob in a schema name cannot be expanded: ${schemas.find((s) => isGlob(s.schema))!.schema}`,
    );
  }
  const listed = await source.listSchemas();
  const expanded = new Map<string, string[]>();
  for (const entry of schemas) {
    const names = isGlob(entry.schema)
      ? listed.filter((name) => globToRegExp(entry.schema).test(name))
      : [entry.schema];
    if (names.length === 0) {
      throw new MigrationError(
        ErrorCode.BadSpec,
        `no schema (MySQL: database) of the source matches "${entry.schema}" (members ${entry.include.map((t) => `${entry.schema}.${t}`).join(', ')})`,
        { table: `${entry.schema}.${entry.include[0] ?? '*'}` },
      );
    }
    for (const name of names) expanded.set(name, [...(expanded.get(name) ?? []), ...entry.include]);
  }
  return [...expanded].map(([schema, include]) => ({ schema, include }));
}

/**
 * Discovers the tables of a selection. With `schemas` (shard sets across schemas or databases of one
 * connection), it lists them schema after schema through the source's one-schema discovery, globs in
 * schema names expanded first; the page cursor is then `[schema index, cursor within that schema]` as JSON.
 */
export async function discoverSelection(
  source: Pick<Source, 'discover' | 'listSchemas'>,
  selection: TableSelection,
  after: string | null,
  pageSize: number,
): Promise<DiscoverPage> {
  if (!selection.schemas) return source.discover(selection, after, pageSize);
  const schemas = await expandSchemas(source, selection.schemas);
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
