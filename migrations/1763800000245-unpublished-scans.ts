import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * An import writes its batches in transactions of their own, so what it has
 * written must stay out of readers' sight until the scan is published in one
 * last transaction. Findings and their links are found only through
 * scan_ingestions, which gets the scan's row at publication; until then the
 * scan is listed here, so that a failed, cancelled or abandoned import's rows
 * can be found and removed (and a provider deletion finds them too).
 * Resources are read on their own, so a resource keeps the id of the scan
 * that first saw it, and is left out of every resource read while that scan
 * is unpublished: publication changes no resource row.
 */
export class UnpublishedScans1763800000245 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE unpublished_scans (
        scan_id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        started_at timestamptz NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX unpublished_scans_provider ON unpublished_scans (tenant_id, provider_id)`,
      ...tenantIsolation('unpublished_scans'),
      `ALTER TABLE resources ADD COLUMN first_scan_id uuid`,
      `CREATE INDEX resources_first_scan ON resources (tenant_id, first_scan_id) WHERE first_scan_id IS NOT NULL`,
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS resources_first_scan`);
    await q.query(`ALTER TABLE resources DROP COLUMN IF EXISTS first_scan_id`);
    await q.query(`DROP TABLE IF EXISTS unpublished_scans`);
  }
}
