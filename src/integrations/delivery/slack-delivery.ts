import { ReportScan, severityCounts, SeverityCount } from '../../findings/reports/report-findings';
import { SlackTarget } from '../targets/slack-target';
import { DeliveryRun, DeliverySummary } from './delivery-run';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'] as const;
const MESSAGE_PART = 'message';

export interface ScanSummary {
  pass: number;
  fail: number;
  muted: number;
  failBySeverity: Record<(typeof SEVERITIES)[number], number>;
}

/** Counts for the message: failed findings by severity (muted ones apart), as the overview counts them. */
export function summarise(counts: readonly SeverityCount[]): ScanSummary {
  const summary: ScanSummary = { pass: 0, fail: 0, muted: 0, failBySeverity: { critical: 0, high: 0, medium: 0, low: 0, informational: 0 } };
  for (const count of counts) {
    if (count.muted) summary.muted += count.findings;
    else if (count.status === 'PASS') summary.pass += count.findings;
    else if (count.status === 'FAIL') {
      summary.fail += count.findings;
      const severity = count.severity as keyof ScanSummary['failBySeverity'];
      if (severity in summary.failBySeverity) summary.failBySeverity[severity] += count.findings;
    }
  }
  return summary;
}

export function slackMessage(scan: ReportScan, summary: ScanSummary, scanUrl: string): { text: string; blocks: unknown[] } {
  const provider = `${scan.provider_type} ${scan.provider_alias ? `${scan.provider_alias} (${scan.provider_uid})` : scan.provider_uid}`;
  const text = `Prowler scan of ${provider} completed: ${summary.fail} failed, ${summary.pass} passed, ${summary.muted} muted.`;
  const severities = SEVERITIES.map((severity) => `*${severity[0].toUpperCase()}${severity.slice(1)}:* ${summary.failBySeverity[severity]}`).join('   ');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*Prowler scan completed* for ${provider}` } },
      { type: 'section', text: { type: 'mrkdwn', text: `Failed findings by severity: ${severities}` } },
      { type: 'section', text: { type: 'mrkdwn', text: `${summary.fail} failed, ${summary.pass} passed, ${summary.muted} muted. <${scanUrl}|View the scan>` } },
    ],
  };
}

/** One summary message per scan: once posted it is noted, and a retry never posts it again. */
export async function deliverToSlack(run: DeliveryRun, target: SlackTarget, apiBaseUrl: string): Promise<DeliverySummary> {
  if (run.alreadySent.has(MESSAGE_PART)) return { messages: 0, already_posted: 1 };
  const summary = summarise(await severityCounts({ inTenant: run.inTenant, predicateAt: async () => null, signal: run.signal }, run.scan.id));
  const message = slackMessage(run.scan, summary, `${apiBaseUrl}/api/v1/scans/${run.scan.id}`);
  await target.post(message.text, message.blocks, run.signal);
  await run.markSent(MESSAGE_PART);
  return { messages: 1, failed_findings: summary.fail };
}
