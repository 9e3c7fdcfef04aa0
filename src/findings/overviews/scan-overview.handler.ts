import { Injectable } from '@nestjs/common';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { JobHandler, JobHandlerInstance } from '../../tasks/jobs/job-handler.decorator';
import { providerJob } from '../../tasks/jobs/provider-job.wrapper';
import { tenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { aggregateScan } from './scan-aggregation';

/**
 * A completed scan's overview summaries (an AFTER_SCAN_JOBS follow-up):
 * aggregateScan replaces earlier rows, so a retry or a second run is harmless.
 */
@JobHandler('scan-overview')
@Injectable()
export class ScanOverviewHandler implements JobHandlerInstance<'scan-overview'> {
  readonly processor = tenantJob<JobArguments['scan-overview'], unknown>(
    providerJob(async ({ scanId }, context) =>
      context.inTenant(async (manager) => {
        await aggregateScan(manager, scanId);
        return { scan_id: scanId };
      }),
    ),
  );
}
