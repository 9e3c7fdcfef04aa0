import { Injectable } from '@nestjs/common';
import { tenantManager } from '../../database/tenant-context';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { JobOutcomeError } from '../../tasks/jobs/job-errors';
import { TenantJobContext } from '../../tasks/jobs/job-context';
import { JobHandler } from '../../tasks/jobs/job-handler.decorator';
import { ProviderJob } from '../../tasks/jobs/provider-job.wrapper';
import { TenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { reportScan } from './report-findings';
import { ReportStorage } from './report-storage';
import { writeScanReport } from './scan-report-writer';

/**
 * The `scan-reports` queue's job after each scan: the tenant-wide report,
 * every finding of the scan. Each page is its own short transaction (the
 * provider checked live at each), so a large scan holds no connection for
 * the whole write; the zip appears only once complete.
 */
@JobHandler('scan-report')
@Injectable()
export class ScanReportHandler {
  constructor(private readonly storage: ReportStorage) {}

  @TenantJob({ transaction: 'step', keepTenant: true })
  @ProviderJob()
  async process({ scanId, tenantId }: JobArguments['scan-report'] & { tenantId: string }, context: TenantJobContext): Promise<unknown> {
    const scan = await context.inTenant(() => reportScan(tenantManager(), scanId));
    if (!scan) throw new JobOutcomeError('scan_missing', 'The scan was removed.');
    const path = await this.storage.workingPath();
    try {
      const findings = await writeScanReport(path, scan, {
        inTenant: (fn) => context.inTenant(fn),
        predicateAt: async () => null,
        signal: context.signal,
      });
      await this.storage.publish(path, tenantId, scanId);
      return { findings };
    } catch (error) {
      await this.storage.discard(path);
      throw error;
    }
  }
}
