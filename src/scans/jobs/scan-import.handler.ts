import { Injectable } from '@nestjs/common';
import { JobArguments } from '../../tasks/jobs/job-definitions';
import { CANCEL_REASON, JobOutcomeError } from '../../tasks/jobs/job-errors';
import { TenantJobContext } from '../../tasks/jobs/job-context';
import { JobHandler } from '../../tasks/jobs/job-handler.decorator';
import { ProviderJob } from '../../tasks/jobs/provider-job.wrapper';
import { TenantJob } from '../../tasks/jobs/tenant-job.wrapper';
import { ScanExecution } from '../execution/scan-execution.service';
import { ScanSpool } from '../spool/scan-spool';

/**
 * An imported scan: the uploaded OCSF file, waiting in the spool, becomes
 * the scan's findings. The upload is deleted once it has served: after
 * success, after a failure that no retry can change (a bad file) and
 * after a cancel. After a transient failure, or a worker handing the job
 * back at shutdown, it stays for the next attempt.
 */
@JobHandler('scan-import')
@Injectable()
export class ScanImportHandler {
  constructor(
    private readonly execution: ScanExecution,
    private readonly spool: ScanSpool,
  ) {}

  @TenantJob({ transaction: 'step' })
  @ProviderJob()
  async process({ scanId, uploadId }: JobArguments['scan-import'], context: TenantJobContext): Promise<unknown> {
    return this.execution.exclusively(scanId, context, async () => {
      const scan = await this.execution.begin(scanId, context);
      if (scan === 'completed') {
        await this.spool.remove(uploadId);
        return { scan_id: scanId, note: 'the scan had already been stored' };
      }
      if (!(await this.spool.exists(uploadId))) {
        throw new JobOutcomeError('upload_missing', 'The uploaded file is no longer in the import spool (SCAN_SPOOL_DIR); upload it again.');
      }
      try {
        const result = await this.execution.ingestFile(scan, this.spool.uploadPath(uploadId), context);
        await this.spool.remove(uploadId);
        return result;
      } catch (error) {
        if (error instanceof JobOutcomeError || context.signal.reason === CANCEL_REASON) await this.spool.remove(uploadId);
        throw error;
      }
    });
  }
}
