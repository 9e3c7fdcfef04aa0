import { dateTime, JsonSchema, listOf, mapOf, oneOf, text } from '../common/jsonapi/attribute-schema';
import { QuerySpec } from '../common/jsonapi/query-spec';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';

export const PROCESSOR_TYPES = ['mutelist'] as const;
export type ProcessorType = (typeof PROCESSOR_TYPES)[number];

export interface ProcessorRow {
  id: string;
  processor_type: ProcessorType;
  configuration: Record<string, unknown>;
  inserted_at: Date;
  updated_at: Date;
}

export const PROCESSOR_COLUMNS_SQL = 'p.id, p.processor_type, p.configuration, p.inserted_at, p.updated_at';

/** An object of which only `required` members are always written; none other is allowed (as readMutelistConfiguration checks). */
function closedObject(properties: Record<string, JsonSchema>, required: string[]): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false };
}

const PATTERNS = listOf(text);

/** A stored Mutelist (mutelist-document.ts): accounts → checks → entries. */
const MUTELIST_CONFIGURATION = closedObject(
  {
    Mutelist: closedObject(
      {
        Accounts: mapOf(
          closedObject(
            {
              Checks: mapOf(
                closedObject(
                  {
                    Regions: PATTERNS,
                    Resources: PATTERNS,
                    Tags: PATTERNS,
                    Exceptions: closedObject({ Accounts: PATTERNS, Regions: PATTERNS, Resources: PATTERNS, Tags: PATTERNS }, []),
                    Description: text,
                  },
                  ['Regions', 'Resources'],
                ),
              ),
            },
            ['Checks'],
          ),
        ),
      },
      ['Accounts'],
    ),
  },
  ['Mutelist'],
);

/** The contract's Processor; Prowler's serializer has a `url`, rendered as links.self. */
export const processorResource: ResourceDefinition<ProcessorRow> = {
  schema: { inserted_at: dateTime, updated_at: dateTime, processor_type: oneOf(PROCESSOR_TYPES), configuration: MUTELIST_CONFIGURATION },
  type: 'processors',
  id: (p) => p.id,
  attributes: (p) => ({ inserted_at: p.inserted_at, updated_at: p.updated_at, processor_type: p.processor_type, configuration: p.configuration }),
  selfPath: 'processors',
};

const FIELDS = { processors: ['inserted_at', 'updated_at', 'processor_type', 'configuration', 'url'] };

export const PROCESSOR_LIST: QuerySpec = {
  filters: {
    processor_type: { type: 'enum', operators: ['eq', 'in'], values: PROCESSOR_TYPES },
    /** The contract lists it; Prowler's view declares no search fields, so it narrows nothing there and here alike. */
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['id', 'inserted_at', 'updated_at', 'processor_type', 'configuration', 'url'],
  fields: FIELDS,
};

export const PROCESSOR_DETAIL: QuerySpec = { fields: FIELDS };
