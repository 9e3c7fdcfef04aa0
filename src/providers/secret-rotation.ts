import { associatedData } from './provider-secrets.service';
import { SecretCipher, SecretCipherError } from './secret-cipher';

/** Runs one statement as the owner role: rotation reads every tenant's secrets. */
export type OwnerQuery = <T>(sql: string, params: unknown[]) => Promise<T[]>;

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
export async function rotateSecrets(query: OwnerQuery, cipher: SecretCipher, batchSize = 500): Promise<SecretRotationResult> {
  const result: SecretRotationResult = { rotated: 0, unreadable: [] };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const batch = await query<{ id: string; tenant_id: string; ciphertext: string }>(
      `SELECT id, tenant_id, ciphertext FROM provider_secrets WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3`,
      [cipher.currentKeyId, after, batchSize],
    );
    for (const row of batch) {
      let envelope: string;
      try {
        envelope = cipher.rotate(row.ciphertext, associatedData(row.tenant_id, row.id));
      } catch (error) {
        if (!(error instanceof SecretCipherError)) throw error;
        result.unreadable.push(row.id);
        continue;
      }
      const updated = await query<{ id: string }>(
        `UPDATE provider_secrets SET ciphertext = $2, key_id = $3 WHERE id = $1 AND ciphertext = $4 RETURNING id`,
        [row.id, envelope, cipher.currentKeyId, row.ciphertext],
      );
      result.rotated += updated.length;
    }
    if (batch.length < batchSize) return result;
    after = batch[batch.length - 1].id;
  }
}
