import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_GROUP_ROLE, CURRENT_TENANT } from '../src/database/rls-policy-sql';

/**
 * Email ownership. `users.email_verified_at` says whether the address on the
 * user row was proven (accounts older than this migration count as proven:
 * they signed in with it before). `email_verifications` holds the pending
 * proofs, one per mail sent: the SHA-256 of the token, the address it proves
 * and what confirming it does (`sign_up` marks the address verified, `change`
 * moves the user to the new address).
 */
export class EmailVerification1763800000043 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const throughMembership = `EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = email_verifications.user_id AND m.tenant_id = ${CURRENT_TENANT})`;
    const statements = [
      `ALTER TABLE users ADD COLUMN email_verified_at timestamptz`,
      `UPDATE users SET email_verified_at = date_joined`,
      `CREATE TABLE email_verifications (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        email varchar(254) NOT NULL,
        purpose varchar(10) NOT NULL CHECK (purpose IN ('sign_up', 'change')),
        token_hash char(64) NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        inserted_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX email_verifications_user ON email_verifications (user_id)`,
      // Like users: a user's pending proofs are reachable only through a membership in the
      // current tenant (an email change is asked for from there). Sign-up and the public
      // confirmation run as the owner role.
      `ALTER TABLE email_verifications ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE email_verifications FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY email_verifications_member_select ON email_verifications FOR SELECT USING (${throughMembership})`,
      `CREATE POLICY email_verifications_member_insert ON email_verifications FOR INSERT WITH CHECK (${throughMembership})`,
      `CREATE POLICY email_verifications_member_update ON email_verifications FOR UPDATE USING (${throughMembership}) WITH CHECK (${throughMembership})`,
      `GRANT SELECT, INSERT, UPDATE ON email_verifications TO ${APP_GROUP_ROLE}`,
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS email_verifications`);
    await q.query(`ALTER TABLE users DROP COLUMN IF EXISTS email_verified_at`);
  }
}
