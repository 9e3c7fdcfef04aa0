import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * What the overview endpoints read: scan_summaries without check_id and
 * resource_type, which no overview groups or filters by. Those two multiply
 * a scan's summary rows with its diversity, so without them a scan's row
 * count stays near services × regions × severities × statuses, however many
 * findings and checks it holds.
 *
 * The latest-scan look-up (latestCompletedScans) gets an index in its own
 * order, so it reads one index entry per provider's completed scans instead
 * of sorting them all.
 */
export class ScanOverviewSummaries1763800000020 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE scan_overview_summaries (
        tenant_id uuid NOT NULL,
        scan_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        service varchar(100) NOT NULL,
        region varchar(100) NOT NULL,
        severity varchar(13) NOT NULL,
        status varchar(6) NOT NULL,
        muted boolean NOT NULL,
        delta varchar(7) NOT NULL DEFAULT '',
        findings integer NOT NULL
      )`,
    );
    // Existing scans' rows come from their summaries. Forced row-level security
    // would hide every tenant's rows from the owner running this, so it is
    // lifted for this one statement, inside the migration's transaction.
    await q.query(`ALTER TABLE scan_summaries NO FORCE ROW LEVEL SECURITY`);
    await q.query(
      `INSERT INTO scan_overview_summaries (tenant_id, scan_id, provider_id, service, region, severity, status, muted, delta, findings)
       SELECT tenant_id, scan_id, provider_id, service, region, severity, status, muted, delta, sum(findings)
         FROM scan_summaries
        GROUP BY tenant_id, scan_id, provider_id, service, region, severity, status, muted, delta`,
    );
    await q.query(`ALTER TABLE scan_summaries FORCE ROW LEVEL SECURITY`);
    for (const sql of [
      `CREATE INDEX scan_overview_summaries_scan ON scan_overview_summaries (tenant_id, scan_id)`,
      ...tenantIsolation('scan_overview_summaries'),
      `CREATE INDEX scans_provider_completed ON scans (provider_id, completed_at DESC NULLS LAST, inserted_at DESC, id DESC)
        WHERE state = 'completed'`,
    ]) {
      await q.query(sql);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS scans_provider_completed`);
    await q.query(`DROP TABLE IF EXISTS scan_overview_summaries CASCADE`);
  }
}
