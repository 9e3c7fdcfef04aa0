import { BeforeApplicationShutdown, FactoryProvider, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { TaskCancelBus } from '../cancel/task-cancel-bus';
import { CANCEL_REASON, SHUTDOWN_REASON } from '../jobs/job-errors';
import { QUEUE_NAMES } from '../queue-names';
import { processorToken, QueueProcessor } from './queue-processor';

/**
 * The jobs this process's queue processors are running: a cancel message
 * signals the one it names, and SIGTERM stops taking jobs, lets running ones
 * finish, and after WORKER_SHUTDOWN_GRACE_MS signals the rest, which hand
 * themselves back to the queue (no attempt used) for another worker.
 */
export class RunningJobs implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RunningJobs');

  constructor(
    private readonly config: AppConfig,
    private readonly processors: QueueProcessor[],
    private readonly cancelBus: TaskCancelBus,
  ) {}

  onApplicationBootstrap(): void {
    if (this.processors.length === 0) return;
    this.cancelBus.subscribe((taskId) => this.cancel(taskId));
    this.logger.log(`processing ${this.processors.map((processor) => processor.queue).join(', ')}`);
  }

  /** Signals the job if it runs in this process; other processes hear the same message. */
  cancel(taskId: string): boolean {
    return this.processors.some((processor) => processor.worker.cancelJob(taskId, CANCEL_REASON));
  }

  /** Before @nestjs/bullmq closes the workers at shutdown, which would wait for every running job however long. */
  async beforeApplicationShutdown(): Promise<void> {
    const workers = this.processors.map((processor) => processor.worker);
    if (workers.length === 0) return;
    const closing = Promise.all(workers.map((worker) => worker.close()));
    const finished = await Promise.race([closing.then(() => true), sleep(this.config.tasks.shutdownGraceMs).then(() => false)]);
    if (!finished) {
      this.logger.warn('handing running jobs back to the queue');
      for (const worker of workers) worker.cancelAllJobs(SHUTDOWN_REASON);
      await closing;
    }
  }
}

export const runningJobsProvider: FactoryProvider = {
  provide: RunningJobs,
  inject: [APP_CONFIG, TaskCancelBus, ...QUEUE_NAMES.map(processorToken)],
  useFactory: (config: AppConfig, cancelBus: TaskCancelBus, ...processors: Array<QueueProcessor | null>) =>
    new RunningJobs(config, processors.filter((processor): processor is QueueProcessor => processor !== null), cancelBus),
};
