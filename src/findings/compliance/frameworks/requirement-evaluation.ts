import { RequirementStatus } from '../compliance-framework';
import { FrameworkDefinition, RequirementDefinition } from './framework-definition';

/** Unmuted PASS and FAIL findings of one check in one region (what Prowler's compliance counts). */
export interface CheckRegionCounts {
  check_id: string;
  region: string;
  pass: number;
  fail: number;
}

/** The findings of each check, summed over the regions read. */
export type CheckTotals = ReadonlyMap<string, { pass: number; fail: number }>;

export function checkTotals(rows: ReadonlyArray<Pick<CheckRegionCounts, 'check_id' | 'pass' | 'fail'>>): Map<string, { pass: number; fail: number }> {
  const totals = new Map<string, { pass: number; fail: number }>();
  for (const row of rows) {
    const sum = totals.get(row.check_id) ?? { pass: 0, fail: 0 };
    sum.pass += row.pass;
    sum.fail += row.fail;
    totals.set(row.check_id, sum);
  }
  return totals;
}

export interface EvaluatedRequirement {
  requirement: RequirementDefinition;
  status: RequirementStatus;
  passedFindings: number;
  totalFindings: number;
}

/**
 * Prowler's rule for a requirement: without checks it needs a manual check;
 * with checks it fails when any of its checks has a failing (unmuted)
 * finding, in any region read, and passes otherwise, also when none of its
 * checks produced a finding.
 */
export function evaluateRequirement(requirement: RequirementDefinition, totals: CheckTotals): EvaluatedRequirement {
  let passedFindings = 0;
  let totalFindings = 0;
  for (const check of requirement.checks) {
    const counts = totals.get(check);
    if (!counts) continue;
    passedFindings += counts.pass;
    totalFindings += counts.pass + counts.fail;
  }
  const status: RequirementStatus = requirement.checks.length === 0 ? 'MANUAL' : passedFindings < totalFindings ? 'FAIL' : 'PASS';
  return { requirement, status, passedFindings, totalFindings };
}

export function evaluateFramework(framework: FrameworkDefinition, totals: CheckTotals): EvaluatedRequirement[] {
  return framework.requirements.map((requirement) => evaluateRequirement(requirement, totals));
}

/**
 * One requirement read for several provider types (a universal framework
 * over AWS and Azure scans): failing anywhere fails it; it passes only when
 * it passes everywhere; otherwise it is manual, as Prowler combines regions.
 */
export function combineStatuses(statuses: readonly RequirementStatus[]): RequirementStatus {
  if (statuses.includes('FAIL')) return 'FAIL';
  return statuses.every((s) => s === 'PASS') ? 'PASS' : 'MANUAL';
}

export function statusCounts(statuses: Iterable<RequirementStatus>): { passed: number; failed: number; manual: number; total: number } {
  const counts = { passed: 0, failed: 0, manual: 0, total: 0 };
  for (const status of statuses) {
    counts.total++;
    if (status === 'PASS') counts.passed++;
    else if (status === 'FAIL') counts.failed++;
    else counts.manual++;
  }
  return counts;
}
