import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

/**
 * What compliance from framework definitions reads: per scan, check and
 * region, the unmuted PASS and FAIL findings (a framework's requirements are
 * decided by their checks, so every framework is computed from these few
 * rows), and a ThreatScore snapshot per scan, whose delta is against the
 * provider's snapshot before it.
 */
export class ComplianceFrameworks1763800000210 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE scan_check_summaries (
        tenant_id uuid NOT NULL,
        scan_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        check_id varchar(100) NOT NULL,
        region varchar(100) NOT NULL,
        pass integer NOT NULL,
        fail integer NOT NULL,
        muted integer NOT NULL,
        total integer NOT NULL
      )`,
      `CREATE INDEX scan_check_summaries_scan ON scan_check_summaries (tenant_id, scan_id)`,
      ...tenantIsolation('scan_check_summaries'),
      `CREATE TABLE threatscore_snapshots (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        scan_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        compliance_id varchar(100) NOT NULL,
        overall_score numeric(5, 2) NOT NULL,
        score_delta numeric(5, 2),
        section_scores jsonb NOT NULL,
        critical_requirements jsonb NOT NULL,
        total_requirements integer NOT NULL,
        passed_requirements integer NOT NULL,
        failed_requirements integer NOT NULL,
        manual_requirements integer NOT NULL,
        total_findings integer NOT NULL,
        passed_findings integer NOT NULL,
        failed_findings integer NOT NULL,
        inserted_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT threatscore_snapshots_scan UNIQUE (tenant_id, scan_id, compliance_id)
      )`,
      `CREATE INDEX threatscore_snapshots_provider ON threatscore_snapshots (tenant_id, provider_id, inserted_at DESC)`,
      ...tenantIsolation('threatscore_snapshots'),
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS threatscore_snapshots CASCADE`);
    await q.query(`DROP TABLE IF EXISTS scan_check_summaries CASCADE`);
  }
}
