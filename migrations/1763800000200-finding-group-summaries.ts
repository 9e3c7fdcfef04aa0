import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';
import { FINDING_GROUP_INPUT } from '../src/findings/finding-groups/finding-group-aggregation';
import { findingGroupRowsSql, GROUP_SUMMARY_COLUMNS } from '../src/findings/finding-groups/finding-group-counts';

/**
 * What the finding-groups endpoints read: per scan and check, the counts a
 * finding group shows (Prowler's FindingGroupDailySummary, kept per scan
 * here since every read picks scans, never days). The overview job fills it
 * with the other summaries, so a page of groups reads a few rows per check
 * of the latest scans, whatever the number of findings.
 *
 * `severity_order` is the highest severity as 5 (critical) … 1
 * (informational), so a maximum over providers stays an integer maximum.
 * Counts without `_muted` leave muted findings out; `muted` is true when
 * every finding of the check in the scan is muted.
 */
export class FindingGroupSummaries1763800000200 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const counts = [
      'pass_count', 'fail_count', 'manual_count', 'pass_muted_count', 'fail_muted_count', 'manual_muted_count', 'muted_count',
      'new_count', 'changed_count',
      'new_fail_count', 'new_fail_muted_count', 'new_pass_count', 'new_pass_muted_count', 'new_manual_count', 'new_manual_muted_count',
      'changed_fail_count', 'changed_fail_muted_count', 'changed_pass_count', 'changed_pass_muted_count', 'changed_manual_count',
      'changed_manual_muted_count', 'resources_total', 'resources_fail',
    ];
    await q.query(
      `CREATE TABLE finding_group_summaries (
        tenant_id uuid NOT NULL,
        scan_id uuid NOT NULL,
        provider_id uuid NOT NULL,
        check_id varchar(100) NOT NULL,
        check_title text NOT NULL DEFAULT '',
        severity_order smallint NOT NULL,
        ${counts.map((c) => `${c} integer NOT NULL DEFAULT 0`).join(',\n        ')},
        muted boolean NOT NULL,
        first_seen_at timestamptz,
        last_seen_at timestamptz,
        failing_since timestamptz,
        PRIMARY KEY (tenant_id, scan_id, check_id)
      )`,
    );
    // Scans aggregated before this table existed get their rows from their findings. Forced row-level
    // security would hide every tenant's rows from the owner running this, so it is lifted for this
    // one statement, inside the migration's transaction.
    const read = ['findings', 'resource_finding_links', 'scan_ingestions'];
    for (const table of read) await q.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
    const columns = ['tenant_id', 'scan_id', 'provider_id', 'check_id', ...GROUP_SUMMARY_COLUMNS].join(', ');
    await q.query(
      `INSERT INTO finding_group_summaries (${columns})
       SELECT ${columns} FROM (${findingGroupRowsSql(
         `(SELECT ${FINDING_GROUP_INPUT} FROM findings f WHERE f.scan_id IN (SELECT scan_id FROM scan_ingestions WHERE aggregated_at IS NOT NULL))`,
         ['tenant_id', 'scan_id', 'provider_id'],
       )}) g`,
    );
    for (const table of read) await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
    for (const sql of tenantIsolation('finding_group_summaries')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS finding_group_summaries CASCADE`);
  }
}
