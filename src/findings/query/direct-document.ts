import { JsonApiDocument, RenderOptions, uniqueResources } from '../../common/jsonapi/document';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';

/**
 * The same documents as renderDocument, built directly from the resource
 * definitions. The findings and resources pages are the hottest reads, and
 * the generic serializer's per-relationship promises cost about a
 * millisecond per 50 findings, as much as the page query itself.
 */
export function renderDirect<Row>(definition: ResourceDefinition<Row>, rows: Row | readonly Row[], options: RenderOptions = {}): JsonApiDocument {
  const fields = options.fields ?? {};
  const document: JsonApiDocument = {
    data: Array.isArray(rows) ? (rows as readonly Row[]).map((row) => resourceObject(definition, row, fields[definition.type])) : resourceObject(definition, rows as Row, fields[definition.type]),
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

interface ResourceObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data: unknown }>;
}

function resourceObject<Row>(definition: ResourceDefinition<Row>, row: Row, wanted?: readonly string[]): ResourceObject {
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(definition.attributes(row))) {
    // As the serializer does: `id` is the resource's own member, and undefined values are left out.
    if (key !== 'id' && value !== undefined && (!wanted || wanted.includes(key))) attributes[key] = value;
  }
  const item: ResourceObject = { type: definition.type, id: definition.id(row), attributes };
  const relationships: Record<string, { data: unknown }> = {};
  for (const [name, relationship] of Object.entries(definition.relationships ?? {})) {
    if (wanted && !wanted.includes(name)) continue;
    const ids = relationship.ids(row);
    if (ids === null || ids === undefined) continue;
    relationships[name] = {
      data: Array.isArray(ids) ? ids.map((id: string) => ({ type: relationship.type, id })) : { type: relationship.type, id: ids as string },
    };
  }
  if (Object.keys(relationships).length > 0) item.relationships = relationships;
  return item;
}
