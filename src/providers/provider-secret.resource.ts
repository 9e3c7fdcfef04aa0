import { dateTime, nullable, oneOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';
import { SecretType } from './secret-schemas';

/** Metadata only: the ciphertext is never selected into a row that could be rendered. */
export interface ProviderSecretRow {
  id: string;
  provider_id: string;
  name: string | null;
  secret_type: SecretType;
  inserted_at: Date;
  updated_at: Date;
}

export const PROVIDER_SECRET_FIELDS = ['inserted_at', 'updated_at', 'name', 'secret_type', 'provider'] as const;

export const providerSecretResource: ResourceDefinition<ProviderSecretRow> = {
  schema: { inserted_at: dateTime, updated_at: dateTime, name: nullable(text), secret_type: oneOf(['static', 'role', 'service_account']) },
  type: 'provider-secrets',
  selfPath: 'providers/secrets',
  id: (s) => s.id,
  attributes: (s) => ({ inserted_at: s.inserted_at, updated_at: s.updated_at, name: s.name, secret_type: s.secret_type }),
  relationships: { provider: { type: 'providers', ids: (s) => s.provider_id } },
};
