import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The providers a mute rule applies to: those its creator could see when
 * making it, or NULL for every provider (a creator with unlimited
 * visibility). A limited user's rule never mutes a provider they cannot see,
 * now or in later scans. Rules made before this column keep NULL, as made.
 */
export class MuteRuleScope1763800000047 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mute_rules ADD COLUMN provider_ids uuid[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mute_rules DROP COLUMN IF EXISTS provider_ids`);
  }
}
