import type { BodyOptions } from '../common/jsonapi/request-body';
import { classSchema } from './body-schema';

/**
 * Stands for an id the reader replaces with one of their own resources: the
 * path id of a PATCH or PUT, and each related resource.
 */
export const PLACEHOLDER_ID = '00000000-0000-4000-8000-000000000000';

/**
 * A whole request document built from the attributes' @Example values, for
 * the media type's `example`: Swagger UI's "Try it out" starts from it, so a
 * reader only swaps the placeholder ids for their own before sending it.
 * Every declared relationship is shown, a to-many one with one identifier.
 */
export function resourceBodyExample(options: Pick<BodyOptions<object>, 'type' | 'attributes' | 'relationships'>, mode: 'create' | 'update' | 'replace'): Record<string, unknown> {
  const { example: attributes } = classSchema(options.attributes);
  const relationships = Object.fromEntries(
    Object.entries(options.relationships ?? {}).map(([name, spec]) => {
      const identifier = { type: spec.type, id: PLACEHOLDER_ID };
      return [name, { data: spec.many ? [identifier] : identifier }];
    }),
  );
  return {
    data: {
      type: options.type,
      ...(mode === 'create' ? {} : { id: PLACEHOLDER_ID }),
      ...(Object.keys(attributes).length ? { attributes } : {}),
      ...(Object.keys(relationships).length ? { relationships } : {}),
    },
  };
}
