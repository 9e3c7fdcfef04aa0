import type { EntityManager } from 'typeorm';
import { affected, rows } from '../../database/sql';
import { idRangeOfMs } from '../storage/finding-ids';

interface IngestedScan {
  started_at: Date;
}

/**
 * The scan's findings: by scan id, and by the one millisecond of ids they
 * share (one partition, one index range). Only the findings side gets the
 * range: the planner, taking a millisecond for a handful of rows, would
 * otherwise join two such ranges by comparing every pair; with it on one
 * side, each link is one key look-up.
 */
const SCAN_FINDINGS = `f.scan_id = $1 AND f.id >= $2::uuid AND f.id < $3::uuid`;

async function scanBounds(manager: EntityManager, scanId: string): Promise<[string, string, string] | null> {
  const [scan] = await rows<IngestedScan>(manager, `SELECT started_at FROM scan_ingestions WHERE scan_id = $1`, [scanId]);
  if (!scan) return null;
  const range = idRangeOfMs(scan.started_at.getTime());
  return [scanId, range.from, range.to];
}

/**
 * Fills the overview summaries of one scan (replacing earlier ones, so it can
 * run again after a retry or a mute), the failed-findings count of the
 * resources it saw, and its resource count. Runs in the caller's tenant
 * transaction; the `overview` queue calls it after each scan.
 */
export async function aggregateScan(manager: EntityManager, scanId: string): Promise<void> {
  await affected(manager, `DELETE FROM scan_summaries WHERE scan_id = $1`, [scanId]);
  const bounds = await scanBounds(manager, scanId);
  if (!bounds) return;
  await affected(
    manager,
    `INSERT INTO scan_summaries (tenant_id, scan_id, provider_id, check_id, service, region, resource_type, severity, status, muted, delta, findings)
     SELECT f.tenant_id, f.scan_id, f.provider_id, f.check_id, f.service, f.region, f.resource_type, f.severity, f.status, f.muted,
            COALESCE(f.delta, ''), count(*)
       FROM findings f WHERE ${SCAN_FINDINGS}
      GROUP BY f.tenant_id, f.scan_id, f.provider_id, f.check_id, f.service, f.region, f.resource_type, f.severity, f.status, f.muted, f.delta`,
    bounds,
  );
  await affected(
    manager,
    `UPDATE resources r SET failed_findings_count = seen.failed
       FROM (SELECT l.resource_id, count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted)::int AS failed
               FROM findings f
               JOIN resource_finding_links l ON l.tenant_id = f.tenant_id AND l.finding_id = f.id
              WHERE ${SCAN_FINDINGS}
              GROUP BY l.resource_id) seen
      WHERE r.id = seen.resource_id AND r.failed_findings_count <> seen.failed`,
    bounds,
  );
  await affected(
    manager,
    `UPDATE scan_ingestions SET aggregated_at = now(),
            resource_count = (SELECT count(DISTINCT l.resource_id)::int
                                FROM findings f
                                JOIN resource_finding_links l ON l.tenant_id = f.tenant_id AND l.finding_id = f.id
                               WHERE ${SCAN_FINDINGS})
      WHERE scan_id = $1`,
    bounds,
  );
}

/**
 * Per framework, requirement and region of one scan: how many of its
 * findings passed, failed, were manual or muted, from each finding's
 * compliance mapping. For the `compliance` queue; replaces earlier rows.
 */
export async function aggregateScanCompliance(manager: EntityManager, scanId: string): Promise<void> {
  await affected(manager, `DELETE FROM compliance_requirement_summaries WHERE scan_id = $1`, [scanId]);
  const bounds = await scanBounds(manager, scanId);
  if (!bounds) return;
  await affected(
    manager,
    `INSERT INTO compliance_requirement_summaries (tenant_id, scan_id, provider_id, framework, requirement_id, region, pass, fail, manual, muted, total)
     SELECT f.tenant_id, f.scan_id, f.provider_id, left(framework.key, 200), left(requirement.id, 200), f.region,
            count(*) FILTER (WHERE f.status = 'PASS' AND NOT f.muted),
            count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted),
            count(*) FILTER (WHERE f.status = 'MANUAL' AND NOT f.muted),
            count(*) FILTER (WHERE f.muted),
            count(*)
       FROM findings f
      CROSS JOIN LATERAL jsonb_each(f.compliance) AS framework
      CROSS JOIN LATERAL jsonb_array_elements_text(CASE jsonb_typeof(framework.value) WHEN 'array' THEN framework.value ELSE '[]' END) AS requirement(id)
      WHERE ${SCAN_FINDINGS}
      GROUP BY f.tenant_id, f.scan_id, f.provider_id, left(framework.key, 200), left(requirement.id, 200), f.region`,
    bounds,
  );
}
