import { DATE_FILTER, FilterSpec, QuerySpec } from '../common/jsonapi/query-spec';
import { PERMISSIONS } from './permissions';
import { PROVIDER_GROUP_FIELDS } from './provider-group.resource';
import { ROLE_FIELDS } from './role.resource';

const timestamp = DATE_FILTER;
const ids: FilterSpec = { type: 'uuid', operators: ['eq', 'in'] };

export const ROLE_LIST: QuerySpec = {
  filters: {
    id: ids,
    name: { type: 'string', operators: ['eq', 'in'] },
    permission_state: { type: 'enum', operators: ['eq'], values: ['unlimited', 'limited', 'none'] },
    inserted_at: timestamp,
    updated_at: timestamp,
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['id', 'name', ...PERMISSIONS, 'permission_state', 'inserted_at', 'updated_at', 'users', 'invitations', 'provider_groups', 'url'],
  defaultSort: 'inserted_at',
  fields: { roles: [...ROLE_FIELDS, 'url'] },
};

export const ROLE_DETAIL: QuerySpec = { fields: ROLE_LIST.fields };

export const PROVIDER_GROUP_LIST: QuerySpec = {
  filters: {
    id: ids,
    name: { type: 'string', operators: ['eq', 'in'] },
    inserted_at: timestamp,
    updated_at: timestamp,
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['id', 'name', 'inserted_at', 'updated_at', 'providers', 'roles', 'url'],
  defaultSort: 'inserted_at',
  fields: { 'provider-groups': [...PROVIDER_GROUP_FIELDS, 'url'] },
};

export const PROVIDER_GROUP_DETAIL: QuerySpec = { fields: PROVIDER_GROUP_LIST.fields };
