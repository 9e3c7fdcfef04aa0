import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { FindingPartitionsService } from '../../findings/storage/finding-partitions.service';
import { JobEnvelope } from '../jobs/job-context';
import { JOB_DEFINITIONS, JobArguments, JobData } from '../jobs/job-definitions';
import { JobHandler, JobHandlerInstance } from '../jobs/job-handler.decorator';
import { TASK_BACKOFF } from '../jobs/retry-backoff';
import { QueueRegistry, REDIS_CALL_TIMEOUT_MS, withTimeout } from '../queue/queue-registry';
import { WORKERS_ENABLED } from '../worker/workers-enabled';

const JOB = 'finding-partitions';
/** One scheduler id for the whole deployment: every worker upserts the same one. */
export const FINDING_PARTITIONS_SCHEDULER_ID = 'finding-partitions:daily';
export const FINDING_PARTITIONS_EVERY_MS = 24 * 60 * 60 * 1000;
const RETRY_INSTALL_MS = 60 * 1000;

/**
 * Keeps the current and the next months' partitions of findings and
 * resource_finding_links created, once a day, the first time as soon as a
 * worker installs the schedule (BullMQ runs an `every` scheduler's first job
 * at once). Ingestion still creates a month's partitions when a scan of that
 * month arrives; this job makes sure they exist before then, so no scan
 * waits on DDL at a month's turn.
 *
 * A system job: it reads no tenant's data, and refuses an envelope naming a
 * tenant. Its only database access is the partition service's owner-role
 * DDL transaction.
 */
@JobHandler(JOB)
@Injectable()
export class FindingPartitionsHandler implements JobHandlerInstance<typeof JOB>, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('FindingPartitions');
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly partitions: FindingPartitionsService,
    private readonly queues: QueueRegistry,
    @Inject(WORKERS_ENABLED) private readonly enabled: boolean,
  ) {}

  async process(data: JobEnvelope<JobArguments[typeof JOB]>): Promise<unknown> {
    if (data.tenantId !== '') throw new UnrecoverableError('The partition job acts for no tenant; a job naming one was refused.');
    return { created: await this.partitions.ensureUpcoming() };
  }

  onApplicationBootstrap(): void {
    if (this.enabled) void this.installScheduler();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  /** Upserts the scheduler; while Redis is away, tries again every minute. */
  private async installScheduler(): Promise<void> {
    const data: JobData<typeof JOB> = { tenantId: '', taskId: null, args: {} };
    try {
      await withTimeout(
        this.queues.get(JOB_DEFINITIONS[JOB].queue).upsertJobScheduler(
          FINDING_PARTITIONS_SCHEDULER_ID,
          { every: FINDING_PARTITIONS_EVERY_MS },
          { name: JOB, data, opts: { attempts: JOB_DEFINITIONS[JOB].attempts, backoff: { type: TASK_BACKOFF } } },
        ),
        REDIS_CALL_TIMEOUT_MS,
      );
    } catch (error) {
      if (this.stopped) return;
      this.logger.warn(`could not install the partition scheduler (${(error as Error).message}); trying again in a minute`);
      this.retryTimer = setTimeout(() => void this.installScheduler(), RETRY_INSTALL_MS);
      this.retryTimer.unref();
    }
  }
}
