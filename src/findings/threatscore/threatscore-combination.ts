import { round2 } from './threatscore-metrics';
import { ThreatScoreRow } from './threatscore.resource';

/** The combined snapshot's id and compliance id: it is no stored snapshot. */
export const COMBINED_THREATSCORE_ID = 'prowler_threatscore_overview';

/**
 * Several providers' latest snapshots as one, as Prowler combines them: each
 * weighs its findings (else its non-manual requirements, else 1); the overall
 * score, the delta (over snapshots that have one) and each section's score are
 * the weighted means; counts are summed; critical requirements are merged by
 * id, keeping the riskiest entry, riskiest first.
 */
export function combineSnapshots(snapshots: readonly ThreatScoreRow[]): ThreatScoreRow {
  const weightOf = (s: ThreatScoreRow) => (s.total_findings > 0 ? s.total_findings : s.total_requirements - s.manual_requirements > 0 ? s.total_requirements - s.manual_requirements : 1);
  const sum = (pick: (s: ThreatScoreRow) => number) => snapshots.reduce((total, s) => total + pick(s), 0);
  const overallWeight = sum(weightOf);
  const withDelta = snapshots.filter((s) => s.score_delta !== null);
  const deltaWeight = withDelta.reduce((total, s) => total + weightOf(s), 0);
  const sections = new Map<string, { total: number; weight: number }>();
  const critical = new Map<string, ThreatScoreRow['critical_requirements'][number]>();
  const rank = (r: { risk_level: number; weight: number }) => [r.risk_level ?? 0, r.weight ?? 0] as const;
  const riskier = (a: { risk_level: number; weight: number }, b: { risk_level: number; weight: number }) =>
    rank(a)[0] - rank(b)[0] || rank(a)[1] - rank(b)[1];
  for (const snapshot of snapshots) {
    const weight = weightOf(snapshot);
    for (const [section, score] of Object.entries(snapshot.section_scores)) {
      const value = Number(score);
      if (!Number.isFinite(value)) continue;
      const entry = sections.get(section) ?? { total: 0, weight: 0 };
      entry.total += value * weight;
      entry.weight += weight;
      sections.set(section, entry);
    }
    for (const requirement of snapshot.critical_requirements) {
      const key = requirement.requirement_id || requirement.title;
      if (!key) continue;
      const existing = critical.get(key);
      if (!existing || riskier(requirement, existing) > 0) critical.set(key, requirement);
    }
  }
  const section_scores: Record<string, string> = {};
  for (const [section, entry] of [...sections.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (entry.weight > 0) section_scores[section] = round2(entry.total / entry.weight).toFixed(2);
  }
  return {
    id: COMBINED_THREATSCORE_ID,
    inserted_at: new Date(Math.max(...snapshots.map((s) => new Date(s.inserted_at).getTime()))),
    scan_id: null,
    provider_id: null,
    compliance_id: COMBINED_THREATSCORE_ID,
    overall_score: overallWeight > 0 ? round2(sum((s) => s.overall_score * weightOf(s)) / overallWeight) : 0,
    score_delta: deltaWeight > 0 ? round2(withDelta.reduce((total, s) => total + (s.score_delta as number) * weightOf(s), 0) / deltaWeight) : null,
    section_scores,
    critical_requirements: [...critical.values()].sort((a, b) => riskier(b, a)),
    total_requirements: sum((s) => s.total_requirements),
    passed_requirements: sum((s) => s.passed_requirements),
    failed_requirements: sum((s) => s.failed_requirements),
    manual_requirements: sum((s) => s.manual_requirements),
    total_findings: sum((s) => s.total_findings),
    passed_findings: sum((s) => s.passed_findings),
    failed_findings: sum((s) => s.failed_findings),
  };
}
