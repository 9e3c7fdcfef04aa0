import { ReportFinding, ReportScan } from './report-findings';

const SEVERITY_IDS: Record<string, number> = { informational: 1, low: 2, medium: 3, high: 4, critical: 5 };
/** OCSF StatusID: 1 New, 3 Suppressed (how Prowler marks a muted finding). */
const STATUS_NEW = 1;
const STATUS_SUPPRESSED = 3;

/**
 * A stored finding as an OCSF 1.4 Detection Finding in the shape of
 * Prowler's json-ocsf output, rebuilt from the columns the API keeps (the
 * fields the importer reads, so a report can be imported again).
 */
export function ocsfFinding(finding: ReportFinding, scan: ReportScan): Record<string, unknown> {
  const time = new Date(finding.inserted_at);
  const severity = finding.severity.charAt(0).toUpperCase() + finding.severity.slice(1);
  return {
    message: finding.status_extended ?? '',
    metadata: {
      event_code: finding.check_id,
      product: { name: 'Prowler', uid: 'prowler', vendor_name: 'Prowler' },
      profiles: ['cloud', 'datetime'],
      version: '1.4.0',
    },
    severity_id: SEVERITY_IDS[finding.severity] ?? 0,
    severity,
    status: finding.muted ? 'Suppressed' : 'New',
    status_code: finding.status,
    status_detail: finding.status_extended ?? '',
    status_id: finding.muted ? STATUS_SUPPRESSED : STATUS_NEW,
    unmapped: { compliance: finding.compliance ?? {} },
    activity_name: 'Create',
    activity_id: 1,
    finding_info: {
      created_time: Math.floor(time.getTime() / 1000),
      created_time_dt: time.toISOString(),
      title: finding.check_title,
      uid: finding.uid,
    },
    resources: [
      {
        region: finding.region,
        group: { name: finding.service },
        type: finding.resource_type,
        uid: finding.resource_uid,
      },
    ],
    category_name: 'Findings',
    category_uid: 2,
    class_name: 'Detection Finding',
    class_uid: 2004,
    cloud: { account: { uid: scan.provider_uid, name: scan.provider_alias ?? '' }, provider: scan.provider_type, region: finding.region },
    time: Math.floor(time.getTime() / 1000),
    time_dt: time.toISOString(),
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
  };
}
