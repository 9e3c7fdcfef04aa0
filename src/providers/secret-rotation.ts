import { associatedData } from './provider-secrets.service';
import { SecretCipher, SecretCipherError } from './secret-cipher';

/** Runs one statement as the owner role: rotation reads every tenant's secrets. */
export type OwnerQuery = <T>(sql: string, params: unknown[]) => Promise<T[]>;

/** A table whose rows hold envelopes: its envelope and key id columns, and the row identity each envelope is bound to. */
export interface EncryptedStore {
  table: string;
  envelope: string;
  associatedData: (tenantId: string, id: string) => string;
}

export const PROVIDER_SECRET_STORE: EncryptedStore = { table: 'provider_secrets', envelope: 'ciphertext', associatedData };

export interface SecretRotationResult {
  /** Secrets moved onto the current key. */
  rotated: number;
  /** Ids of secrets under another key that this keyring cannot decrypt; left as they are. */
  unreadable: string[];
}

/**
 * Moves every stored secret onto the keyring's current key, so an old key can
 * leave `SECRETS_ENCRYPTION_KEY` without waiting for each secret to be
 * written again. Batches walk the table by id; each row is updated only if
 * its ciphertext is still the one read, so a secret replaced meanwhile
 * through the API is left to its writer. Only ids are reported, never content.
 */
export async function rotateSecrets(
  query: OwnerQuery,
  cipher: SecretCipher,
  batchSize = 500,
  store: EncryptedStore = PROVIDER_SECRET_STORE,
): Promise<SecretRotationResult> {
  const result: SecretRotationResult = { rotated: 0, unreadable: [] };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const batch = await query<{ id: string; tenant_id: string; ciphertext: string }>(
      `SELECT id, tenant_id, ${store.envelope} AS ciphertext FROM ${store.table} WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3`,
      [cipher.currentKeyId, after, batchSize],
    );
    for (const row of batch) {
      let envelope: string;
      try {
        envelope = cipher.rotate(row.ciphertext, store.associatedData(row.tenant_id, row.id));
      } catch (error) {
        if (!(error instanceof SecretCipherError)) throw error;
        result.unreadable.push(row.id);
        continue;
      }
      const updated = await query<{ id: string }>(
        `UPDATE ${store.table} SET ${store.envelope} = $2, key_id = $3 WHERE id = $1 AND ${store.envelope} = $4 RETURNING id`,
        [row.id, envelope, cipher.currentKeyId, row.ciphertext],
      );
      result.rotated += updated.length;
    }
    if (batch.length < batchSize) return result;
    after = batch[batch.length - 1].id;
  }
}
