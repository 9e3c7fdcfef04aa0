import { Relator, Serializer } from 'ts-japi';

/**
 * How one resource type is rendered: its attributes and its relationships as
 * identifiers. Features declare these once; `renderDocument` does the rest.
 */
export interface RelationshipDefinition<Row> {
  type: string;
  ids: (row: Row) => string | readonly string[] | null | undefined;
}

export interface ResourceDefinition<Row> {
  type: string;
  id: (row: Row) => string;
  attributes: (row: Row) => Record<string, unknown>;
  relationships?: Record<string, RelationshipDefinition<Row>>;
}

interface SerializableResource {
  id: string;
  [attribute: string]: unknown;
}

const RELATIONSHIPS = '__relationships';
const serializers = new WeakMap<ResourceDefinition<never>, Serializer<SerializableResource>>();

/** One ts-japi serializer per definition, built on first use. */
export function serializerFor<Row>(definition: ResourceDefinition<Row>): Serializer<SerializableResource> {
  const cached = serializers.get(definition as ResourceDefinition<never>);
  if (cached) return cached;
  const relators: Record<string, Relator<SerializableResource>> = {};
  for (const [name, relationship] of Object.entries(definition.relationships ?? {})) {
    const target = new Serializer<{ id: string }>(relationship.type, { version: null });
    relators[name] = new Relator<SerializableResource, { id: string }>(
      async (resource) => {
        const ids = (resource[RELATIONSHIPS] as Record<string, string | readonly string[] | null>)[name];
        if (ids === null || ids === undefined) return undefined as unknown as { id: string };
        return (Array.isArray(ids) ? ids.map((id) => ({ id })) : { id: ids as string }) as { id: string };
      },
      target,
      { relatedName: name },
    );
  }
  const serializer = new Serializer<SerializableResource>(definition.type, {
    version: null,
    relators: Object.keys(relators).length > 0 ? relators : undefined,
    projection: { [RELATIONSHIPS]: 0 } as Record<string, 0>,
  });
  serializers.set(definition as ResourceDefinition<never>, serializer);
  return serializer;
}

export function toSerializable<Row>(definition: ResourceDefinition<Row>, row: Row, fields?: readonly string[]): SerializableResource {
  const attributes = definition.attributes(row);
  const picked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!fields || fields.includes(key)) picked[key] = value;
  }
  const relationshipIds: Record<string, unknown> = {};
  for (const [name, relationship] of Object.entries(definition.relationships ?? {})) {
    if (!fields || fields.includes(name)) relationshipIds[name] = relationship.ids(row) ?? null;
  }
  return { ...picked, id: definition.id(row), [RELATIONSHIPS]: relationshipIds };
}
