import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { TenantDatabase } from '../../database/tenant-database';
import { JOB_DEFINITIONS, JobData, JobName } from '../jobs/job-definitions';
import { TASK_BACKOFF } from '../jobs/retry-backoff';
import { queueNamespace } from '../queue/bullmq-connection';
import { QueueRegistry, REDIS_CALL_TIMEOUT_MS, withTimeout } from '../queue/queue-registry';
import { QueueName } from '../queue-names';
import { TasksRepository } from '../tasks.repository';
import { WORKERS_ENABLED } from './workers-enabled';
import { PeriodicPass } from './periodic-pass';

interface UnfinishedTask {
  id: string;
  tenant_id: string;
  name: string;
  queue: QueueName;
  state: 'available' | 'scheduled' | 'executing';
  task_args: unknown;
  /** As text: a JavaScript Date would drop the microseconds the conditional update compares. */
  updated_at: string;
}

const SWEEP_BATCH = 200;

/**
 * Settles task rows that BullMQ can no longer settle. Stalled-job recovery
 * re-runs a job whose worker died; but a job that stalled too often is
 * failed by BullMQ without any processor writing the task row, and a job
 * lost with Redis data never runs. Every TASK_SWEEP_INTERVAL_MS, unfinished
 * tasks untouched for a lock duration are compared with their jobs:
 * executing with no live job ends failed (`worker_lost`, its scan too);
 * waiting with no job and no outbox row is handed to BullMQ again.
 *
 * A named cross-tenant read as the owner role (of its own queue namespace
 * only); every write goes through the task's own tenant transaction.
 */
@Injectable()
export class StaleTaskSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('StaleTaskSweeper');
  private readonly periodic = new PeriodicPass(this.logger, () => this.sweep());

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WORKERS_ENABLED) private readonly enabled: boolean,
    private readonly database: TenantDatabase,
    private readonly queues: QueueRegistry,
    private readonly tasks: TasksRepository,
  ) {}

  onApplicationBootstrap(): void {
    // A worker without the owner role leaves the sweep to the workers that have it.
    if (this.enabled && this.database.hasOwnerRole) this.periodic.start(this.config.tasks.sweepIntervalMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass; answers how many tasks it settled. */
  async sweep(): Promise<number> {
    const candidates = await this.database.adminQuery<UnfinishedTask>(
      `SELECT t.id, t.tenant_id, t.name, t.queue, t.state, t.task_args, t.updated_at::text AS updated_at FROM tasks t
        WHERE t.queue_namespace = $1 AND t.state IN ('available', 'scheduled', 'executing')
          AND t.updated_at < now() - $2::int * interval '1 millisecond'
          AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.job_id = t.id::text)
        ORDER BY t.updated_at LIMIT ${SWEEP_BATCH}`,
      [queueNamespace(this.config), this.config.tasks.lockDurationMs],
    );
    let settled = 0;
    for (const task of candidates) {
      const queue = this.queues.get(task.queue);
      const jobState = await withTimeout(queue.getJobState(task.id), REDIS_CALL_TIMEOUT_MS);
      if (jobState === 'unknown' && task.state !== 'executing') {
        await this.requeue(task);
        settled++;
      } else if (jobState === 'unknown' || jobState === 'failed' || jobState === 'completed') {
        const failedReason = jobState === 'failed' ? (await queue.getJob(task.id))?.failedReason : undefined;
        const ended = await this.database.transaction(task.tenant_id, () =>
          this.tasks.finish(
            task.id,
            'failed',
            { outcome: 'worker_lost', error: `The worker running this task stopped and its job ${failedReason ? `failed (${failedReason})` : 'is gone'}.` },
            task.updated_at,
          ),
        );
        if (ended) settled++;
      }
    }
    if (settled > 0) this.logger.warn(`settled ${settled} stale task(s)`);
    return settled;
  }

  /** A task whose job Redis lost: the same job again, under the same id (the processor refuses it if it finished meanwhile). */
  private async requeue(task: UnfinishedTask): Promise<void> {
    const definition = JOB_DEFINITIONS[task.name as JobName];
    if (!definition) return;
    const data: JobData = { tenantId: task.tenant_id, taskId: task.id, args: task.task_args as never };
    await withTimeout(
      this.queues.get(task.queue).add(task.name, data, { jobId: task.id, attempts: definition.attempts, backoff: { type: TASK_BACKOFF } }),
      REDIS_CALL_TIMEOUT_MS,
    );
    this.logger.warn(`task ${task.id} had no job; handed it to BullMQ again`);
  }
}
