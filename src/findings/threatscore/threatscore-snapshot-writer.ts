import type { EntityManager } from 'typeorm';
import { rows } from '../../database/sql';
import { newId } from '../../database/uuid';
import { FrameworkDefinition } from '../compliance/frameworks/framework-definition';
import { CheckRegionCounts, checkTotals } from '../compliance/frameworks/requirement-evaluation';
import { computeThreatScore, round2 } from './threatscore-metrics';

/**
 * Keeps the scan's ThreatScore snapshot, computed from the check figures the
 * compliance job just wrote. `score_delta` is against the snapshot of the
 * provider's scan before this one (null for its first), as Prowler's is
 * against the provider's previous snapshot. A re-run updates the scan's
 * snapshot in place, keeping its id and time. Returns the snapshot's id.
 */
export async function writeThreatScoreSnapshot(manager: EntityManager, scanId: string, providerId: string, framework: FrameworkDefinition): Promise<string> {
  const counts = await rows<CheckRegionCounts>(
    manager,
    `SELECT check_id, region, pass, fail FROM scan_check_summaries WHERE scan_id = $1`,
    [scanId],
  );
  const metrics = computeThreatScore(framework, checkTotals(counts));
  const [previous] = await rows<{ overall_score: string }>(
    manager,
    `SELECT t.overall_score FROM threatscore_snapshots t JOIN scans s ON s.id = t.scan_id
      WHERE t.provider_id = $1 AND t.compliance_id = $2 AND t.scan_id <> $3
        AND s.inserted_at < (SELECT inserted_at FROM scans WHERE id = $3)
      ORDER BY s.inserted_at DESC LIMIT 1`,
    [providerId, framework.complianceId, scanId],
  );
  const delta = previous ? round2(metrics.overall_score - Number(previous.overall_score)) : null;
  const [written] = await rows<{ id: string }>(
    manager,
    `INSERT INTO threatscore_snapshots (id, tenant_id, scan_id, provider_id, compliance_id, overall_score, score_delta, section_scores, critical_requirements,
            total_requirements, passed_requirements, failed_requirements, manual_requirements, total_findings, passed_findings, failed_findings)
     VALUES ($1, current_setting('api.tenant_id')::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (tenant_id, scan_id, compliance_id) DO UPDATE SET
       overall_score = EXCLUDED.overall_score, score_delta = EXCLUDED.score_delta, section_scores = EXCLUDED.section_scores,
       critical_requirements = EXCLUDED.critical_requirements, total_requirements = EXCLUDED.total_requirements,
       passed_requirements = EXCLUDED.passed_requirements, failed_requirements = EXCLUDED.failed_requirements,
       manual_requirements = EXCLUDED.manual_requirements, total_findings = EXCLUDED.total_findings,
       passed_findings = EXCLUDED.passed_findings, failed_findings = EXCLUDED.failed_findings
     RETURNING id`,
    [
      newId(), scanId, providerId, framework.complianceId, metrics.overall_score, delta, JSON.stringify(metrics.section_scores),
      JSON.stringify(metrics.critical_requirements), metrics.total_requirements, metrics.passed_requirements, metrics.failed_requirements,
      metrics.manual_requirements, metrics.total_findings, metrics.passed_findings, metrics.failed_findings,
    ],
  );
  return written.id;
}
