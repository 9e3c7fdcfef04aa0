import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { forEachFindingPage, ReportFinding } from '../../findings/reports/report-findings';
import { findingRegion, RecordState, toAsff } from '../asff';
import { SecurityHubConfiguration } from '../integration-types';
import { SECURITY_HUB_BATCH, SecurityHubTarget } from '../targets/security-hub-target';
import { DeliveryRun, DeliverySummary } from './delivery-run';

/**
 * Which record a finding becomes, as Prowler sends them: FAIL findings
 * active; a PASS that was FAIL in the provider's previous scan (delta
 * `changed`) archived, so Security Hub stops showing the fixed problem;
 * other PASS findings active unless `send_only_fails`; MANUAL never (not a
 * Security Hub status).
 */
export function recordStateOf(finding: Pick<ReportFinding, 'status' | 'delta'>, configuration: SecurityHubConfiguration): RecordState | null {
  if (finding.status === 'FAIL') return 'ACTIVE';
  if (finding.status !== 'PASS') return null;
  if (finding.delta === 'changed') return 'ARCHIVED';
  return configuration.send_only_fails ? null : 'ACTIVE';
}

/**
 * Sends the scan's findings in batches of 100 per region. The findings are
 * read in id order, so the batches come out the same on every attempt: a
 * retry skips the batches an earlier attempt had sent (`<region>:<n>`).
 */
export async function deliverToSecurityHub(run: DeliveryRun, target: SecurityHubTarget): Promise<DeliverySummary> {
  const configuration = run.integration.configuration as unknown as SecurityHubConfiguration;
  const accountId = run.scan.provider_uid;
  const observedAt = run.scan.completed_at ?? run.scan.started_at ?? new Date();
  const pending = new Map<string, AwsSecurityFinding[]>();
  const batchesPerRegion = new Map<string, number>();
  const summary = { sent: 0, archived: 0, batches: 0, already_sent_batches: 0 };

  const flush = async (region: string) => {
    const batch = pending.get(region) ?? [];
    if (batch.length === 0) return;
    pending.set(region, []);
    const number = (batchesPerRegion.get(region) ?? 0) + 1;
    batchesPerRegion.set(region, number);
    const part = `${region}:${number}`;
    if (run.alreadySent.has(part)) {
      summary.already_sent_batches++;
      return;
    }
    await target.import(region, batch, run.signal);
    await run.markSent(part);
    summary.batches++;
    for (const finding of batch) {
      if (finding.RecordState === 'ARCHIVED') summary.archived++;
      else summary.sent++;
    }
  };

  await forEachFindingPage({ inTenant: run.inTenant, predicateAt: async () => null, signal: run.signal }, run.scan.id, async (page) => {
    for (const finding of page) {
      const state = recordStateOf(finding, configuration);
      if (!state) continue;
      const region = findingRegion(finding);
      const batch = pending.get(region) ?? [];
      batch.push(toAsff(finding, accountId, observedAt, state));
      pending.set(region, batch);
      if (batch.length >= SECURITY_HUB_BATCH) await flush(region);
    }
  });
  for (const region of [...pending.keys()].sort()) await flush(region);
  return summary;
}
