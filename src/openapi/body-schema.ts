import { getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import type { JsonSchema } from '../common/jsonapi/attribute-schema';
import { exampleOf } from '../common/jsonapi/example';
import { attributeNullability } from '../common/jsonapi/omittable';
import type { BodyOptions } from '../common/jsonapi/request-body';

/** What each class-validator constraint says in JSON Schema; constraints not listed add nothing. */
const CONSTRAINTS: Record<string, (constraints: any[]) => JsonSchema> = {
  isString: () => ({ type: 'string' }),
  isBoolean: () => ({ type: 'boolean' }),
  isInt: () => ({ type: 'integer' }),
  isNumber: () => ({ type: 'number' }),
  isObject: () => ({ type: 'object' }),
  isArray: () => ({ type: 'array' }),
  isEmail: () => ({ type: 'string', format: 'email' }),
  isUUID: () => ({ type: 'string', format: 'uuid' }),
  isDateString: () => ({ type: 'string', format: 'date-time' }),
  isISO8601: () => ({ type: 'string', format: 'date-time' }),
  isIn: ([values]) => ({ enum: [...values] }),
  isLength: ([min, max]) => ({ minLength: min, ...(max !== undefined ? { maxLength: max } : {}) }),
  maxLength: ([max]) => ({ maxLength: max }),
  minLength: ([min]) => ({ minLength: min }),
  isNotEmpty: () => ({ minLength: 1 }),
  matches: ([pattern]) => ({ pattern: pattern instanceof RegExp ? pattern.source : String(pattern) }),
  min: ([min]) => ({ minimum: min }),
  max: ([max]) => ({ maximum: max }),
  arrayMinSize: ([min]) => ({ minItems: min }),
  arrayMaxSize: ([max]) => ({ maxItems: max }),
};
/** Constraints about the array itself even when the property's other rules apply to each item. */
const ARRAY_CONSTRAINTS = new Set(['isArray', 'arrayMinSize', 'arrayMaxSize']);

export interface ClassSchema {
  schema: JsonSchema;
  /** Properties without @IsOptional or @Omittable: a create body must send them. */
  required: string[];
  /** The @Example value of each property that has one. */
  example: Record<string, unknown>;
}

/**
 * The JSON Schema of a body's attributes class, read from the class-validator
 * metadata that parseResourceBody validates with, so the two cannot differ.
 */
export function classSchema(target: Function): ClassSchema {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(target, '', true, false) as ValidationMetadata[];
  const nullability = attributeNullability(target);
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const entry of metadata) byProperty.set(entry.propertyName, [...(byProperty.get(entry.propertyName) ?? []), entry]);
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const example: Record<string, unknown> = {};
  for (const [name, entries] of byProperty) {
    // @IsOptional and @Omittable (a condition without a name) both let a body leave the property out; only @IsOptional lets it be null.
    const optional = entries.some((entry) => entry.type === 'conditionalValidation');
    const nullable = nullability.get(name) === true;
    let own: JsonSchema = {};
    let items: JsonSchema | undefined;
    for (const entry of entries) {
      const describe = entry.name ? CONSTRAINTS[entry.name] : undefined;
      if (!describe) continue;
      const part = describe(entry.constraints ?? []);
      if (entry.each && !ARRAY_CONSTRAINTS.has(entry.name!)) items = { ...(items ?? {}), ...part };
      else own = { ...own, ...part };
    }
    if (items) own = { type: 'array', ...own, items };
    if (own.enum && !own.type) own = { type: 'string', ...own };
    if (nullable) own = withNull(own);
    const declared = exampleOf(target, name);
    if (declared.found) {
      own = { ...own, examples: [declared.value] };
      example[name] = declared.value;
    }
    properties[name] = own;
    if (!optional) required.push(name);
  }
  return { schema: { type: 'object', properties, additionalProperties: false }, required, example };
}

function withNull(schema: JsonSchema): JsonSchema {
  if (typeof schema.type === 'string') {
    return { ...schema, type: [schema.type, 'null'], ...(schema.enum ? { enum: [...(schema.enum as unknown[]), null] } : {}) };
  }
  return schema;
}

function identifier(type: string): JsonSchema {
  return { type: 'object', required: ['type', 'id'], additionalProperties: false, properties: { type: { type: 'string', enum: [type] }, id: { type: 'string' } } };
}

/** `{ data: [identifiers] }`: a relationship endpoint's body. */
export function identifiersBodySchema(type: string): JsonSchema {
  return { type: 'object', required: ['data'], properties: { data: { type: 'array', items: identifier(type) } } };
}

/**
 * A resource document body: `data.type`, the attributes class, and the
 * relationships parseResourceBody accepts. `update` (PATCH) needs data.id and
 * nothing else; `replace` (PUT) needs data.id and everything a create needs.
 */
export function resourceBodySchema(options: Pick<BodyOptions<object>, 'type' | 'attributes' | 'relationships'>, mode: 'create' | 'update' | 'replace'): JsonSchema {
  const { schema, required } = classSchema(options.attributes);
  const relationships: Record<string, JsonSchema> = {};
  const requiredRelationships: string[] = [];
  for (const [name, spec] of Object.entries(options.relationships ?? {})) {
    relationships[name] = {
      type: 'object', required: ['data'],
      properties: { data: spec.many ? { type: 'array', items: identifier(spec.type) } : { anyOf: [identifier(spec.type), { type: 'null' }] } },
    };
    if (spec.required && mode !== 'update') requiredRelationships.push(name);
  }
  const attributes: JsonSchema = mode === 'update' || required.length === 0 ? schema : { ...schema, required };
  const data: JsonSchema = {
    type: 'object',
    required: [...['type'], ...(mode === 'create' ? [] : ['id']), ...(mode !== 'update' && required.length > 0 ? ['attributes'] : []), ...(requiredRelationships.length ? ['relationships'] : [])],
    additionalProperties: false,
    properties: {
      type: { type: 'string', enum: [options.type] },
      ...(mode === 'create' ? {} : { id: { type: 'string', format: 'uuid' } }),
      attributes,
      ...(Object.keys(relationships).length
        ? { relationships: { type: 'object', properties: relationships, additionalProperties: false, ...(requiredRelationships.length ? { required: requiredRelationships } : {}) } }
        : {}),
    },
  };
  return { type: 'object', required: ['data'], properties: { data } };
}
