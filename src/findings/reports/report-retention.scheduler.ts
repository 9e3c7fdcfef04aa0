import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JOB_DEFINITIONS, JobData } from '../../tasks/jobs/job-definitions';
import { TASK_BACKOFF } from '../../tasks/jobs/retry-backoff';
import { QueueRegistry, REDIS_CALL_TIMEOUT_MS, withTimeout } from '../../tasks/queue/queue-registry';
import { WORKERS_ENABLED } from '../../tasks/worker/workers-enabled';

const JOB = 'scan-report-retention';
export const REPORT_RETENTION_SCHEDULER_ID = 'scan-report-retention:daily';
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The retention job's daily BullMQ job scheduler, upserted (by its fixed id,
 * so once across all workers) whenever a process that runs the processors
 * starts. It belongs to no tenant, so it is not written through a tenant's
 * outbox; a start with Redis away logs it and the next start upserts it.
 */
@Injectable()
export class ReportRetentionScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('ReportRetentionScheduler');

  constructor(
    private readonly queues: QueueRegistry,
    @Inject(WORKERS_ENABLED) private readonly enabled: boolean,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    // No tenant: the retention handler never opens a tenant transaction, and the tenant wrapper would refuse this job.
    const data: JobData<typeof JOB> = { tenantId: '', taskId: null, args: {} };
    const definition = JOB_DEFINITIONS[JOB];
    try {
      await withTimeout(
        this.queues.get(definition.queue).upsertJobScheduler(REPORT_RETENTION_SCHEDULER_ID, { every: DAY_MS }, {
          name: JOB,
          data,
          opts: { attempts: definition.attempts, backoff: { type: TASK_BACKOFF } },
        }),
        REDIS_CALL_TIMEOUT_MS,
      );
    } catch (error) {
      this.logger.warn(`could not schedule report retention: ${(error as Error).message}`);
    }
  }
}
