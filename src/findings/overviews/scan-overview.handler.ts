import { Injectable } from '@nestjs/common';
import { rows } from '../../database/sql';
import { FindingPartitionsService } from '../storage/finding-partitions.service';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { TenantJobContext } from '../../tasks/jobs/job-context';
import { JobHandler } from '../../tasks/jobs/job-handler.decorator';
import { ProviderJob } from '../../tasks/jobs/provider-job.wrapper';
import { TenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { aggregateScan } from './scan-aggregation';

/**
 * A completed scan's overview summaries (a step of AFTER_SCAN_WORKFLOW):
 * aggregateScan replaces earlier rows, so a retry or a second run is harmless.
 * The scan's month partitions are analyzed first when the scan outgrew their
 * statistics (FindingPartitionsService.analyzeOutgrown).
 */
@JobHandler('scan-overview')
@Injectable()
export class ScanOverviewHandler {
  constructor(private readonly partitions: FindingPartitionsService) {}

  @TenantJob()
  @ProviderJob()
  async process({ scanId }: JobArguments['scan-overview'], context: TenantJobContext): Promise<unknown> {
    const [published] = await context.inTenant((manager) => rows<{ started_at: Date }>(manager, `SELECT started_at FROM scan_ingestions WHERE scan_id = $1`, [scanId]));
    if (published) await this.partitions.analyzeOutgrown(published.started_at);
    return context.inTenant(async (manager) => {
      await aggregateScan(manager, scanId);
      return { scan_id: scanId };
    });
  }
}
