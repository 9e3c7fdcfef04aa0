import { Inject, Injectable } from '@nestjs/common';
import { ScanExecution } from '../../scans/execution/scan-execution.service';
import { JobArguments } from '../jobs/job-definitions';
import { TenantJobContext } from '../jobs/job-context';
import { JobHandler } from '../jobs/job-handler.decorator';
import { ProviderJob } from '../jobs/provider-job.wrapper';
import { TenantJob } from '../jobs/tenant-job.wrapper';
import { SCAN_ENGINE, ScanEngine } from '../scans/scan-engine';

/** Percent of the progress bar the engine's own run stands for; ingesting its output fills the rest. */
const ENGINE_SHARE = 50;

/**
 * Runs a scan through the engine port, then stores the engine's OCSF output
 * as an import would; manual and scheduled scans alike arrive here (see ScanStarter).
 */
@JobHandler('scan-perform')
@Injectable()
export class ScanPerformHandler {
  constructor(
    @Inject(SCAN_ENGINE) private readonly engine: ScanEngine,
    private readonly execution: ScanExecution,
  ) {}

  @TenantJob({ transaction: 'step' })
  @ProviderJob()
  async process({ scanId, providerId }: JobArguments['scan-perform'], context: TenantJobContext): Promise<unknown> {
    return this.execution.exclusively(scanId, context, async () => {
      const scan = await this.execution.begin(scanId, context);
      if (scan === 'completed') return { scan_id: scanId, note: 'the scan had already been stored' };
      const output = await this.engine.run(scan, {
        signal: context.signal,
        progress: (percent) => context.progress(Math.min(ENGINE_SHARE, percent)),
        credentials: () => this.execution.credentials(providerId, context),
      });
      try {
        return await this.execution.ingestFile(scan, output.ocsfFile, context, ENGINE_SHARE);
      } finally {
        await output.dispose();
      }
    });
  }
}
