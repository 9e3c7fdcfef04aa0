import { Injectable } from '@nestjs/common';
import { tenantManager } from '../../database/tenant-context';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { JobHandler, JobHandlerInstance } from '../../tasks/jobs/job-handler.decorator';
import { providerJob } from '../../tasks/jobs/provider-job.wrapper';
import { tenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { aggregateScanCompliance } from './compliance-aggregation';

/** The `compliance` queue's job after each scan: one transaction, so readers see the old figures or the new ones. */
@JobHandler('scan-compliance')
@Injectable()
export class ScanComplianceHandler implements JobHandlerInstance<'scan-compliance'> {
  readonly processor = tenantJob<JobArguments['scan-compliance'], unknown>(
    providerJob(async ({ scanId }, context) =>
      context.inTenant(async () => ({ requirement_rows: await aggregateScanCompliance(tenantManager(), scanId) })),
    ),
  );
}
