import type { EntityManager } from 'typeorm';
import { affected } from '../../database/sql';
import { findingGroupRowsSql, GROUP_SUMMARY_COLUMNS } from './finding-group-counts';

/** The findings columns a finding group reads: a narrow subquery, so the jsonb columns are never carried along. */
export const FINDING_GROUP_INPUT = `f.tenant_id, f.id, f.scan_id, f.provider_id, f.check_id, f.check_title, f.severity, f.status, f.muted,
  f.delta, f.first_seen_at, f.inserted_at`;

/**
 * Replaces one scan's finding group summaries with the figures of its
 * findings. `scanFindings` is a condition over findings `f` selecting the
 * scan's rows with `params` (SCAN_FINDINGS and its bounds), or null when
 * nothing of the scan was ingested.
 */
export async function aggregateFindingGroups(manager: EntityManager, scanId: string, scanFindings: string | null, params: unknown[]): Promise<void> {
  await affected(manager, `DELETE FROM finding_group_summaries WHERE scan_id = $1`, [scanId]);
  if (scanFindings === null) return;
  const columns = ['tenant_id', 'scan_id', 'provider_id', 'check_id', ...GROUP_SUMMARY_COLUMNS].join(', ');
  await affected(
    manager,
    `INSERT INTO finding_group_summaries (${columns})
     SELECT ${columns} FROM (${findingGroupRowsSql(`(SELECT ${FINDING_GROUP_INPUT} FROM findings f WHERE ${scanFindings})`, ['tenant_id', 'scan_id', 'provider_id'])}) g`,
    params,
  );
}
