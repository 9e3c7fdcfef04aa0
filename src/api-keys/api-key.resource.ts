import { boolean, dateTime, nullable, text } from '../common/jsonapi/attribute-schema';
import { QuerySpec } from '../common/jsonapi/query-spec';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  expires_at: Date | null;
  revoked: boolean;
  inserted_at: Date;
  last_used_at: Date | null;
  user_id: string;
  /** Only on the creation answer: the key itself, shown once. */
  api_key?: string;
}

export const API_KEY_COLUMNS_SQL = 'k.id, k.name, k.prefix, k.expires_at, k.revoked, k.inserted_at, k.last_used_at, k.user_id';

export const apiKeyResource: ResourceDefinition<ApiKeyRow> = {
  schema: {
    name: text,
    prefix: text,
    expires_at: nullable(dateTime),
    revoked: boolean,
    inserted_at: dateTime,
    last_used_at: nullable(dateTime),
    api_key: text,
  },
  type: 'api-keys',
  id: (k) => k.id,
  attributes: (k) => ({
    name: k.name,
    prefix: k.prefix,
    expires_at: k.expires_at,
    revoked: k.revoked,
    inserted_at: k.inserted_at,
    last_used_at: k.last_used_at,
    ...(k.api_key !== undefined ? { api_key: k.api_key } : {}),
  }),
  relationships: { entity: { type: 'users', ids: (k) => k.user_id } },
};

const FIELDS = { 'api-keys': ['name', 'prefix', 'expires_at', 'revoked', 'inserted_at', 'last_used_at', 'entity'] };

export const API_KEY_LIST: QuerySpec = {
  filters: {
    name: { type: 'string', operators: ['eq', 'icontains'] },
    prefix: { type: 'string', operators: ['eq', 'icontains'] },
    revoked: { type: 'boolean', operators: ['eq'] },
    expires_at: { type: 'datetime', operators: ['eq', 'gte', 'lte'] },
    inserted_at: { type: 'datetime', operators: ['eq', 'gte', 'lte'] },
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['name', 'prefix', 'revoked', 'inserted_at', 'expires_at'],
  includes: ['entity'],
  fields: FIELDS,
};

export const API_KEY_DETAIL: QuerySpec = { includes: ['entity'], fields: FIELDS };
