import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * An API key is `pk_<8 characters>.<43 characters>`: the part before the dot
 * is the visible prefix (stored in clear, unique, used to find the row), the
 * part after it 32 random bytes in base64url, shown once at creation.
 */
const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const KEY_PATTERN = /^(pk_[A-Za-z0-9]{8})\.([A-Za-z0-9_-]{43})$/;
const SCHEME_PATTERN = /^api-key\s/i;

export interface NewApiKey {
  prefix: string;
  key: string;
  salt: Buffer;
  hash: Buffer;
}

export interface PresentedApiKey {
  prefix: string;
  secret: string;
}

export function generateApiKey(): NewApiKey {
  let prefix = 'pk_';
  for (let i = 0; i < 8; i++) prefix += PREFIX_ALPHABET[randomInt(PREFIX_ALPHABET.length)];
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  return { prefix, key: `${prefix}.${secret}`, salt, hash: hashSecret(salt, secret) };
}

/**
 * HMAC-SHA-256 keyed by a per-key salt. A fast hash is enough here, unlike
 * for passwords: the secret is 256 random bits, so even a stolen table
 * cannot be brute-forced however cheap each guess is, and a slow hash
 * (argon2 takes tens of milliseconds) would be paid on every request.
 */
export function hashSecret(salt: Buffer, secret: string): Buffer {
  return createHmac('sha256', salt).update(secret).digest();
}

/** Constant-time comparison of the presented secret with the stored hash. */
export function secretMatches(salt: Buffer, hash: Buffer, secret: string): boolean {
  const presented = hashSecret(salt, secret);
  return presented.length === hash.length && timingSafeEqual(presented, hash);
}

/** Whether an Authorization header names the Api-Key scheme (whatever follows). */
export function isApiKeyHeader(header: string | undefined): header is string {
  return typeof header === 'string' && SCHEME_PATTERN.test(header);
}

/** The prefix and secret of `Api-Key <key>`, or null for anything malformed. */
export function parseApiKeyHeader(header: string): PresentedApiKey | null {
  if (header.length > 200) return null;
  const match = KEY_PATTERN.exec(header.replace(SCHEME_PATTERN, '').trim());
  return match ? { prefix: match[1], secret: match[2] } : null;
}
