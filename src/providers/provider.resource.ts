import { boolean, dateTime, nullable, objectOf, oneOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';
import { PROVIDER_TYPES, ProviderType } from './provider-uid-rules';

export interface ProviderRow {
  id: string;
  provider: ProviderType;
  uid: string;
  alias: string | null;
  connected: boolean | null;
  connection_last_checked_at: Date | null;
  inserted_at: Date;
  updated_at: Date;
  secret_id: string | null;
  provider_group_ids: string[] | null;
}

export const PROVIDER_FIELDS = ['inserted_at', 'updated_at', 'provider', 'uid', 'alias', 'connection', 'secret', 'provider_groups'] as const;

export const providerResource: ResourceDefinition<ProviderRow> = {
  schema: {
    inserted_at: dateTime,
    updated_at: dateTime,
    provider: oneOf(PROVIDER_TYPES),
    uid: text,
    alias: nullable(text),
    connection: objectOf({ connected: nullable(boolean), last_checked_at: nullable(dateTime) }),
  },
  type: 'providers',
  selfPath: 'providers',
  id: (p) => p.id,
  attributes: (p) => ({
    inserted_at: p.inserted_at,
    updated_at: p.updated_at,
    provider: p.provider,
    uid: p.uid,
    alias: p.alias,
    connection: { connected: p.connected, last_checked_at: p.connection_last_checked_at },
  }),
  relationships: {
    secret: { type: 'provider-secrets', ids: (p) => p.secret_id },
    provider_groups: { type: 'provider-groups', many: true, ids: (p) => p.provider_group_ids ?? [] },
  },
};
