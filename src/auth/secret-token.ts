import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe: handed over once (in an answer or a mail), never stored. */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Only this hash is stored, so a leaked table holds no usable token. */
export function secretTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
