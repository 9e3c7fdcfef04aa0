import { QuerySpec } from '../../common/jsonapi/query-spec';
import { PROVIDER_FILTER_SPECS } from '../query/provider-scope';
import { RESOURCE_FIELDS } from './resource.resource';
import { PROVIDER_FIELDS } from '../../providers/provider.resource';
import { FINDING_FIELDS } from '../finding-list-spec';

const RESOURCE_INCLUDES = ['provider', 'findings'];

export const RESOURCE_LIST: QuerySpec = {
  filters: {
    ...PROVIDER_FILTER_SPECS,
    id: { type: 'uuid', operators: ['eq', 'in'] },
    uid: { type: 'string', operators: ['eq', 'in', 'icontains'] },
    name: { type: 'string', operators: ['eq', 'in', 'icontains'] },
    region: { type: 'string', operators: ['eq', 'in', 'icontains'] },
    service: { type: 'string', operators: ['eq', 'in', 'icontains'] },
    type: { type: 'string', operators: ['eq', 'in', 'icontains'] },
    tag_key: { type: 'string', operators: ['eq'] },
    tag_value: { type: 'string', operators: ['eq'] },
    scan: { type: 'uuid', operators: ['eq', 'in'] },
    inserted_at: { type: 'datetime', operators: ['gte', 'lte', 'gt', 'lt'] },
    updated_at: { type: 'datetime', operators: ['gte', 'lte', 'gt', 'lt'] },
  },
  sorts: ['uid', 'name', 'region', 'service', 'type', 'inserted_at'],
  defaultSort: '-inserted_at',
  fields: { resources: RESOURCE_FIELDS, providers: PROVIDER_FIELDS, findings: FINDING_FIELDS },
  includes: RESOURCE_INCLUDES,
  allowCursor: true,
  pageSizeMax: 500,
};

export const RESOURCE_LATEST_LIST: QuerySpec = {
  ...RESOURCE_LIST,
  filters: Object.fromEntries(Object.entries(RESOURCE_LIST.filters!).filter(([name]) => name !== 'scan')),
};

export const RESOURCE_DETAIL: QuerySpec = { fields: RESOURCE_LIST.fields, includes: RESOURCE_INCLUDES };

export const RESOURCE_METADATA: QuerySpec = {
  filters: RESOURCE_LIST.filters,
  fields: { 'resources-metadata': ['services', 'regions', 'types', 'groups'] },
};

export const RESOURCE_METADATA_LATEST: QuerySpec = { ...RESOURCE_METADATA, filters: RESOURCE_LATEST_LIST.filters };
