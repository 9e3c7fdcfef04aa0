import { FrameworkDefinition } from '../compliance/frameworks/framework-definition';
import { CheckTotals, evaluateFramework } from '../compliance/frameworks/requirement-evaluation';
import { ProviderFrameworks } from '../compliance/frameworks/framework-catalog';

/** Failed requirements at or above this level of risk are listed as critical, as Prowler lists them. */
export const CRITICAL_RISK_LEVEL = 4;

export interface CriticalRequirement {
  requirement_id: string;
  title: string;
  section: string;
  subsection: string;
  risk_level: number;
  weight: number;
  passed_findings: number;
  total_findings: number;
  description: string;
}

export interface ThreatScoreMetrics {
  overall_score: number;
  section_scores: Record<string, number>;
  critical_requirements: CriticalRequirement[];
  total_requirements: number;
  passed_requirements: number;
  failed_requirements: number;
  manual_requirements: number;
  total_findings: number;
  passed_findings: number;
  failed_findings: number;
}

/** The provider type's ThreatScore framework (`prowler_threatscore_<type>`), if one is loaded. */
export function threatScoreFramework(frameworks: ProviderFrameworks | null): FrameworkDefinition | null {
  if (!frameworks) return null;
  return [...frameworks.values()].find((f) => f.complianceId.startsWith('prowler_threatscore_')) ?? null;
}

/**
 * Prowler's ThreatScore: each requirement with findings weighs
 * `findings × Weight × (1 + 0.25 × LevelOfRisk)` and contributes its pass
 * rate at that weight; the overall score and each section's score are the
 * weighted pass rates in percent (100 when nothing was found). Requirements
 * without findings count in the totals but not in the scores.
 */
export function computeThreatScore(framework: FrameworkDefinition, totals: CheckTotals): ThreatScoreMetrics {
  const metrics: ThreatScoreMetrics = {
    overall_score: 100,
    section_scores: {},
    critical_requirements: [],
    total_requirements: framework.requirements.length,
    passed_requirements: 0,
    failed_requirements: 0,
    manual_requirements: 0,
    total_findings: 0,
    passed_findings: 0,
    failed_findings: 0,
  };
  let numerator = 0;
  let denominator = 0;
  let anyFindings = false;
  const sections = new Map<string, { numerator: number; denominator: number }>();
  for (const { requirement, status, passedFindings, totalFindings } of evaluateFramework(framework, totals)) {
    if (status === 'PASS') metrics.passed_requirements++;
    else if (status === 'FAIL') metrics.failed_requirements++;
    else metrics.manual_requirements++;
    metrics.total_findings += totalFindings;
    metrics.passed_findings += passedFindings;
    metrics.failed_findings += totalFindings - passedFindings;
    if (totalFindings === 0) continue;
    anyFindings = true;
    const attribute = requirement.attributes[0];
    if (!attribute) continue;
    const risk = integer(attribute.LevelOfRisk);
    const weight = integer(attribute.Weight);
    const section = typeof attribute.Section === 'string' ? attribute.Section : 'Unknown';
    const factor = totalFindings * weight * (1 + 0.25 * risk);
    const rate = passedFindings / totalFindings;
    numerator += rate * factor;
    denominator += factor;
    const sum = sections.get(section) ?? { numerator: 0, denominator: 0 };
    sum.numerator += rate * factor;
    sum.denominator += factor;
    sections.set(section, sum);
    if (status === 'FAIL' && risk >= CRITICAL_RISK_LEVEL) {
      metrics.critical_requirements.push({
        requirement_id: requirement.id,
        title: stringOr(attribute.Title, 'N/A'),
        section,
        subsection: stringOr(attribute.SubSection, 'N/A'),
        risk_level: risk,
        weight,
        passed_findings: passedFindings,
        total_findings: totalFindings,
        description: stringOr(attribute.AttributeDescription, 'N/A'),
      });
    }
  }
  metrics.overall_score = !anyFindings ? 100 : denominator > 0 ? round2((numerator / denominator) * 100) : 0;
  for (const [section, sum] of sections) metrics.section_scores[section] = sum.denominator > 0 ? round2((sum.numerator / sum.denominator) * 100) : 100;
  metrics.critical_requirements.sort((a, b) => b.risk_level - a.risk_level || b.weight - a.weight);
  return metrics;
}

function integer(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : 0;
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
