import { DATE_FILTER, QuerySpec } from '../../common/jsonapi/query-spec';
import { PROVIDER_FILTER_SPECS } from '../query/provider-scope';
import { RESOURCE_FIELDS } from './resource.resource';
import { PROVIDER_FIELDS } from '../../providers/provider.resource';
import { FINDING_FIELDS } from '../finding-list-spec';

const RESOURCE_INCLUDES = ['provider', 'findings'];

const SORTS = ['provider_uid', 'uid', 'name', 'region', 'service', 'type', 'inserted_at', 'updated_at'];

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
    /** Prowler's `tag` and `tags`: a full-text search of the resource's tag keys and values. */
    tag: { type: 'string', operators: ['eq'] },
    tags: { type: 'string', operators: ['eq'] },
    groups: { type: 'string', operators: ['eq', 'in'] },
    scan: { type: 'uuid', operators: ['eq', 'in'] },
    inserted_at: DATE_FILTER,
    updated_at: DATE_FILTER,
    /** Prowler's full-text search over uid, name, region, service and type, and the tags. */
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: SORTS,
  defaultSort: '-inserted_at',
  /** `url` is Prowler's self link, which a sparse fieldset may name. */
  fields: { resources: [...RESOURCE_FIELDS, 'url'], providers: PROVIDER_FIELDS, findings: FINDING_FIELDS },
  includes: RESOURCE_INCLUDES,
  allowCursor: true,
  pageSizeMax: 500,
};

export const RESOURCE_LATEST_LIST: QuerySpec = {
  ...RESOURCE_LIST,
  filters: Object.fromEntries(Object.entries(RESOURCE_LIST.filters!).filter(([name]) => name !== 'scan')),
};

export const RESOURCE_DETAIL: QuerySpec = { fields: RESOURCE_LIST.fields, includes: RESOURCE_INCLUDES };

/** The metadata is one object: a sort is taken, as Prowler does, and changes nothing. */
export const RESOURCE_METADATA: QuerySpec = {
  filters: RESOURCE_LIST.filters,
  sorts: SORTS,
  fields: { 'resources-metadata': ['services', 'regions', 'types', 'groups'] },
};

export const RESOURCE_METADATA_LATEST: QuerySpec = { ...RESOURCE_METADATA, filters: RESOURCE_LATEST_LIST.filters };
