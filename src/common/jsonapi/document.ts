import { ParsedQuery } from './query-spec';
import { ResourceDefinition, serializerFor, toSerializable } from './resource-definition';

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

async function renderData<Row>(definition: ResourceDefinition<Row>, rows: Row | readonly Row[], fields?: ParsedQuery['fields']) {
  const serializer = serializerFor(definition);
  const wanted = fields?.[definition.type];
  const payload = Array.isArray(rows)
    ? (rows as readonly Row[]).map((row) => toSerializable(definition, row, wanted))
    : toSerializable(definition, rows as Row, wanted);
  const document = (await serializer.serialize(payload, { include: 0 })) as { data: unknown };
  return document.data;
}

/** A JSON:API document for one resource or a list, with optional included resources. */
export async function renderDocument<Row>(
  definition: ResourceDefinition<Row>,
  rows: Row | readonly Row[],
  options: RenderOptions = {},
): Promise<JsonApiDocument> {
  const document: JsonApiDocument = { data: await renderData(definition, rows, options.fields) };
  if (options.included && options.included.length > 0) {
    const rendered: Array<{ type: string; id: string }> = [];
    for (const set of options.included) {
      rendered.push(...((await renderData(set.definition, set.rows as unknown[], options.fields)) as Array<{ type: string; id: string }>));
    }
    document.included = uniqueResources(rendered);
  }
  if (options.links) document.links = options.links;
  if (options.meta) document.meta = options.meta;
  return document;
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
