import type { EntityManager } from 'typeorm';
import { affected, rows } from '../../database/sql';
import { SCAN_FINDINGS, scanBounds } from '../overviews/scan-aggregation';
import { FINDING_REQUIREMENTS_JOIN, FRAMEWORK_KEY_SQL, REQUIREMENT_COUNTS_SQL, REQUIREMENT_ID_SQL } from './finding-requirements-sql';

/**
 * Per framework, requirement and region of one scan: how many of its
 * findings passed, failed, were manual or muted. For the `compliance` queue;
 * replaces earlier rows, so a retry or a re-run after muting is harmless.
 * Returns the number of summary rows written.
 */
export async function aggregateScanCompliance(manager: EntityManager, scanId: string): Promise<number> {
  // Two runs for one scan at once (a retry overlapping a late first attempt) would each delete
  // nothing the other wrote yet and both insert: the lock makes the second wait for the first.
  await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('scan-compliance:' || $1, 0))`, [scanId]);
  await affected(manager, `DELETE FROM compliance_requirement_summaries WHERE scan_id = $1`, [scanId]);
  const bounds = await scanBounds(manager, scanId);
  if (!bounds) return 0;
  const [written] = await rows<{ count: number }>(
    manager,
    `WITH written AS (
     INSERT INTO compliance_requirement_summaries (tenant_id, scan_id, provider_id, framework, requirement_id, region, pass, fail, manual, muted, total)
     SELECT f.tenant_id, f.scan_id, f.provider_id, ${FRAMEWORK_KEY_SQL}, ${REQUIREMENT_ID_SQL}, f.region, ${REQUIREMENT_COUNTS_SQL}
       FROM findings f ${FINDING_REQUIREMENTS_JOIN}
      WHERE ${SCAN_FINDINGS}
      GROUP BY f.tenant_id, f.scan_id, f.provider_id, ${FRAMEWORK_KEY_SQL}, ${REQUIREMENT_ID_SQL}, f.region
     RETURNING 1)
     SELECT count(*)::int AS count FROM written`,
    bounds,
  );
  return written.count;
}
