import { ParsedQuery } from './query-spec';
import { API_PREFIX, ResourceDefinition } from './resource-definition';

export interface JsonApiDocument {
  data: unknown;
  included?: unknown[];
  meta?: Record<string, unknown>;
  links?: Record<string, string | null>;
}

export interface IncludedSet {
  definition: ResourceDefinition<any>;
  rows: readonly unknown[];
}

export interface RenderOptions {
  fields?: ParsedQuery['fields'];
  included?: IncludedSet[];
  meta?: Record<string, unknown>;
  links?: Record<string, string | null>;
}

interface Identifier {
  type: string;
  id: string;
  meta?: Record<string, unknown>;
}

interface Relationship {
  data: Identifier | Identifier[] | null;
  meta?: { count: number };
}

interface ResourceObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, Relationship>;
  links?: { self: string };
}

/**
 * A JSON:API document for one resource or a list, with optional included
 * resources, rendered as Prowler's renderer does: every relationship present,
 * to-one ones `{"data": null}` when empty, to-many ones with `meta.count`.
 * Built by hand rather than through a generic serializer: the findings and
 * resources pages are the hottest reads, and per-relationship promises cost
 * about a millisecond per 50 findings, as much as the page query itself.
 */
export function renderDocument<Row>(definition: ResourceDefinition<Row>, rows: Row | readonly Row[], options: RenderOptions = {}): JsonApiDocument {
  const fields = options.fields ?? {};
  const document: JsonApiDocument = {
    data: Array.isArray(rows)
      ? (rows as readonly Row[]).map((row) => resourceObject(definition, row, fields[definition.type]))
      : resourceObject(definition, rows as Row, fields[definition.type]),
  };
  if (options.included && options.included.length > 0) {
    document.included = uniqueResources(
      options.included.flatMap((set) => set.rows.map((row) => resourceObject(set.definition, row, fields[set.definition.type]))),
    );
  }
  if (options.links) document.links = options.links;
  if (options.meta) document.meta = options.meta;
  return document;
}

function resourceObject<Row>(definition: ResourceDefinition<Row>, row: Row, wanted?: readonly string[]): ResourceObject {
  // The definition's object is fresh for every row, so it is trimmed in place rather than copied:
  // a 50-row page would otherwise allocate a thousand key-value pairs only to drop them.
  const attributes = definition.attributes(row) as Record<string, unknown>;
  for (const key in attributes) {
    // `id` is the resource's own member, and undefined values are left out.
    if (key === 'id' || attributes[key] === undefined || (wanted && !wanted.includes(key))) delete attributes[key];
  }
  const id = definition.id(row);
  const item: ResourceObject = { type: definition.type, id, attributes };
  if (definition.relationships) {
    const relationships: Record<string, Relationship> = {};
    for (const [name, relationship] of Object.entries(definition.relationships)) {
      if (wanted && !wanted.includes(name)) continue;
      const ids = relationship.ids(row);
      // Not read for this rendering (e.g. a type included in its short form): left out, never shown as empty.
      if (ids === undefined) continue;
      if (relationship.many) {
        const list = (ids ?? []) as readonly string[];
        const meta = relationship.identifierMeta;
        const data = list.map((related): Identifier => (meta ? { type: relationship.type, id: related, meta: meta(row, related) } : { type: relationship.type, id: related }));
        relationships[name] = { data, meta: { count: list.length } };
      } else {
        relationships[name] = { data: ids === null || ids === undefined ? null : { type: relationship.type, id: ids as string } };
      }
    }
    if (Object.keys(relationships).length > 0) item.relationships = relationships;
  }
  if (definition.selfPath) item.links = { self: `${API_PREFIX}/${definition.selfPath}/${id}` };
  return item;
}

/** Each resource once, first occurrence kept: a compound document lists an included resource only once. */
export function uniqueResources<Item extends { type: string; id: string }>(items: readonly Item[]): Item[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = `${item.type}:${item.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface PageInfo {
  number: number;
  size: number;
  count: number;
}

/** Pagination meta and links in the contract's shape (`meta.pagination.{page,pages,count}`). */
export function pageMeta(page: PageInfo): { meta: Record<string, unknown> } {
  const pages = Math.max(1, Math.ceil(page.count / page.size));
  return { meta: { pagination: { page: page.number, pages, count: page.count } } };
}
