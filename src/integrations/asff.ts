import { createHash } from 'node:crypto';
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import type { ReportFinding } from '../findings/reports/report-findings';

/** A finding as Security Hub receives it: the columns of a report's findings it maps. */
export type AsffSource = Pick<
  ReportFinding,
  'uid' | 'check_id' | 'check_title' | 'status' | 'status_extended' | 'severity' | 'muted' | 'region' | 'resource_type' | 'resource_uid' | 'compliance'
>;

export type RecordState = 'ACTIVE' | 'ARCHIVED';

const DEFAULT_REGION = 'us-east-1';

/** Prowler's status mapping: muted findings are WARNING (Security Hub has no "muted"), MANUAL is NOT_AVAILABLE. */
export function asffStatus(status: string, muted: boolean): 'PASSED' | 'FAILED' | 'WARNING' | 'NOT_AVAILABLE' {
  if (muted) return 'WARNING';
  if (status === 'PASS') return 'PASSED';
  if (status === 'FAIL') return 'FAILED';
  return 'NOT_AVAILABLE';
}

/** The partition an account's ARNs live in, from the region's prefix. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function findingRegion(finding: Pick<AsffSource, 'region'>): string {
  return finding.region && finding.region !== 'global' ? finding.region : DEFAULT_REGION;
}

/**
 * Prowler's finding id for Security Hub: check, account, region and a hash
 * of the resource. It must stay exactly this, so a finding updates the
 * same Security Hub record scan after scan (and an archive finds it).
 */
export function asffId(finding: Pick<AsffSource, 'check_id' | 'resource_uid'>, accountId: string, region: string): string {
  return `prowler-${finding.check_id}-${accountId}-${region}-${createHash('sha512').update(finding.resource_uid).digest('hex')}`;
}

/** Prowler's compliance summary: up to 20 standards, each "<framework> <requirements…>" cut to 63 characters past 64. */
function compliance(mapping: Record<string, string[]>): { AssociatedStandards: Array<{ StandardsId: string }>; RelatedRequirements: string[] } {
  const entries = Object.entries(mapping ?? {}).slice(0, 20);
  return {
    AssociatedStandards: entries.map(([framework]) => ({ StandardsId: framework })),
    RelatedRequirements: entries.map(([framework, requirements]) => {
      const item = `${framework} ${requirements.join(' ')}`;
      return item.length > 64 ? item.slice(0, 63) : item;
    }),
  };
}

/** One finding in the AWS Security Finding Format, as Prowler's ASFF output builds it. */
export function toAsff(finding: AsffSource, accountId: string, observedAt: Date, recordState: RecordState): AwsSecurityFinding {
  const region = findingRegion(finding);
  const partition = partitionOf(region);
  const timestamp = observedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const description = finding.status_extended ?? '';
  return {
    SchemaVersion: '2018-10-08',
    Id: asffId(finding, accountId, region),
    ProductArn: `arn:${partition}:securityhub:${region}::product/prowler/prowler`,
    ProductFields: { ProviderName: 'Prowler', ProwlerResourceName: finding.resource_uid },
    GeneratorId: `prowler-${finding.check_id}`,
    AwsAccountId: accountId,
    Types: ['Software and Configuration Checks'],
    FirstObservedAt: timestamp,
    UpdatedAt: timestamp,
    CreatedAt: timestamp,
    Severity: { Label: finding.severity.toUpperCase() as 'CRITICAL' },
    Title: finding.check_title || finding.check_id,
    Description: description.length > 1000 ? `${description.slice(0, 1000)}...` : description || finding.check_id,
    Resources: [{ Id: finding.resource_uid || finding.uid, Type: finding.resource_type || 'Other', Partition: partition as 'aws', Region: region }],
    Compliance: { Status: asffStatus(finding.status, finding.muted), ...compliance(finding.compliance) },
    RecordState: recordState,
  };
}
