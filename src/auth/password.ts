import { Algorithm, hash, verify } from '@node-rs/argon2';
import { ApiError } from '../common/errors/api-error';

// OWASP's argon2id baseline: 19 MiB of memory, 2 passes, 1 lane.
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Verified against when the email is unknown, so both paths cost the same time. */
let decoyHash: Promise<string> | undefined;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string | undefined, candidate: string): Promise<boolean> {
  if (!stored) {
    decoyHash ??= hashPassword('decoy-password-for-timing-Aa1!');
    await verify(await decoyHash, candidate).catch(() => false);
    return false;
  }
  return verify(stored, candidate).catch(() => false);
}

/**
 * At least 12 characters with upper and lower case letters, a digit and a
 * symbol, at most 128 (argon2 cost is per byte), and not built from the email.
 */
export function checkPasswordPolicy(password: string, email?: string): void {
  const pointer = { pointer: '/data/attributes/password' };
  const problems: string[] = [];
  if (password.length < 12) problems.push('at least 12 characters');
  if (!/[a-z]/.test(password)) problems.push('a lower-case letter');
  if (!/[A-Z]/.test(password)) problems.push('an upper-case letter');
  if (!/\d/.test(password)) problems.push('a digit');
  if (!/[^A-Za-z0-9]/.test(password)) problems.push('a symbol');
  if (problems.length > 0) throw ApiError.badRequest('password_too_weak', `The password needs ${problems.join(', ')}.`, pointer);
  if (password.length > 128) throw ApiError.badRequest('password_too_long', 'The password must be at most 128 characters.', pointer);
  const local = email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && password.toLowerCase().includes(local)) {
    throw ApiError.badRequest('password_too_similar', 'The password must not contain the email address.', pointer);
  }
}
