import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Worker } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { TaskCancelBus } from '../cancel/task-cancel-bus';
import { JobData } from '../jobs/job-definitions';
import { CANCEL_REASON, SHUTDOWN_REASON } from '../jobs/job-errors';
import { taskBackoffStrategy } from '../jobs/retry-backoff';
import { queueNamespace, workerConnection } from '../queue/bullmq-connection';
import { JobHandlerRegistry } from './job-handler-registry';
import { JobRunner } from './job-runner';

export const WORKERS_ENABLED = Symbol('WORKERS_ENABLED');

const DAY_SECONDS = 24 * 60 * 60;

/**
 * One BullMQ Worker per queue that has handlers here, each with its queue's
 * concurrency. A job whose worker died (SIGKILL) loses its lock after
 * JOB_LOCK_DURATION_MS and is handed to another worker by BullMQ's stalled
 * check; the task row is the durable record, so finished jobs are pruned.
 */
@Injectable()
export class QueueWorkers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('QueueWorkers');
  private readonly workers: Worker[] = [];
  private lastErrorLog = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WORKERS_ENABLED) private readonly enabled: boolean,
    private readonly registry: JobHandlerRegistry,
    private readonly runner: JobRunner,
    private readonly cancelBus: TaskCancelBus,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    const tasks = this.config.tasks;
    for (const queue of this.registry.queuesInUse()) {
      const worker = new Worker<JobData>(queue, (job: Job<JobData>, token?: string, signal?: AbortSignal) => this.runner.run(job, token, signal), {
        connection: workerConnection(this.config),
        prefix: queueNamespace(this.config),
        concurrency: tasks.concurrency[queue],
        lockDuration: tasks.lockDurationMs,
        stalledInterval: tasks.stalledIntervalMs,
        maxStalledCount: tasks.maxStalledCount,
        settings: { backoffStrategy: taskBackoffStrategy(tasks.retryBaseDelayMs, tasks.retryMaxDelayMs) },
        removeOnComplete: { age: DAY_SECONDS, count: 10000 },
        removeOnFail: { age: 7 * DAY_SECONDS },
      });
      worker.on('error', (error) => this.logThrottled(error));
      this.workers.push(worker);
    }
    this.cancelBus.subscribe((taskId) => this.cancel(taskId));
    this.logger.log(`processing ${this.registry.queuesInUse().join(', ')}`);
  }

  /** Signals the job if it runs in this process; other processes hear the same message. */
  cancel(taskId: string): boolean {
    return this.workers.some((worker) => worker.cancelJob(taskId, CANCEL_REASON));
  }

  /**
   * SIGTERM: stop taking jobs and let running ones finish; after
   * WORKER_SHUTDOWN_GRACE_MS the rest are signalled and handed back to the
   * queue (no attempt used) for another worker.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.workers.length === 0) return;
    const closing = Promise.all(this.workers.map((worker) => worker.close()));
    const finished = await Promise.race([closing.then(() => true), sleep(this.config.tasks.shutdownGraceMs).then(() => false)]);
    if (!finished) {
      this.logger.warn('handing running jobs back to the queue');
      for (const worker of this.workers) worker.cancelAllJobs(SHUTDOWN_REASON);
      await closing;
    }
    this.workers.length = 0;
  }

  private logThrottled(error: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10000) return;
    this.lastErrorLog = now;
    this.logger.warn(`Redis (workers): ${error.message}`);
  }
}
