import { dateTime, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';

export interface ProviderGroupRow {
  id: string;
  name: string;
  inserted_at: Date;
  updated_at: Date;
  provider_ids: string[] | null;
  role_ids: string[] | null;
}

export const PROVIDER_GROUP_FIELDS = ['name', 'inserted_at', 'updated_at', 'providers', 'roles'] as const;

export const providerGroupResource: ResourceDefinition<ProviderGroupRow> = {
  schema: { name: text, inserted_at: dateTime, updated_at: dateTime },
  type: 'provider-groups',
  selfPath: 'provider-groups',
  id: (g) => g.id,
  attributes: (g) => ({ name: g.name, inserted_at: g.inserted_at, updated_at: g.updated_at }),
  relationships: {
    providers: { type: 'providers', many: true, ids: (g) => g.provider_ids ?? [] },
    roles: { type: 'roles', many: true, ids: (g) => g.role_ids ?? [] },
  },
};
