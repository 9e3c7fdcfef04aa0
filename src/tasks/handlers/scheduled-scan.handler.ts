import { Injectable } from '@nestjs/common';
import { afterCommit } from '../../database/tenant-context';
import { JobArguments } from '../jobs/job-definitions';
import { TenantJobContext } from '../jobs/job-context';
import { JobHandler } from '../jobs/job-handler.decorator';
import { TenantJob } from '../jobs/tenant-job.wrapper';
import { QueueRegistry } from '../queue/queue-registry';
import { ScanStarter } from '../scans/scan-starter';
import { dailySchedulerId, DailySchedulesService } from '../schedules/daily-schedules.service';

/**
 * A tick of a provider's daily BullMQ job scheduler: starts a scan exactly as
 * a manual request would. The schedule row is its authority, and it goes
 * when the provider is deleted: a tick that finds none removes its stale
 * scheduler instead of scanning. The scan's ids derive from the tick's job
 * id, so a tick that runs twice starts one scan.
 */
@JobHandler('scan-perform-scheduled')
@Injectable()
export class ScheduledScanHandler {
  constructor(
    private readonly schedules: DailySchedulesService,
    private readonly scans: ScanStarter,
    private readonly queues: QueueRegistry,
  ) {}

  @TenantJob()
  process({ providerId }: JobArguments['scan-perform-scheduled'], context: TenantJobContext): Promise<unknown> {
    return context.inTenant(async () => {
      if (!(await this.schedules.exists(providerId))) {
        afterCommit(() => this.queues.get('scans').removeJobScheduler(dailySchedulerId(providerId)).then(() => undefined));
        return { skipped: 'the schedule no longer exists' };
      }
      const task = await this.scans.start(providerId, 'scheduled', 'Daily scheduled scan', `tick:${context.jobId}`);
      return { scan_task_id: task.id };
    });
  }
}
