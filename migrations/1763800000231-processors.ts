import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * Processors: tenant-wide settings applied to findings as they are stored.
 * One of each type per tenant; the only type is `mutelist`, a Prowler
 * Mutelist kept as the JSON it was read into (validated when written).
 */
export class Processors1763800000231 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE processors (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        processor_type varchar(20) NOT NULL CHECK (processor_type IN ('mutelist')),
        configuration jsonb NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT processors_tenant_type_unique UNIQUE (tenant_id, processor_type)
      )`,
      ...tenantIsolation('processors'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS processors`);
  }
}
