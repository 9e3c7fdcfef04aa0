import { ReportFinding, ReportScan } from './report-findings';

/** Prowler's CSV output separates columns with ';' and names them in upper case; this follows both. */
const SEPARATOR = ';';

const COLUMNS: Array<[string, (f: ReportFinding, s: ReportScan) => string]> = [
  ['FINDING_UID', (f) => f.uid],
  ['PROVIDER', (_, s) => s.provider_type],
  ['ACCOUNT_UID', (_, s) => s.provider_uid],
  ['ACCOUNT_NAME', (_, s) => s.provider_alias ?? ''],
  ['SCAN_ID', (_, s) => s.id],
  ['CHECK_ID', (f) => f.check_id],
  ['CHECK_TITLE', (f) => f.check_title],
  ['STATUS', (f) => f.status],
  ['STATUS_EXTENDED', (f) => f.status_extended ?? ''],
  ['MUTED', (f) => String(f.muted)],
  ['MUTED_REASON', (f) => f.muted_reason ?? ''],
  ['SEVERITY', (f) => f.severity],
  ['SERVICE_NAME', (f) => f.service],
  ['REGION', (f) => f.region],
  ['RESOURCE_TYPE', (f) => f.resource_type],
  ['RESOURCE_UID', (f) => f.resource_uid],
  ['DELTA', (f) => f.delta ?? ''],
  ['FIRST_SEEN_AT', (f) => new Date(f.first_seen_at).toISOString()],
  ['TIMESTAMP', (f) => new Date(f.inserted_at).toISOString()],
  ['COMPLIANCE', (f) => complianceText(f.compliance)],
];

export function csvHeader(): string {
  return `${COLUMNS.map(([name]) => name).join(SEPARATOR)}\r\n`;
}

export function csvRow(finding: ReportFinding, scan: ReportScan): string {
  return `${COLUMNS.map(([, value]) => csvCell(value(finding, scan))).join(SEPARATOR)}\r\n`;
}

/** `CIS-2.0: 1.1, 1.2 | SOC2: cc_1` as Prowler writes it. */
function complianceText(compliance: Record<string, string[]>): string {
  return Object.entries(compliance ?? {})
    .map(([framework, requirements]) => `${framework}: ${requirements.join(', ')}`)
    .join(' | ');
}

/**
 * RFC 4180 quoting. A cell that a spreadsheet would run as a formula (cloud
 * resource names and tags are anyone's text) is prefixed with a quote mark.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[";\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
