import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where a scan's results came from, beside how it was triggered: `pushed`
 * for findings the Prowler CLI sent (`POST /ingestions`); NULL for a scan
 * this API ran. IF NOT EXISTS: imports record their origin in the same column.
 */
export class ScanOrigin1763800000161 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE scans ADD COLUMN IF NOT EXISTS origin varchar(20)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE scans DROP COLUMN IF EXISTS origin`);
  }
}
