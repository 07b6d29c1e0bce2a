import type { TableSelection } from './connector';

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
