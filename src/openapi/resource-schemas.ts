import type { JsonSchema } from '../common/jsonapi/attribute-schema';
import type { ResourceDefinition } from '../common/jsonapi/resource-definition';

/** `provider-secrets` → `ProviderSecrets`: a components.schemas name. */
export function schemaName(type: string): string {
  return type.replace(/(^|[-_])([a-z0-9])/g, (_match, _sep, letter: string) => letter.toUpperCase());
}

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** A resource identifier; `withMeta` where the relationship writes meta on each one (identifierMeta). */
function identifier(type: string, withMeta = false): JsonSchema {
  const properties: Record<string, JsonSchema> = { type: { const: type }, id: { type: 'string' } };
  if (withMeta) properties.meta = { type: 'object' };
  return { type: 'object', required: ['type', 'id'], additionalProperties: false, properties };
}

/**
 * The resource object schema of one type, as renderDocument writes it:
 * every attribute optional (sparse fieldsets), none undeclared; to-one
 * relationships `{data: identifier | null}`, to-many ones with `meta.count`.
 * Several definitions of one type (a short form for choices) are merged.
 */
export function resourceObjectSchema(definitions: readonly ResourceDefinition<unknown>[]): JsonSchema {
  const type = definitions[0].type;
  const attributes: Record<string, JsonSchema> = {};
  const relationships: Record<string, JsonSchema> = {};
  for (const definition of definitions) {
    Object.assign(attributes, definition.schema);
    for (const [name, relationship] of Object.entries(definition.relationships ?? {})) {
      relationships[name] = relationship.many
        ? {
          type: 'object', required: ['data'], additionalProperties: false,
          properties: { data: { type: 'array', items: identifier(relationship.type, Boolean(relationship.identifierMeta)) }, meta: { type: 'object', properties: { count: { type: 'integer' } } } },
        }
        : { type: 'object', required: ['data'], additionalProperties: false, properties: { data: { anyOf: [identifier(relationship.type), { type: 'null' }] } } };
    }
  }
  return {
    type: 'object',
    required: ['type', 'id', 'attributes'],
    additionalProperties: false,
    properties: {
      type: { const: type },
      id: { type: 'string' },
      attributes: { type: 'object', properties: attributes, additionalProperties: false },
      ...(Object.keys(relationships).length ? { relationships: { type: 'object', properties: relationships, additionalProperties: false } } : {}),
      links: { type: 'object', properties: { self: { type: 'string' } }, additionalProperties: false },
    },
  };
}

/** Any resource object: what an included resource of a type no endpoint answers with is checked against. */
export const ANY_RESOURCE: JsonSchema = {
  type: 'object',
  required: ['type', 'id'],
  properties: { type: { type: 'string' }, id: { type: 'string' }, attributes: { type: 'object' }, relationships: { type: 'object' }, links: { type: 'object' } },
};

/** An included resource: checked against its type's schema when the document has one. */
export function includedSchema(types: readonly string[]): JsonSchema {
  return {
    allOf: [
      ref('AnyResource'),
      ...types.map((type) => ({ if: { properties: { type: { const: type } }, required: ['type'] }, then: ref(schemaName(type)) })),
    ],
  };
}

/** A JSON:API document whose data is one resource of `type`, or a list of them. */
export function documentSchema(type: string, list: boolean): JsonSchema {
  return {
    type: 'object',
    required: ['data'],
    properties: {
      data: list ? { type: 'array', items: ref(schemaName(type)) } : ref(schemaName(type)),
      included: { type: 'array', items: ref('IncludedResource') },
      meta: { type: 'object' },
      links: { type: 'object' },
    },
    additionalProperties: false,
  };
}

/** Every error answer: `{ errors: [{ status, code, detail, source }] }` (src/common/errors/json-api-exception.filter.ts). */
export const ERROR_DOCUMENT: JsonSchema = {
  type: 'object',
  required: ['errors'],
  properties: {
    errors: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['status', 'detail'],
        properties: {
          status: { type: 'string' },
          code: { type: 'string' },
          title: { type: 'string' },
          detail: { type: 'string' },
          source: {
            type: 'object',
            properties: { pointer: { type: 'string' }, parameter: { type: 'string' }, header: { type: 'string' } },
          },
          meta: { type: 'object' },
        },
      },
    },
  },
};
