import { FactoryProvider, Logger, OnApplicationShutdown } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError, WaitingError, WorkerOptions } from 'bullmq';
import { performance } from 'node:perf_hooks';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { runWithContext } from '../../database/tenant-context';
import { TenantDatabase } from '../../database/tenant-database';
import { Metrics } from '../../metrics/metrics';
import { JOB_DEFINITIONS, JobData, JobName } from '../jobs/job-definitions';
import { CANCEL_REASON, JobOutcomeError, TimeLimitExceededError } from '../jobs/job-errors';
import { JobRuntime } from '../jobs/job-context';
import { taskBackoffStrategy } from '../jobs/retry-backoff';
import { closeOpenedConnection, queueNamespace, workerConnection } from '../queue/bullmq-connection';
import { QUEUE_NAMES, QueueName } from '../queue-names';
import { TasksRepository } from '../tasks.repository';
import { logJobFailure } from './job-failure-log';
import { JobHandlerRegistry } from './job-handler-registry';
import { WORKERS_ENABLED } from './workers-enabled';

const DAY_SECONDS = 24 * 60 * 60;

/**
 * The processor of one queue. @nestjs/bullmq runs a BullMQ Worker for it with
 * the queue's concurrency; `process` hands each job to the handler of its
 * name under the job's time limits: at the soft limit the body's AbortSignal
 * fires; at the hard limit the job fails and the worker takes the next one,
 * whatever the body still does. A job whose worker died (SIGKILL) loses its
 * lock after JOB_LOCK_DURATION_MS and BullMQ's stalled check hands it to
 * another worker; the task row is the durable record, so finished jobs are pruned.
 */
export abstract class QueueProcessor extends WorkerHost implements OnApplicationShutdown {
  private readonly logger = new Logger(`QueueProcessor`);
  private lastErrorLog = 0;

  constructor(
    readonly queue: QueueName,
    private readonly registry: JobHandlerRegistry,
    private readonly database: TenantDatabase,
    private readonly tasks: TasksRepository,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  /** Three parameters: BullMQ passes the job's AbortSignal (cancel, lost lock) only to a function that declares it. */
  async process(job: Job<JobData>, token?: string, signal?: AbortSignal): Promise<unknown> {
    const processor = this.registry.processorFor(job.name);
    if (!processor) throw new UnrecoverableError(`No handler for job '${job.name}' in this worker.`);
    const { softMs, hardMs } = JOB_DEFINITIONS[job.name as JobName].timeLimit;

    const startedAt = performance.now();
    let outcome = 'completed';
    const own = new AbortController();
    let pastHardLimit = false;
    const softTimer = setTimeout(() => own.abort(new TimeLimitExceededError('soft', softMs)), softMs);
    let hardTimer: NodeJS.Timeout | undefined;
    const hardLimit = new Promise<never>((_, reject) => {
      hardTimer = setTimeout(() => {
        pastHardLimit = true;
        const error = new TimeLimitExceededError('hard', hardMs);
        own.abort(error);
        reject(error);
      }, hardMs);
    });
    hardLimit.catch(() => undefined);

    const runtime: JobRuntime = {
      database: this.database,
      tasks: this.tasks,
      jobId: String(job.id),
      signal: signal ? AbortSignal.any([signal, own.signal]) : own.signal,
      hardLimit,
      pastHardLimit: () => pastHardLimit,
      attempt: job.attemptsMade + 1,
      finalAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      cancel: () => own.abort(CANCEL_REASON),
      handBack: async () => {
        await job.moveToWait(token);
      },
    };
    try {
      // A fresh context: nothing of whatever ran before on this worker reaches the job.
      return await runWithContext({}, () => processor(job.data, runtime));
    } catch (error) {
      outcome = outcomeOf(error, runtime);
      logJobFailure(this.logger, job, error);
      throw error;
    } finally {
      clearTimeout(softTimer);
      clearTimeout(hardTimer);
      this.metrics.observeJob(this.queue, job.name, outcome, (performance.now() - startedAt) / 1000);
    }
  }

  /**
   * On a cluster the worker's connection is a client this process opened, which BullMQ leaves
   * open; it is closed once the worker is (close is idempotent: @nestjs/bullmq closes it too).
   */
  async onApplicationShutdown(): Promise<void> {
    const worker = this.processingWorker();
    if (!worker) return;
    await worker.close();
    await closeOpenedConnection(worker.opts.connection);
  }

  /** The BullMQ worker, unless @nestjs/bullmq never started one (a failed start). */
  private processingWorker() {
    try {
      return this.worker;
    } catch {
      return undefined;
    }
  }

  /** While Redis is away every reconnect attempt errors; one line every ten seconds is enough. */
  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10000) return;
    this.lastErrorLog = now;
    this.logger.warn(`Redis (${this.queue} worker): ${error.message}`);
  }
}

/** The job_duration_seconds outcome of a job that threw: a JobOutcomeError's own name, else what BullMQ will do with it. */
function outcomeOf(error: unknown, runtime: JobRuntime): string {
  if (error instanceof WaitingError) return 'handed_back';
  if (runtime.signal.reason === CANCEL_REASON) return 'cancelled';
  if (error instanceof JobOutcomeError) return error.outcome;
  return error instanceof UnrecoverableError || runtime.finalAttempt ? 'failed' : 'retrying';
}

/** This process's settings for the worker of `queue`. */
function workerOptions(config: AppConfig, queue: QueueName): Partial<WorkerOptions> {
  const tasks = config.tasks;
  return {
    connection: workerConnection(config),
    prefix: queueNamespace(config),
    concurrency: tasks.concurrency[queue],
    lockDuration: tasks.lockDurationMs,
    stalledInterval: tasks.stalledIntervalMs,
    maxStalledCount: tasks.maxStalledCount,
    settings: { backoffStrategy: taskBackoffStrategy(tasks.retryBaseDelayMs, tasks.retryMaxDelayMs) },
    removeOnComplete: { age: DAY_SECONDS, count: 10000 },
    removeOnFail: { age: 7 * DAY_SECONDS },
  };
}

export const processorToken = (queue: QueueName) => `QueueProcessor:${queue}`;

/**
 * One processor per queue, or none when this process does not run workers
 * (WORKERS_ENABLED false) or WORKER_QUEUES leaves the queue out: a null
 * provider is no processor to @nestjs/bullmq.
 * @Processor's worker options are class metadata, and BullExplorer reads
 * them from the instance's class: each processor gets a class of its own
 * carrying the settings of this process's configuration.
 */
export const QUEUE_PROCESSORS: FactoryProvider[] = QUEUE_NAMES.map((queue) => ({
  provide: processorToken(queue),
  inject: [APP_CONFIG, WORKERS_ENABLED, JobHandlerRegistry, TenantDatabase, TasksRepository, Metrics],
  useFactory: (config: AppConfig, enabled: boolean, registry: JobHandlerRegistry, database: TenantDatabase, tasks: TasksRepository, metrics: Metrics) => {
    if (!enabled || !config.workers.queues.includes(queue)) return null;
    @Processor(queue, workerOptions(config, queue))
    class ConfiguredQueueProcessor extends QueueProcessor {}
    return new ConfiguredQueueProcessor(queue, registry, database, tasks, metrics);
  },
}));
