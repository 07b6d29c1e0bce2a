/** Target naming rules of a job spec. */
export interface NamingRules {
  prefix: string;
  suffix: string;
  rename: Record<string, string>;
}

/** The target name of a source table: an explicit rename wins, else prefix + name + suffix. */
export function targetTableName(sourceName: string, naming: NamingRules): string {
  return naming.rename[sourceName] ?? `${naming.prefix}${sourceName}${naming.suffix}`;
}
