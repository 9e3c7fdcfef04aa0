import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The deletion retry sweep looks, every few seconds in every worker, for
 * soft-deleted providers and tenants across all tenants. Partial indexes hold
 * only those rows, so the look-up stays a few index entries however many live
 * providers and tenants there are.
 */
export class SoftDeletedIndex1763800000031 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX providers_soft_deleted ON providers (deleted_at) WHERE deleted_at IS NOT NULL`);
    await q.query(`CREATE INDEX tenants_soft_deleted ON tenants (deleted_at) WHERE deleted_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS providers_soft_deleted`);
    await q.query(`DROP INDEX IF EXISTS tenants_soft_deleted`);
  }
}
