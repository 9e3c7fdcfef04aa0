import { join } from 'node:path';
import { rows } from '../../../database/sql';
import { scanBounds } from '../../overviews/scan-aggregation';
import { CHECK_COUNTS_SQL } from '../../compliance/check-counts-sql';
import { ProviderFrameworks } from '../../compliance/frameworks/framework-catalog';
import { CheckRegionCounts, checkTotals, evaluateFramework } from '../../compliance/frameworks/requirement-evaluation';
import { computeThreatScore } from '../../threatscore/threatscore-metrics';
import { ReportScan, ReportSource } from '../report-findings';
import { writeComplianceExports } from './compliance-exports';
import { writeCompliancePdf } from './compliance-pdf';
import { complianceFiles, PDF_REPORT_KINDS, pdfFramework, PdfReportKind } from './compliance-report-files';

/** One compliance report: a framework's CSV or OCSF export, or a PDF kind. */
export type ComplianceArtifact = { format: 'csv' | 'ocsf'; complianceId: string } | { format: 'pdf'; kind: PdfReportKind };

/**
 * Writes a scan's compliance reports into `folder`: every framework's CSV
 * (and OCSF where offered) and the PDFs whose frameworks are loaded, or only
 * `only`. Figures come from the framework definitions and the scan's own
 * findings (read through `source`, so a caller's row filter rules apply),
 * never from the compliance job's output, which may not have run yet.
 * Returns the file names written.
 */
export async function buildComplianceReports(
  folder: string,
  scan: ReportScan,
  frameworks: ProviderFrameworks,
  source: ReportSource,
  only?: ComplianceArtifact,
): Promise<string[]> {
  const written: string[] = [];
  const all = [...frameworks.values()];
  if (!only || only.format !== 'pdf') {
    const exportOnly = only ? { complianceId: only.complianceId, format: only.format } : undefined;
    await writeComplianceExports(folder, scan, all, source, exportOnly);
    for (const framework of all) {
      if (!exportOnly || (exportOnly.complianceId === framework.complianceId && exportOnly.format === 'csv')) written.push(complianceFiles.csv(framework));
      if (framework.ocsfExport && (!exportOnly || (exportOnly.complianceId === framework.complianceId && exportOnly.format === 'ocsf'))) written.push(complianceFiles.ocsf(framework));
    }
  }
  if (!only || only.format === 'pdf') {
    const kinds = only && only.format === 'pdf' ? [only.kind] : PDF_REPORT_KINDS;
    const totals = checkTotals(await scanCheckCounts(source, scan.id));
    for (const kind of kinds) {
      source.signal?.throwIfAborted();
      const framework = pdfFramework(kind, frameworks);
      if (!framework) continue;
      const threatScore = kind === 'threatscore' ? computeThreatScore(framework, totals) : null;
      await writeCompliancePdf(join(folder, complianceFiles.pdf(kind)), { kind, framework, scan, requirements: evaluateFramework(framework, totals), threatScore });
      written.push(complianceFiles.pdf(kind));
    }
  }
  return written;
}

/** The scan's unmuted PASS and FAIL findings per check and region, straight from its findings. */
function scanCheckCounts(source: ReportSource, scanId: string): Promise<CheckRegionCounts[]> {
  return source.inTenant(async (manager) => {
    const bounds = await scanBounds(manager, scanId);
    if (!bounds) return [];
    const predicate = await source.predicateAt(3);
    return rows<CheckRegionCounts>(
      manager,
      `SELECT f.check_id, f.region, ${CHECK_COUNTS_SQL}
         FROM findings f
        WHERE f.scan_id = $1 AND f.id >= $2::uuid AND f.id < $3::uuid ${predicate ? `AND (${predicate.sql})` : ''}
        GROUP BY f.check_id, f.region`,
      [...bounds, ...(predicate?.params ?? [])],
    );
  });
}
