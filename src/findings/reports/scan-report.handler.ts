import { Injectable } from '@nestjs/common';
import { tenantManager } from '../../database/tenant-context';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { JobOutcomeError } from '../../tasks/jobs/job-errors';
import { TenantJobContext } from '../../tasks/jobs/job-context';
import { JobHandler } from '../../tasks/jobs/job-handler.decorator';
import { ProviderJob } from '../../tasks/jobs/provider-job.wrapper';
import { TenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { FrameworkCatalog } from '../compliance/frameworks/framework-catalog';
import { buildComplianceReports } from './compliance/compliance-reports-builder';
import { reportScan, ReportSource } from './report-findings';
import { ReportStorage } from './report-storage';
import { writeScanReport } from './scan-report-writer';

/**
 * The `scan-reports` queue's job after each scan: the tenant-wide report,
 * every finding of the scan, then, where the provider type's framework
 * definitions are loaded, the compliance reports (CSV and OCSF per
 * framework, the CIS, CSA, ENS, NIS2 and ThreatScore PDFs). Each page is its
 * own short transaction (the provider checked live at each), so a large scan
 * holds no connection for the whole write; files appear only once complete.
 */
@JobHandler('scan-report')
@Injectable()
export class ScanReportHandler {
  constructor(
    private readonly storage: ReportStorage,
    private readonly catalog: FrameworkCatalog,
  ) {}

  @TenantJob({ transaction: 'step', keepTenant: true })
  @ProviderJob()
  async process({ scanId, tenantId }: JobArguments['scan-report'] & { tenantId: string }, context: TenantJobContext): Promise<unknown> {
    const scan = await context.inTenant(() => reportScan(tenantManager(), scanId));
    if (!scan) throw new JobOutcomeError('scan_missing', 'The scan was removed.');
    const source: ReportSource = { inTenant: (fn) => context.inTenant(fn), predicateAt: async () => null, signal: context.signal };
    const path = await this.storage.workingPath();
    let findings: number;
    try {
      findings = await writeScanReport(path, scan, source);
      await this.storage.publish(path, tenantId, scanId);
    } catch (error) {
      await this.storage.discard(path);
      throw error;
    }
    const frameworks = this.catalog.frameworksOf(scan.provider_type);
    if (!frameworks) return { findings, compliance_reports: 0 };
    const folder = await this.storage.workingFolder();
    try {
      const files = await buildComplianceReports(folder, scan, frameworks, source);
      await this.storage.publishCompliance(folder, tenantId, scanId);
      return { findings, compliance_reports: files.length };
    } catch (error) {
      await this.storage.discardFolder(folder);
      throw error;
    }
  }
}
