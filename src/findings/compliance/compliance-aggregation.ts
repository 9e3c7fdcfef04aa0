import type { EntityManager } from 'typeorm';
import { affected, rows } from '../../database/sql';
import { SCAN_FINDINGS, scanBounds } from '../overviews/scan-aggregation';
import { readingWholeScan } from '../storage/whole-scan-reads';
import { CHECK_COUNTS_SQL } from './check-counts-sql';
import { FINDING_REQUIREMENTS_JOIN, FRAMEWORK_KEY_SQL, REQUIREMENT_COUNTS_SQL, REQUIREMENT_ID_SQL } from './finding-requirements-sql';

export interface ComplianceRowsWritten {
  check_rows: number;
  requirement_rows: number;
}

/**
 * The per-scan figures compliance is read from, replacing earlier ones (a
 * retry or a re-run after muting is harmless): per check and region (one
 * GROUP BY over the scan's findings; every loaded framework is computed from
 * these rows), and per requirement of the findings' own compliance mappings,
 * which answer for provider types without framework definitions. Both are
 * kept whatever is loaded now, so a scan's figures survive the definitions
 * being added or removed later (README, Performance: the whole job is a
 * small part of the ingestion's time).
 */
export async function aggregateScanCompliance(manager: EntityManager, scanId: string): Promise<ComplianceRowsWritten> {
  // Two runs for one scan at once (a retry overlapping a late first attempt) would each delete
  // nothing the other wrote yet and both insert: the lock makes the second wait for the first.
  await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('scan-compliance:' || $1, 0))`, [scanId]);
  await affected(manager, `DELETE FROM compliance_requirement_summaries WHERE scan_id = $1`, [scanId]);
  await affected(manager, `DELETE FROM scan_check_summaries WHERE scan_id = $1`, [scanId]);
  const bounds = await scanBounds(manager, scanId);
  if (!bounds) return { check_rows: 0, requirement_rows: 0 };
  // This job runs beside the overview job, which analyzes the scan's partitions first: its statistics may still predate the scan.
  return readingWholeScan(manager, () => writeScanCompliance(manager, bounds));
}

/** Both summaries of the scan within `bounds` (SCAN_FINDINGS), each one GROUP BY over its findings. */
async function writeScanCompliance(manager: EntityManager, bounds: [string, string, string]): Promise<ComplianceRowsWritten> {
  const [checks] = await rows<{ count: number }>(
    manager,
    `WITH written AS (
     INSERT INTO scan_check_summaries (tenant_id, scan_id, provider_id, check_id, region, pass, fail, muted, total)
     SELECT f.tenant_id, f.scan_id, f.provider_id, f.check_id, f.region, ${CHECK_COUNTS_SQL}
       FROM findings f WHERE ${SCAN_FINDINGS}
      GROUP BY f.tenant_id, f.scan_id, f.provider_id, f.check_id, f.region
     RETURNING 1)
     SELECT count(*)::int AS count FROM written`,
    bounds,
  );
  const check_rows = checks.count;
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
  return { check_rows, requirement_rows: written.count };
}
