import { Client } from 'pg';
import { SecretCipher } from '../src/providers/secret-cipher';
import { rotateSecrets } from '../src/providers/secret-rotation';

/**
 * `npm run secrets:rotate`: re-encrypts every provider secret under the first
 * key of SECRETS_ENCRYPTION_KEY, as the owner role (DATABASE_ADMIN_URL).
 * Afterwards the older keys can be removed from the keyring.
 */
async function main(): Promise<number> {
  const adminUrl = process.env.DATABASE_ADMIN_URL;
  const keyring = process.env.SECRETS_ENCRYPTION_KEY;
  if (!adminUrl || !keyring) throw new Error('Set DATABASE_ADMIN_URL (owner role) and SECRETS_ENCRYPTION_KEY (new key first, old keys after it)');
  const cipher = SecretCipher.fromEnv(keyring);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const result = await rotateSecrets(async (sql, params) => (await client.query(sql, params)).rows, cipher);
    process.stdout.write(`secrets:rotate: ${result.rotated} secret(s) moved to key ${cipher.currentKeyId}\n`);
    if (result.unreadable.length === 0) return 0;
    process.stdout.write(`secrets:rotate: ${result.unreadable.length} secret(s) under a key this keyring cannot decrypt: ${result.unreadable.join(', ')}\n`);
    return 1;
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
