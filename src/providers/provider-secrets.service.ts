import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { currentPrincipal, tenantScope } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { ProvidersService } from './providers.service';
import { CreateProviderSecretAttributes, UpdateProviderSecretAttributes } from './provider-secret.dto';
import { ProviderSecretRow } from './provider-secret.resource';
import {
  deleteSecret,
  findCiphertext,
  findCiphertextByProvider,
  findVisibleSecret,
  insertSecret,
  listSecrets,
  SecretChanges,
  updateSecret,
} from './provider-secrets.repository';
import { SecretCipher, SecretCipherError } from './secret-cipher';
import { validateSecret } from './secret-schemas';

const logger = new Logger('ProviderSecrets');

/**
 * Provider credentials, encrypted with AES-256-GCM before they reach the
 * database. The associated data binds each envelope to its tenant and secret
 * id, so a ciphertext copied onto another row does not decrypt. Nothing here
 * returns or logs a secret's content; only `credentialsFor` decrypts, for the
 * code that connects to a provider.
 */
@Injectable()
export class ProviderSecretsService {
  private readonly cipher: SecretCipher;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly providers: ProvidersService,
  ) {
    this.cipher = SecretCipher.fromEnv(config.secretsEncryptionKey);
  }

  list(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: ProviderSecretRow[]; count: number }> {
    return listSecrets(query, spec);
  }

  async get(id: string): Promise<ProviderSecretRow> {
    const secret = await findVisibleSecret(id);
    if (!secret) throw ApiError.notFound();
    return secret;
  }

  async create(attributes: CreateProviderSecretAttributes, providerId: string): Promise<ProviderSecretRow> {
    const provider = await this.providers.getVisibleProvider(providerId, '/data/relationships/provider/data');
    const content = validateSecret(provider.provider, attributes.secret_type, attributes.secret);
    const id = newId();
    const tenantId = currentPrincipal().tenantId;
    const created = await insertSecret({
      id,
      tenantId,
      providerId,
      name: attributes.name ?? null,
      secretType: attributes.secret_type,
      ciphertext: this.cipher.encrypt(content, associatedData(tenantId, id)),
      keyId: this.cipher.currentKeyId,
    });
    if (!created) {
      throw ApiError.conflict('unique', 'This provider already has a secret; update or delete it instead.', { pointer: '/data/relationships/provider' });
    }
    return created;
  }

  async update(id: string, attributes: UpdateProviderSecretAttributes): Promise<ProviderSecretRow> {
    const secret = await this.get(id);
    const aad = associatedData(currentPrincipal().tenantId, id);
    const changes: SecretChanges = { name: attributes.name, secretType: attributes.secret_type };
    if (attributes.secret !== undefined) {
      const provider = await this.providers.getVisibleProvider(secret.provider_id);
      const content = validateSecret(provider.provider, attributes.secret_type ?? secret.secret_type, attributes.secret);
      changes.envelope = { ciphertext: this.cipher.encrypt(content, aad), keyId: this.cipher.currentKeyId };
    } else if (attributes.secret_type !== undefined && attributes.secret_type !== secret.secret_type) {
      throw ApiError.badRequest('required', 'A new secret_type needs the matching secret in the same request.', { pointer: '/data/attributes/secret' });
    } else {
      changes.envelope = this.rotated(id, await findCiphertext(id), aad);
    }
    await updateSecret(id, changes);
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    await deleteSecret(id);
  }

  /**
   * The decrypted credentials of a provider of the current tenant, or null
   * when it has none: for connection checks and scans, which run as
   * background work for the tenant after the request that asked for them
   * checked the provider's visibility.
   */
  async credentialsFor(providerId: string): Promise<Record<string, unknown> | null> {
    const stored = await findCiphertextByProvider(providerId);
    if (!stored) return null;
    return this.cipher.decrypt(stored.ciphertext, associatedData(tenantScope().tenantId, stored.id)) as Record<string, unknown>;
  }

  /**
   * Any write moves a secret written under an older key onto the current one,
   * so rotating `SECRETS_ENCRYPTION_KEY` drains the old key as secrets change.
   * A secret whose key already left the keyring stays as it is: a rename must
   * not fail on it, and only a new secret can repair it.
   */
  private rotated(id: string, ciphertext: string, aad: string): SecretChanges['envelope'] {
    try {
      if (!this.cipher.needsRotation(ciphertext)) return undefined;
      return { ciphertext: this.cipher.rotate(ciphertext, aad), keyId: this.cipher.currentKeyId };
    } catch (error) {
      if (!(error instanceof SecretCipherError)) throw error;
      logger.warn(`secret ${id} could not be rotated: ${error.message}`);
      return undefined;
    }
  }
}

/** The row identity an envelope is bound to. */
export function associatedData(tenantId: string, secretId: string): string {
  return `provider-secrets:${tenantId}:${secretId}`;
}
