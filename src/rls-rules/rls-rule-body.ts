import { ApiError } from '../common/errors/api-error';
import type { RequestBodySpec } from '../common/http/endpoint.decorator';
import { isPlainObject, parseResourceBody } from '../common/jsonapi/request-body';
import { NON_NULLABLE_ATTRIBUTES, RlsRuleAttributes } from './rls-rule.dto';

export const RULE_TYPE = 'rls-rules';
export const TABLE_TYPE = 'rls-tables';
const MAX_TABLE_ID_LENGTH = 63;
const ROLES_RELATIONSHIP = { roles: { type: 'roles', many: true } };

/** The body as documented: `tables` is read here (its ids are dataset names), the rest by parseResourceBody. */
export const RULE_BODY: RequestBodySpec = {
  resource: { type: RULE_TYPE, attributes: RlsRuleAttributes, relationships: { ...ROLES_RELATIONSHIP, tables: { type: TABLE_TYPE, many: true, required: true } } },
};

/** A rule body, parsed; undefined relationships were not sent (PATCH keeps them). */
export interface RuleInput {
  attributes: Partial<RlsRuleAttributes>;
  roleIds?: string[];
  tables?: string[];
}

/** POST: every attribute validated, `tables` required. */
export function parseCreateBody(body: unknown): Promise<RuleInput> {
  return parseRuleBody(body, { full: true });
}

/** PUT: a full replacement, so validated as a creation, with data.id matching the path. */
export function parseReplaceBody(body: unknown, id: string): Promise<RuleInput> {
  return parseRuleBody(withoutMatchingId(body, id), { full: true });
}

/** PATCH: only what is sent. */
export function parseUpdateBody(body: unknown, id: string): Promise<RuleInput> {
  return parseRuleBody(body, { full: false, id });
}

async function parseRuleBody(body: unknown, mode: { full: boolean; id?: string }): Promise<RuleInput> {
  // `rls-tables` ids are dataset names, not the UUIDs the shared parser expects,
  // so that relationship is taken out and read here.
  const { rest, tables } = takeTablesRelationship(body);
  if (mode.full && tables === undefined) {
    throw ApiError.badRequest('required', "Relationship 'tables' is required.", { pointer: '/data/relationships/tables' });
  }
  const parsed = await parseResourceBody(rest, {
    type: RULE_TYPE,
    attributes: RlsRuleAttributes,
    id: mode.id,
    relationships: ROLES_RELATIONSHIP,
  });
  if (!mode.full) refuseNulls(parsed.attributes);
  const roles = parsed.relationships.roles as Array<{ id: string }> | undefined;
  return {
    attributes: parsed.attributes,
    roleIds: roles ? [...new Set(roles.map((role) => role.id))] : mode.full ? [] : undefined,
    tables,
  };
}

function takeTablesRelationship(body: unknown): { rest: unknown; tables?: string[] } {
  if (!isPlainObject(body) || !isPlainObject(body.data) || !isPlainObject(body.data.relationships)) return { rest: body };
  const { tables, ...relationships } = body.data.relationships;
  if (tables === undefined) return { rest: body };
  return { rest: { ...body, data: { ...body.data, relationships } }, tables: readTableIdentifiers(tables) };
}

function readTableIdentifiers(relationship: unknown): string[] {
  const pointer = '/data/relationships/tables';
  if (!isPlainObject(relationship) || !Array.isArray(relationship.data)) {
    throw ApiError.badRequest('invalid', "Relationship 'tables' must hold a data array.", { pointer });
  }
  if (relationship.data.length === 0) throw ApiError.badRequest('invalid', 'A rule needs at least one table.', { pointer: `${pointer}/data` });
  const names = relationship.data.map((item, index) => {
    const itemPointer = `${pointer}/data/${index}`;
    if (!isPlainObject(item)) throw ApiError.badRequest('invalid', 'A resource identifier must be an object.', { pointer: itemPointer });
    if (item.type !== TABLE_TYPE) {
      throw new ApiError(409, 'incorrect_type', `The resource type must be '${TABLE_TYPE}'.`, { pointer: `${itemPointer}/type` });
    }
    if (typeof item.id !== 'string' || item.id.length === 0 || item.id.length > MAX_TABLE_ID_LENGTH) {
      throw ApiError.badRequest('invalid', `A table id is a dataset name of 1 to ${MAX_TABLE_ID_LENGTH} characters.`, { pointer: `${itemPointer}/id` });
    }
    return item.id;
  });
  return [...new Set(names)];
}

function withoutMatchingId(body: unknown, id: string): unknown {
  if (!isPlainObject(body) || !isPlainObject(body.data)) return body;
  const { id: bodyId, ...data } = body.data;
  if (bodyId !== id) throw new ApiError(409, 'id_mismatch', 'data.id must match the id in the path.', { pointer: '/data/id' });
  return { ...body, data };
}

function refuseNulls(attributes: Partial<RlsRuleAttributes>): void {
  for (const name of NON_NULLABLE_ATTRIBUTES) {
    if (attributes[name] === null) throw ApiError.badRequest('invalid', `${name} cannot be null.`, { pointer: `/data/attributes/${name}` });
  }
}
