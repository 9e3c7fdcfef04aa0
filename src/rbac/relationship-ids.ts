import { ApiError } from '../common/errors/api-error';
import type { ParsedResourceBody } from '../common/jsonapi/request-body';

/** Where a related id sat in the body, for errors: a relationship endpoint's `data` array, or a resource's `relationships` member. */
export type PointerOf = (index: number) => string;

export const inRelationshipBody: PointerOf = (index) => `/data/${index}`;

export function inRelationship(name: string): PointerOf {
  return (index) => `/data/relationships/${name}/data/${index}`;
}

/**
 * 404 for the first id that `known` lacks, pointing at its place in the body:
 * a related resource that is missing, or invisible to the caller, answers the
 * same as a missing path resource.
 */
export function requireKnown(ids: readonly string[], known: ReadonlySet<string>, what: string, pointerOf: PointerOf): void {
  const missing = ids.findIndex((id) => !known.has(id));
  if (missing !== -1) throw new ApiError(404, 'not_found', `${what} not found.`, { pointer: pointerOf(missing) });
}

/** 400 for the first id already linked: the contract answers so when a POST repeats a relationship. */
export function refuseAlreadyLinked(ids: readonly string[], linked: readonly string[], what: string, pointerOf: PointerOf): void {
  const current = new Set(linked);
  const repeated = ids.findIndex((id) => current.has(id));
  if (repeated !== -1) throw ApiError.badRequest('already_linked', `This ${what} is already linked.`, { pointer: pointerOf(repeated) });
}

export interface RelatedIds {
  ids: string[];
  pointerOf: PointerOf;
}

/** The ids a create or update body gives for one to-many relationship, or undefined when it leaves it alone. */
export function relatedIds(relationships: ParsedResourceBody<unknown>['relationships'], name: string): RelatedIds | undefined {
  const value = relationships[name];
  if (value === undefined) return undefined;
  const identifiers = Array.isArray(value) ? value : value ? [value] : [];
  return { ids: identifiers.map((identifier) => identifier.id), pointerOf: inRelationship(name) };
}
