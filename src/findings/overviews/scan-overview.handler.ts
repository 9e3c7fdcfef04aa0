import { Injectable } from '@nestjs/common';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { TenantJobContext } from '../../tasks/jobs/job-context';
import { JobHandler } from '../../tasks/jobs/job-handler.decorator';
import { ProviderJob } from '../../tasks/jobs/provider-job.wrapper';
import { TenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { aggregateScan } from './scan-aggregation';

/**
 * A completed scan's overview summaries (a step of AFTER_SCAN_WORKFLOW):
 * aggregateScan replaces earlier rows, so a retry or a second run is harmless.
 */
@JobHandler('scan-overview')
@Injectable()
export class ScanOverviewHandler {
  @TenantJob()
  @ProviderJob()
  process({ scanId }: JobArguments['scan-overview'], context: TenantJobContext): Promise<unknown> {
    return context.inTenant(async (manager) => {
      await aggregateScan(manager, scanId);
      return { scan_id: scanId };
    });
  }
}
