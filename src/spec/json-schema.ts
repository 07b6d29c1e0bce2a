import { z } from 'zod';
import { JobSpec } from './job-spec';

/**
 * The job spec as a JSON Schema (draft 2020-12), for editors and for services that build specs.
 * It describes the input form, where fields with defaults are optional; cross-field rules
 * (such as "kind tables needs a list of tables") are checked by `mms validate`, not by the schema.
 */
export function jobSpecJsonSchema(): Record<string, unknown> {
  const { $schema, ...schema } = z.toJSONSchema(JobSpec, { io: 'input' });
  return {
    $schema,
    title: 'mms job spec',
    description:
      'A migration job: what to move, from which connection to which, and how. It holds no credentials.',
    ...schema,
  };
}
