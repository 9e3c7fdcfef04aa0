import type { AttributeSchemas } from './attribute-schema';

/**
 * How one resource type is rendered: its attributes and its relationships as
 * identifiers. Features declare these once; `renderDocument` does the rest.
 */
export interface RelationshipDefinition<Row> {
  type: string;
  /**
   * To-many relationships render `data: []` and `meta.count`; to-one ones `data: null` when empty
   * (`ids` answers null). `ids` answering undefined leaves the relationship out: it was not read.
   */
  many?: boolean;
  ids: (row: Row) => string | readonly string[] | null | undefined;
  /** Meta on each related identifier of a to-many relationship (Prowler marks the caller's current membership `active`). */
  identifierMeta?: (row: Row, relatedId: string) => Record<string, unknown>;
}

export interface ResourceDefinition<Row> {
  type: string;
  id: (row: Row) => string;
  /** A new object on every call: the renderer trims it (sparse fieldsets, undefined values) in place. */
  attributes: (row: Row) => Record<string, unknown>;
  /**
   * What each attribute `attributes` writes may hold: the OpenAPI document's
   * schema for this type, against which every answer is checked under test.
   */
  schema: AttributeSchemas;
  relationships?: Record<string, RelationshipDefinition<Row>>;
  /** Where Prowler's serializer has a `url`: the detail path under /api/v1, rendered as `links.self`. */
  selfPath?: string;
}

export const API_PREFIX = '/api/v1';
