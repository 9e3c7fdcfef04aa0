import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { JobHandler, JobHandlerInstance } from '../../tasks/jobs/job-handler.decorator';
import { ReportStorage } from './report-storage';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Removes report files older than REPORT_RETENTION_DAYS. It touches files
 * only, never tenant rows, so it runs outside any tenant transaction and
 * without the tenant wrapper (its job names no tenant).
 */
@JobHandler('scan-report-retention')
@Injectable()
export class ReportRetentionHandler implements JobHandlerInstance<'scan-report-retention'> {
  constructor(
    private readonly storage: ReportStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async process(): Promise<unknown> {
    const cutoff = new Date(Date.now() - this.config.reports.retentionDays * DAY_MS);
    return { removed: await this.storage.removeOlderThan(cutoff) };
  }
}
