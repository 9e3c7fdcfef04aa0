import { Injectable, Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { runWithContext } from '../../database/tenant-context';
import { TenantDatabase } from '../../database/tenant-database';
import { JOB_DEFINITIONS, JobData, JobName } from '../jobs/job-definitions';
import { CANCEL_REASON, TimeLimitExceededError } from '../jobs/job-errors';
import { JobRuntime } from '../jobs/job-context';
import { TasksRepository } from '../tasks.repository';
import { logJobFailure } from './job-failure-log';
import { JobHandlerRegistry } from './job-handler-registry';

const logger = new Logger('JobRunner');

/**
 * Runs one BullMQ job through its handler under the job's time limits: at
 * the soft limit the body's AbortSignal fires; at the hard limit the job
 * fails and the worker takes the next one, whatever the body still does.
 */
@Injectable()
export class JobRunner {
  constructor(
    private readonly registry: JobHandlerRegistry,
    private readonly database: TenantDatabase,
    private readonly tasks: TasksRepository,
  ) {}

  async run(job: Job<JobData>, token: string | undefined, lockSignal?: AbortSignal): Promise<unknown> {
    const handler = this.registry.handlerFor(job.name);
    if (!handler) throw new UnrecoverableError(`No handler for job '${job.name}' in this worker.`);
    const { softMs, hardMs } = JOB_DEFINITIONS[job.name as JobName].timeLimit;

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
      signal: lockSignal ? AbortSignal.any([lockSignal, own.signal]) : own.signal,
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
      return await runWithContext({}, () => handler.processor(job.data, runtime));
    } catch (error) {
      logJobFailure(logger, job, error);
      throw error;
    } finally {
      clearTimeout(softTimer);
      clearTimeout(hardTimer);
    }
  }
}
