import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ErrorCode, MigrationError } from '../core/errors';

/** Reads a job spec file (YAML or JSON; JSON is YAML) into a plain object, not yet validated. */
export function readSpecFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MigrationError(ErrorCode.BadSpec, `cannot read spec ${file}: ${(e as Error).message}`, {
      path: file,
    });
  }
  try {
    return YAML.parse(text) as unknown;
  } catch (e) {
    throw new MigrationError(
      ErrorCode.BadSpec,
      `spec ${file} is not valid YAML/JSON: ${(e as Error).message}`,
      { path: file },
    );
  }
}
