import { Client } from 'pg';
import { SecretCipher } from '../src/providers/secret-cipher';
import { EncryptedStore, PROVIDER_SECRET_STORE, rotateSecrets } from '../src/providers/secret-rotation';
import { INTEGRATION_CREDENTIAL_STORE } from '../src/integrations/integration-credentials';

const STORES: ReadonlyArray<[string, EncryptedStore]> = [
  ['secret(s)', PROVIDER_SECRET_STORE],
  ['integration credential(s)', INTEGRATION_CREDENTIAL_STORE],
];

/**
 * `npm run secrets:rotate`: re-encrypts every provider secret and every
 * integration's credentials under the first key of SECRETS_ENCRYPTION_KEY,
 * as the owner role (DATABASE_ADMIN_URL). Afterwards the older keys can be
 * removed from the keyring.
 */
async function main(): Promise<number> {
  const adminUrl = process.env.DATABASE_ADMIN_URL;
  const keyring = process.env.SECRETS_ENCRYPTION_KEY;
  if (!adminUrl || !keyring) throw new Error('Set DATABASE_ADMIN_URL (owner role) and SECRETS_ENCRYPTION_KEY (new key first, old keys after it)');
  const cipher = SecretCipher.fromEnv(keyring);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    let unreadable = 0;
    for (const [what, store] of STORES) {
      const result = await rotateSecrets(async (sql, params) => (await client.query(sql, params)).rows, cipher, 500, store);
      process.stdout.write(`secrets:rotate: ${result.rotated} ${what} moved to key ${cipher.currentKeyId}\n`);
      if (result.unreadable.length === 0) continue;
      unreadable += result.unreadable.length;
      process.stdout.write(`secrets:rotate: ${result.unreadable.length} ${what} under a key this keyring cannot decrypt: ${result.unreadable.join(', ')}\n`);
    }
    return unreadable === 0 ? 0 : 1;
  } finally {
    await client.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`secrets:rotate failed: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
