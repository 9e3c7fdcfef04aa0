import { DATE_FILTER, FilterSpec, QuerySpec } from '../common/jsonapi/query-spec';
import { PROVIDER_GROUP_FIELDS } from '../rbac/provider-group.resource';
import { PROVIDER_SECRET_FIELDS } from './provider-secret.resource';
import { PROVIDER_FIELDS } from './provider.resource';
import { PROVIDER_TYPES } from './provider-uid-rules';

const providerType: FilterSpec = { type: 'enum', operators: ['eq', 'in'], values: PROVIDER_TYPES };
const text: FilterSpec = { type: 'string', operators: ['eq', 'icontains', 'in'] };
const timestamp = DATE_FILTER;

/** `url` is Prowler's self link, which a sparse fieldset may name. */
const PROVIDER_SPARSE_FIELDS = { providers: [...PROVIDER_FIELDS, 'url'], 'provider-groups': [...PROVIDER_GROUP_FIELDS, 'url'] };

export const PROVIDER_LIST: QuerySpec = {
  filters: {
    id: { type: 'uuid', operators: ['eq', 'in'] },
    provider: providerType,
    provider_type: providerType,
    uid: text,
    alias: text,
    connected: { type: 'boolean', operators: ['eq'] },
    inserted_at: timestamp,
    updated_at: timestamp,
    provider_groups: { type: 'uuid', operators: ['eq', 'in'] },
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['provider', 'uid', 'alias', 'connected', 'inserted_at', 'updated_at'],
  defaultSort: '-inserted_at',
  includes: ['provider_groups'],
  fields: PROVIDER_SPARSE_FIELDS,
  allowDisablePaging: true,
};

export const PROVIDER_DETAIL: QuerySpec = { includes: ['provider_groups'], fields: PROVIDER_SPARSE_FIELDS };

export const SECRET_LIST: QuerySpec = {
  filters: {
    name: { type: 'string', operators: ['eq', 'icontains'] },
    provider: { type: 'uuid', operators: ['eq'] },
    inserted_at: DATE_FILTER,
    updated_at: DATE_FILTER,
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['name', 'inserted_at', 'updated_at'],
  defaultSort: '-inserted_at',
  fields: { 'provider-secrets': [...PROVIDER_SECRET_FIELDS, 'url'] },
};

export const SECRET_DETAIL: QuerySpec = { fields: SECRET_LIST.fields };
