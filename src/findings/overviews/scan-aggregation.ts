import type { EntityManager } from 'typeorm';
import { affected, rows } from '../../database/sql';
import { aggregateFindingGroups } from '../finding-groups/finding-group-aggregation';
import { recordSearchWords } from '../query/search-word-ranges';
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
export const SCAN_FINDINGS = `f.scan_id = $1 AND f.id >= $2::uuid AND f.id < $3::uuid`;

/** The parameters SCAN_FINDINGS takes for one scan, or null when nothing of it was ingested. */
export async function scanBounds(manager: EntityManager, scanId: string): Promise<[string, string, string] | null> {
  const [scan] = await rows<IngestedScan>(manager, `SELECT started_at FROM scan_ingestions WHERE scan_id = $1`, [scanId]);
  if (!scan) return null;
  const range = idRangeOfMs(scan.started_at.getTime());
  return [scanId, range.from, range.to];
}

/**
 * One aggregation of a scan at a time (the overview job, a Mutelist backfill, a mute rule): two at
 * once would each delete the rows the other has not committed yet, then insert the same keys. The
 * second waits for the first's commit and then replaces its rows. A transaction that writes rows the
 * aggregation also writes (scan_ingestions) takes these locks first, in id order, so that neither
 * waits for the other's rows while holding its lock.
 */
export async function lockScanAggregations(manager: EntityManager, scanIds: readonly string[]): Promise<void> {
  await rows(
    manager,
    `SELECT pg_advisory_xact_lock(hashtextextended('cspm:aggregate-scan:' || s.id::text, 0))
       FROM (SELECT DISTINCT id FROM unnest($1::uuid[]) AS u(id) ORDER BY id) s`,
    [scanIds],
  );
}

/**
 * Fills the summaries of one scan and the coarser ones the overviews read
 * (replacing earlier ones, so it can run again after a retry or a mute), the
 * failed-findings count of the resources it saw, its finding group
 * summaries, its counts per check category and resource group, its
 * distinct resources per resource group, its resource count, and (once) the
 * words of its findings' text that searches look up. Runs in the caller's tenant transaction; the `overview` queue
 * calls it after each scan.
 */
export async function aggregateScan(manager: EntityManager, scanId: string): Promise<void> {
  await lockScanAggregations(manager, [scanId]);
  await affected(manager, `DELETE FROM scan_summaries WHERE scan_id = $1`, [scanId]);
  await affected(manager, `DELETE FROM scan_overview_summaries WHERE scan_id = $1`, [scanId]);
  await affected(manager, `DELETE FROM scan_resource_group_summaries WHERE scan_id = $1`, [scanId]);
  await affected(manager, `DELETE FROM scan_check_fact_summaries WHERE scan_id = $1`, [scanId]);
  const bounds = await scanBounds(manager, scanId);
  await aggregateFindingGroups(manager, scanId, bounds && SCAN_FINDINGS, bounds ?? []);
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
  // The overviews' coarser rows, from the summaries just written rather than from the findings again.
  await affected(
    manager,
    `INSERT INTO scan_overview_summaries (tenant_id, scan_id, provider_id, service, region, severity, status, muted, delta, findings)
     SELECT s.tenant_id, s.scan_id, s.provider_id, s.service, s.region, s.severity, s.status, s.muted, s.delta, sum(s.findings)
       FROM scan_summaries s WHERE s.scan_id = $1
      GROUP BY s.tenant_id, s.scan_id, s.provider_id, s.service, s.region, s.severity, s.status, s.muted, s.delta`,
    [scanId],
  );
  // Prowler's category and resource-group counts: total leaves muted findings out, failed and new failed are unmuted FAIL.
  await affected(
    manager,
    `INSERT INTO scan_check_fact_summaries (tenant_id, scan_id, provider_id, kind, name, severity, total, failed, new_failed)
     SELECT s.tenant_id, s.scan_id, s.provider_id, g.kind, g.name, s.severity,
            COALESCE(sum(s.findings) FILTER (WHERE NOT s.muted), 0),
            COALESCE(sum(s.findings) FILTER (WHERE s.status = 'FAIL' AND NOT s.muted), 0),
            COALESCE(sum(s.findings) FILTER (WHERE s.status = 'FAIL' AND NOT s.muted AND s.delta = 'new'), 0)
       FROM scan_summaries s
       JOIN check_metadata m ON m.tenant_id = s.tenant_id AND m.check_id = s.check_id
      CROSS JOIN LATERAL (SELECT 'category' AS kind, c AS name FROM unnest(m.categories) c
                          UNION ALL SELECT 'resource_group', m.resource_group WHERE m.resource_group IS NOT NULL) g
      WHERE s.scan_id = $1
      GROUP BY s.tenant_id, s.scan_id, s.provider_id, g.kind, g.name, s.severity`,
    [scanId],
  );
  await affected(
    manager,
    `INSERT INTO scan_resource_group_summaries (tenant_id, scan_id, provider_id, resource_group, resources)
     SELECT f.tenant_id, f.scan_id, f.provider_id, m.resource_group, count(DISTINCT l.resource_id)
       FROM findings f
       JOIN check_metadata m ON m.tenant_id = f.tenant_id AND m.check_id = f.check_id
       JOIN resource_finding_links l ON l.tenant_id = f.tenant_id AND l.finding_id = f.id
      WHERE ${SCAN_FINDINGS} AND m.resource_group IS NOT NULL
      GROUP BY f.tenant_id, f.scan_id, f.provider_id, m.resource_group`,
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
  await recordSearchWords(manager, SCAN_FINDINGS, bounds);
}
