import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe: shown once, to the inviter, when the invitation is created. */
export function newInvitationToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Only this hash is stored, so a leaked invitations table holds no usable token. */
export function invitationTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
