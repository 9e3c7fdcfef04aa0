/**
 * How a framework key of a finding's compliance mapping (Prowler writes keys
 * such as `CIS-2.0`, `ISO27001-2013`, `ENS-RD2022`, `SOC2`) reads in the
 * API: Prowler's compliance ids are the key in lower case with `_` between
 * words, suffixed with the provider type (`cis_2.0_aws`); the version is the
 * last dash-separated part when it holds a digit.
 */
export interface FrameworkName {
  complianceId: string;
  framework: string;
  version: string;
}

export function frameworkName(key: string, providerType: string): FrameworkName {
  const complianceId = `${key.toLowerCase().replace(/[^a-z0-9.]+/g, '_')}_${providerType}`;
  const versioned = /^(.+)-([^-]*\d[^-]*)$/.exec(key);
  return versioned ? { complianceId, framework: versioned[1], version: versioned[2] } : { complianceId, framework: key, version: '' };
}

export type RequirementStatus = 'PASS' | 'FAIL' | 'MANUAL';

export interface RequirementCounts {
  pass: number;
  fail: number;
  manual: number;
  muted: number;
  total: number;
}

/**
 * A requirement fails when any of its (unmuted) findings fails, in any
 * region; passes when some pass and none fail; otherwise (only manual or only
 * muted findings) it needs a manual check.
 */
export function requirementStatus(counts: RequirementCounts): RequirementStatus {
  if (counts.fail > 0) return 'FAIL';
  if (counts.pass > 0) return 'PASS';
  return 'MANUAL';
}
