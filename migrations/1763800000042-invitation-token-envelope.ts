import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Prowler answers an invitation's token on its detail, and its web UI builds
 * the invite link from it. Acceptance still looks invitations up by the
 * token's hash; the token itself is kept only encrypted (the provider
 * secrets' keyring), for the tenant's user managers to read again.
 */
export class InvitationTokenEnvelope1763800000042 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invitations ADD COLUMN token_envelope text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invitations DROP COLUMN token_envelope`);
  }
}
