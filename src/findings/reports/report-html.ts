import { ReportFinding, ReportScan, SeverityCount } from './report-findings';
import { SEVERITY_COLOURS, severityChartSvg } from './severity-chart';

const STYLE = `
  body { font-family: sans-serif; margin: 2rem; color: #212529; }
  h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
  table { border-collapse: collapse; font-size: 0.85rem; }
  th, td { border: 1px solid #dee2e6; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
  th { background: #f1f3f5; }
  .FAIL { color: #c92a2a; font-weight: bold; } .PASS { color: #2b8a3e; } .MANUAL { color: #5f3dc4; }
  .muted { color: #868e96; }`;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The page up to the findings table: the scan, its totals and the severity chart. */
export function htmlHead(scan: ReportScan, counts: readonly SeverityCount[]): string {
  const total = counts.reduce((sum, c) => sum + c.findings, 0);
  const sumOf = (keep: (c: SeverityCount) => boolean) => counts.filter(keep).reduce((sum, c) => sum + c.findings, 0);
  const failedBySeverity = new Map<string, number>();
  for (const c of counts) {
    if (c.status === 'FAIL' && !c.muted) failedBySeverity.set(c.severity, (failedBySeverity.get(c.severity) ?? 0) + c.findings);
  }
  const title = `Scan report: ${scan.provider_type} ${scan.provider_uid}${scan.provider_alias ? ` (${scan.provider_alias})` : ''}`;
  const facts: Array<[string, string]> = [
    ['Scan', `${scan.name ?? ''} ${scan.id}`.trim()],
    ['State', scan.state],
    ['Started', scan.started_at ? new Date(scan.started_at).toISOString() : ''],
    ['Completed', scan.completed_at ? new Date(scan.completed_at).toISOString() : ''],
    ['Findings', String(total)],
    ['Failed', String(sumOf((c) => c.status === 'FAIL' && !c.muted))],
    ['Passed', String(sumOf((c) => c.status === 'PASS' && !c.muted))],
    ['Manual', String(sumOf((c) => c.status === 'MANUAL' && !c.muted))],
    ['Muted', String(sumOf((c) => c.muted))],
  ];
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>\n` +
    `<h1>${escapeHtml(title)}</h1>\n<table>${facts.map(([k, v]) => `<tr><th>${k}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>\n` +
    `<h2>Failed findings by severity</h2>\n${severityChartSvg(failedBySeverity)}\n` +
    `<table><tr><th>Severity</th>${SEVERITY_COLOURS.map(([s]) => `<th>${s}</th>`).join('')}</tr>` +
    `<tr><td>Failed</td>${SEVERITY_COLOURS.map(([s]) => `<td>${failedBySeverity.get(s) ?? 0}</td>`).join('')}</tr></table>\n` +
    `<h2>Findings</h2>\n<table><thead><tr><th>Status</th><th>Severity</th><th>Check</th><th>Service</th><th>Region</th><th>Resource</th><th>Detail</th></tr></thead><tbody>\n`
  );
}

export function htmlRow(finding: ReportFinding): string {
  const status = finding.muted ? `<span class="muted">${finding.status} (muted)</span>` : `<span class="${finding.status}">${finding.status}</span>`;
  const cells = [
    status,
    escapeHtml(finding.severity),
    `${escapeHtml(finding.check_id)}<br>${escapeHtml(finding.check_title)}`,
    escapeHtml(finding.service),
    escapeHtml(finding.region),
    escapeHtml(finding.resource_uid),
    escapeHtml(finding.status_extended ?? ''),
  ];
  return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>\n`;
}

export function htmlTail(): string {
  return '</tbody></table>\n</body></html>\n';
}
