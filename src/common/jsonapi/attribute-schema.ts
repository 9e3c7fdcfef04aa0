/**
 * JSON Schema (2020-12, as OpenAPI 3.1 uses it) fragments that declare what a
 * resource's attributes hold. Each ResourceDefinition carries one map of these
 * beside the function that renders the attributes, so the OpenAPI document and
 * the answers are described in one place; under test, every answer is checked
 * against them.
 */
export type JsonSchema = { [keyword: string]: unknown };

/** Attribute name to schema; every attribute the renderer may write must be listed. */
export type AttributeSchemas = Readonly<Record<string, JsonSchema>>;

export const text: JsonSchema = { type: 'string' };
export const uuid: JsonSchema = { type: 'string', format: 'uuid' };
export const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
export const integer: JsonSchema = { type: 'integer' };
export const number: JsonSchema = { type: 'number' };
export const boolean: JsonSchema = { type: 'boolean' };
/** Any JSON value: free-form documents (task results, resource metadata). */
export const anything: JsonSchema = {};

export function nullable(schema: JsonSchema): JsonSchema {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'], ...(schema.enum ? { enum: [...(schema.enum as unknown[]), null] } : {}) };
  return { anyOf: [schema, { type: 'null' }] };
}

export function oneOf(values: readonly string[]): JsonSchema {
  return { type: 'string', enum: [...values] };
}

export function listOf(items: JsonSchema): JsonSchema {
  return { type: 'array', items };
}

/** An object with these members, all of them always written. */
export function objectOf(properties: Record<string, JsonSchema>): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/** An object whose keys are data (counts per status, tags): only the values' shape is declared. */
export function mapOf(values: JsonSchema): JsonSchema {
  return { type: 'object', additionalProperties: values };
}
