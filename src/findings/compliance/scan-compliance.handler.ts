import { Injectable } from '@nestjs/common';
import { tenantManager } from '../../database/tenant-context';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { TenantJobContext } from '../../tasks/jobs/job-context';
import { JobHandler } from '../../tasks/jobs/job-handler.decorator';
import { ProviderJob } from '../../tasks/jobs/provider-job.wrapper';
import { TenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { aggregateScanCompliance } from './compliance-aggregation';

/** The `compliance` queue's job after each scan: one transaction, so readers see the old figures or the new ones. */
@JobHandler('scan-compliance')
@Injectable()
export class ScanComplianceHandler {
  @TenantJob()
  @ProviderJob()
  process({ scanId }: JobArguments['scan-compliance'], context: TenantJobContext): Promise<unknown> {
    return context.inTenant(async () => ({ requirement_rows: await aggregateScanCompliance(tenantManager(), scanId) }));
  }
}
