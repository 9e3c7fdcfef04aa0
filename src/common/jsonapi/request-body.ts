import { plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { ApiError, ApiErrors } from '../errors/api-error';
import { attributeNullability } from './omittable';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATA_MEMBERS = new Set(['type', 'id', 'attributes', 'relationships']);

/**
 * Attributes that are never taken from a body: the tenant comes from the
 * verified token only, so a `tenant_id` sent by a client is dropped.
 */
const IGNORED_ATTRIBUTES = new Set(['tenant_id']);

export interface ResourceIdentifier {
  type: string;
  id: string;
}

export interface ParsedResourceBody<T> {
  id?: string;
  attributes: T;
  /** Relationship name to identifiers (one or many), as sent. */
  relationships: Record<string, ResourceIdentifier | ResourceIdentifier[] | null>;
}

export interface BodyOptions<T> {
  type: string;
  attributes: new () => T;
  /** For PATCH: the path id the body's `data.id` must match. */
  id?: string;
  relationships?: Record<string, { type: string; many: boolean; required?: boolean }>;
  /** Only the token endpoints take a tenant id from the body, and check it against memberships. */
  acceptsTenantId?: boolean;
}

export async function parseResourceBody<T extends object>(body: unknown, options: BodyOptions<T>): Promise<ParsedResourceBody<T>> {
  const data = readData(body);
  if (data.type !== options.type) {
    throw new ApiError(409, 'incorrect_type', `The resource type must be '${options.type}'.`, { pointer: '/data/type' });
  }
  for (const key of Object.keys(data)) {
    if (!DATA_MEMBERS.has(key)) throw ApiError.badRequest('invalid', `Unknown member '${key}' in data.`, { pointer: `/data/${key}` });
  }
  if (options.id !== undefined) {
    // A UUID in any case names the same resource: the path id comes lowercase from UuidPipe.
    if (typeof data.id !== 'string' || data.id.toLowerCase() !== options.id.toLowerCase()) throw new ApiError(409, 'id_mismatch', 'data.id must match the id in the path.', { pointer: '/data/id' });
  } else if (data.id !== undefined) {
    throw ApiError.badRequest('invalid', 'A client-generated id is not accepted here.', { pointer: '/data/id' });
  }

  const rawAttributes = data.attributes === undefined ? {} : data.attributes;
  if (!isPlainObject(rawAttributes)) throw ApiError.badRequest('invalid', 'data.attributes must be an object.', { pointer: '/data/attributes' });
  const attributes = Object.fromEntries(Object.entries(rawAttributes).filter(([key]) => options.acceptsTenantId || !IGNORED_ATTRIBUTES.has(key)));
  // A null is refused on its own, before the property's other rules, unless the attribute may be cleared (@IsOptional).
  const nullable = attributeNullability(options.attributes);
  const nulls = Object.keys(attributes).filter((name) => attributes[name] === null && nullable.get(name) === false);
  if (nulls.length > 0) throw new ApiErrors(nulls.map((name) => ApiError.badRequest('null', `${name} may not be null.`, { pointer: `/data/attributes/${name}` })));
  const instance = plainToInstance(options.attributes, attributes, { enableImplicitConversion: false });
  const errors = await validate(instance as object, {
    whitelist: true,
    forbidNonWhitelisted: true,
    // An update leaves out what it keeps; null is a value, checked as any other (@IsOptional says where it may be sent).
    skipUndefinedProperties: options.id !== undefined,
    validationError: { target: false, value: false },
  });
  if (errors.length > 0) throw new ApiErrors(errors.flatMap((e) => toApiErrors(e, '/data/attributes')));

  return { id: options.id, attributes: instance, relationships: readRelationships(data.relationships, options) };
}

/** A relationship endpoint body: `{ data: [{type, id}, ...] }`. */
export function parseIdentifiers(body: unknown, type: string): ResourceIdentifier[] {
  const data = isPlainObject(body) ? (body as Record<string, unknown>).data : undefined;
  if (data === undefined) throw ApiError.badRequest('invalid', 'The body must hold a data member.', { pointer: '/data' });
  if (!Array.isArray(data)) throw ApiError.badRequest('invalid', 'data must be an array of resource identifiers.', { pointer: '/data' });
  return data.map((item, index) => readIdentifier(item, type, `/data/${index}`));
}

function readData(body: unknown): Record<string, unknown> & { type?: unknown; id?: unknown; attributes?: unknown; relationships?: unknown } {
  if (!isPlainObject(body)) throw ApiError.badRequest('invalid', 'The body must be a JSON:API document object.', { pointer: '' });
  const data = (body as Record<string, unknown>).data;
  if (!isPlainObject(data)) throw ApiError.badRequest('invalid', 'The body must hold a data object.', { pointer: '/data' });
  return data as Record<string, unknown>;
}

function readRelationships<T>(raw: unknown, options: BodyOptions<T>): ParsedResourceBody<T>['relationships'] {
  const allowed = options.relationships ?? {};
  const result: ParsedResourceBody<T>['relationships'] = {};
  if (raw !== undefined) {
    if (!isPlainObject(raw)) throw ApiError.badRequest('invalid', 'data.relationships must be an object.', { pointer: '/data/relationships' });
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
      const spec = allowed[name];
      const pointer = `/data/relationships/${name}`;
      if (!spec) throw ApiError.badRequest('invalid', `Unknown relationship '${name}'.`, { pointer });
      if (!isPlainObject(value) || !('data' in (value as object))) throw ApiError.badRequest('invalid', `Relationship '${name}' must hold a data member.`, { pointer });
      const data = (value as Record<string, unknown>).data;
      if (spec.many) {
        if (!Array.isArray(data)) throw ApiError.badRequest('invalid', `Relationship '${name}' takes an array.`, { pointer: `${pointer}/data` });
        result[name] = data.map((item, index) => readIdentifier(item, spec.type, `${pointer}/data/${index}`));
      } else {
        result[name] = data === null ? null : readIdentifier(data, spec.type, `${pointer}/data`);
      }
    }
  }
  for (const [name, spec] of Object.entries(allowed)) {
    if (spec.required && options.id === undefined && result[name] === undefined) {
      throw ApiError.badRequest('required', `Relationship '${name}' is required.`, { pointer: `/data/relationships/${name}` });
    }
  }
  return result;
}

function readIdentifier(item: unknown, type: string, pointer: string): ResourceIdentifier {
  if (!isPlainObject(item)) throw ApiError.badRequest('invalid', 'A resource identifier must be an object.', { pointer });
  const { type: itemType, id } = item as Record<string, unknown>;
  if (itemType !== type) throw new ApiError(409, 'incorrect_type', `The resource type must be '${type}'.`, { pointer: `${pointer}/type` });
  if (typeof id !== 'string' || !UUID.test(id)) throw ApiError.badRequest('invalid', 'The id must be a UUID.', { pointer: `${pointer}/id` });
  return { type, id: id.toLowerCase() };
}

function toApiErrors(error: ValidationError, base: string): ApiError[] {
  const pointer = `${base}/${error.property}`;
  const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) =>
    ApiError.badRequest(constraint === 'isDefined' ? 'required' : 'invalid',
      constraint === 'whitelistValidation' ? `Unknown attribute '${error.property}'.` : message,
      { pointer }),
  );
  return [...own, ...(error.children ?? []).flatMap((child) => toApiErrors(child, pointer))];
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
