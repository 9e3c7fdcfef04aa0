import { Injectable } from '@nestjs/common';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { TenantJobContext } from '../../tasks/jobs/job-context';
import { JobHandler } from '../../tasks/jobs/job-handler.decorator';
import { ProviderJob } from '../../tasks/jobs/provider-job.wrapper';
import { TenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { threatScoreFramework } from '../threatscore/threatscore-metrics';
import { writeThreatScoreSnapshot } from '../threatscore/threatscore-snapshot-writer';
import { aggregateScanCompliance } from './compliance-aggregation';
import { FrameworkCatalog } from './frameworks/framework-catalog';

/**
 * The `compliance` queue's job after each scan: the scan's compliance
 * figures and, where a ThreatScore framework is loaded for the provider
 * type, its ThreatScore snapshot. One transaction, so readers see the old
 * figures or the new ones.
 */
@JobHandler('scan-compliance')
@Injectable()
export class ScanComplianceHandler {
  constructor(private readonly catalog: FrameworkCatalog) {}

  @TenantJob()
  @ProviderJob()
  process({ scanId, providerId }: JobArguments['scan-compliance'], context: TenantJobContext): Promise<unknown> {
    return context.inTenant(async () => {
      const manager = tenantManager();
      const [provider] = await rows<{ provider: string }>(manager, `SELECT provider FROM providers WHERE id = $1`, [providerId]);
      const frameworks = provider ? this.catalog.frameworksOf(provider.provider) : null;
      const written = await aggregateScanCompliance(manager, scanId);
      const threatScore = threatScoreFramework(frameworks);
      const snapshot = threatScore ? await writeThreatScoreSnapshot(manager, scanId, providerId, threatScore) : null;
      return { ...written, threatscore_snapshot: snapshot };
    });
  }
}
