import type { EntityManager } from 'typeorm';
import { rows } from '../database/sql';
import { newId } from '../database/uuid';

export type VerificationPurpose = 'sign_up' | 'change';

export interface PendingVerification {
  id: string;
  user_id: string;
  email: string;
  purpose: VerificationPurpose;
  expired: boolean;
  used: boolean;
}

/** Records a proof to send; an earlier unused proof of the same purpose stops counting, so only the latest mail works. */
export async function insertVerification(
  manager: EntityManager,
  verification: { userId: string; email: string; purpose: VerificationPurpose; tokenHash: string; ttlSeconds: number },
): Promise<void> {
  await manager.query(
    `UPDATE email_verifications SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`,
    [verification.userId, verification.purpose],
  );
  await manager.query(
    `INSERT INTO email_verifications (id, user_id, email, purpose, token_hash, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
    [newId(), verification.userId, verification.email, verification.purpose, verification.tokenHash, verification.ttlSeconds],
  );
}

/** The proof a token opens, locked so two confirmations cannot race; an inactive user's proofs open nothing. */
export async function lockVerificationByToken(admin: EntityManager, tokenHash: string): Promise<PendingVerification | undefined> {
  const found = await rows<PendingVerification>(
    admin,
    `SELECT v.id, v.user_id, v.email, v.purpose, v.expires_at <= now() AS expired, v.used_at IS NOT NULL AS used
       FROM email_verifications v JOIN users u ON u.id = v.user_id AND u.is_active
      WHERE v.token_hash = $1
      FOR UPDATE OF v`,
    [tokenHash],
  );
  return found[0];
}

export async function markVerificationUsed(admin: EntityManager, id: string): Promise<void> {
  await admin.query(`UPDATE email_verifications SET used_at = now() WHERE id = $1`, [id]);
}

/** Whether another user holds this address (case-insensitively, as sign-in matches it). */
export async function emailTakenByOther(admin: EntityManager, email: string, userId: string): Promise<boolean> {
  const found = await rows(admin, `SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2`, [email, userId]);
  return found.length > 0;
}

/** Confirms the address on the user row, if it is still the one the proof was sent to. */
export async function markEmailVerified(admin: EntityManager, userId: string, email: string): Promise<void> {
  await admin.query(
    `UPDATE users SET email_verified_at = now(), updated_at = now() WHERE id = $1 AND lower(email) = lower($2) AND email_verified_at IS NULL`,
    [userId, email],
  );
}

export async function moveToVerifiedEmail(admin: EntityManager, userId: string, email: string): Promise<void> {
  await admin.query(`UPDATE users SET email = $2, email_verified_at = now(), updated_at = now() WHERE id = $1`, [userId, email]);
}
