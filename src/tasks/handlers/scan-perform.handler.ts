import { Inject, Injectable } from '@nestjs/common';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { JobArguments } from '../jobs/job-definitions';
import { JobOutcomeError } from '../jobs/job-errors';
import { JobHandler, JobHandlerInstance } from '../jobs/job-handler.decorator';
import { providerJob } from '../jobs/provider-job.wrapper';
import { tenantJob } from '../jobs/tenant-job.wrapper';
import { SCAN_ENGINE, ScanEngine } from '../scans/scan-engine';

/** Runs a scan through the engine port; manual and scheduled scans alike arrive here (see ScanStarter). */
@JobHandler('scan-perform')
@Injectable()
export class ScanPerformHandler implements JobHandlerInstance<'scan-perform'> {
  constructor(@Inject(SCAN_ENGINE) private readonly engine: ScanEngine) {}

  readonly processor = tenantJob<JobArguments['scan-perform'], unknown>(
    providerJob(async ({ scanId, providerId }, context) => {
      const [target] = await context.inTenant(() =>
        rows<{ provider: string; uid: string }>(
          tenantManager(),
          `WITH started AS (
             UPDATE scans SET state = 'executing', started_at = COALESCE(started_at, now()), updated_at = now()
              WHERE id = $1 AND state IN ('available', 'scheduled', 'executing') RETURNING provider_id
           )
           SELECT p.provider, p.uid FROM started JOIN providers p ON p.id = started.provider_id`,
          [scanId],
        ),
      );
      if (!target) throw new JobOutcomeError('scan_missing', 'The scan was removed or had already ended.');
      const summary = await this.engine.run(
        { scanId, providerId, provider: target.provider, uid: target.uid },
        { signal: context.signal, progress: (percent) => context.progress(percent) },
      );
      await context.inTenant(() =>
        tenantManager().query(`UPDATE scans SET unique_resource_count = $2, updated_at = now() WHERE id = $1`, [scanId, summary.unique_resource_count]),
      );
      return summary;
    }),
    { transaction: 'step' },
  );
}
