import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { SecretCipher } from '../providers/secret-cipher';
import { EncryptedStore } from '../providers/secret-rotation';

/**
 * Integration credentials are encrypted exactly as provider secrets are
 * (AES-256-GCM under SECRETS_ENCRYPTION_KEY's keyring), each envelope bound
 * to its tenant and integration id, so a ciphertext copied onto another row
 * does not decrypt. They are decrypted only to call a target (in workers) and
 * to check them again when an update changes the configuration alone.
 */
@Injectable()
export class IntegrationCredentials {
  private readonly cipher: SecretCipher;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.cipher = SecretCipher.fromEnv(config.secretsEncryptionKey);
  }

  seal(tenantId: string, integrationId: string, credentials: Record<string, unknown>): { credentials: string; keyId: string } {
    return { credentials: this.cipher.encrypt(credentials, integrationAssociatedData(tenantId, integrationId)), keyId: this.cipher.currentKeyId };
  }

  open<T>(tenantId: string, integrationId: string, envelope: string): T {
    return this.cipher.decrypt(envelope, integrationAssociatedData(tenantId, integrationId)) as T;
  }
}

/** The row identity an envelope is bound to (also used by secret rotation). */
export function integrationAssociatedData(tenantId: string, integrationId: string): string {
  return `integrations:${tenantId}:${integrationId}`;
}

/** Where `npm run secrets:rotate` finds integration credentials. */
export const INTEGRATION_CREDENTIAL_STORE: EncryptedStore = { table: 'integrations', envelope: 'credentials', associatedData: integrationAssociatedData };
